package adhoc

import (
	"context"
	"errors"
	"log/slog"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/reqid"
	"github.com/learnhub/analytics-service/store"
)

// logRefusal writes one line for a query the caller's own input or load
// made fail: INFO for its mistakes and caps (BAD_USER_INPUT and the
// tenant's RATE_LIMITED), WARN when the process-wide cap refused it (an
// operator may need to raise ANALYTICS_ADHOC_MAX_CONCURRENT). The line
// names the engine error but never carries SQL: the query is in
// query_audit under the same request id. INTERNAL errors are logged at
// ERROR by the GraphQL edge, so they are left alone here.
func (s *Service) logRefusal(ctx context.Context, tenant string, err error) {
	kind := errs.KindOf(err)
	if err == nil || kind == errs.KindInternal {
		return
	}
	level := slog.LevelInfo
	attrs := []any{"tenant", tenant, "request_id", reqid.From(ctx), "code", kind.String(), "message", errs.PublicMessage(err)}
	for k, v := range errs.PublicFields(err) {
		attrs = append(attrs, k, v)
		if k == "reason" && v == "SERVER_BUSY" {
			level = slog.LevelWarn
		}
	}
	var ex *store.Exception
	if errors.As(err, &ex) {
		attrs = append(attrs, "engine_code", ex.Code)
	}
	s.cfg.Logger.Log(ctx, level, "ad-hoc query refused", attrs...)
}
