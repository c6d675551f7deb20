package metrics

import (
	"context"
	"encoding/json"
	"time"

	"github.com/learnhub/analytics-service/audit"
)

// systemActor owns the learning catalog's definitions.
const systemActor = audit.SystemActor

// auditRow is one audit_log row for a command on a metric.
func auditRow(ctx context.Context, tenant string, at time.Time, action string, before, after *Definition) []any {
	return audit.Row(ctx, tenant, at, action, "metric", after.ID, jsonOrEmpty(before), jsonOrEmpty(after))
}

// jsonOrEmpty encodes d, or "" for nil.
func jsonOrEmpty(d *Definition) string {
	if d == nil {
		return ""
	}
	b, _ := json.Marshal(d)
	return string(b)
}
