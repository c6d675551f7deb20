package dashboards

import (
	"context"
	"slices"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// UsageEntityType is the metrics.Usage entity type of a dashboard widget.
const UsageEntityType = "dashboard"

// MetricUsages implements metrics.UsageFinder: one Usage per widget that
// shows the metric with this key (EntityID is the dashboard id, Name
// "dashboard title › widget title"). tenant must be the caller's.
func (s *Service) MetricUsages(ctx context.Context, tenant, _, key string) ([]metrics.Usage, error) {
	scope, err := s.scope(ctx)
	if err != nil {
		return nil, err
	}
	if scope.Tenant() != tenant {
		return nil, errs.E("dashboards.MetricUsages", errs.KindInternal, "tenant differs from the caller's")
	}
	guard, t := scope.Predicate("")
	all, err := s.query(ctx, "SELECT definition FROM "+store.QuoteIdent(table)+" FINAL WHERE "+guard+
		" AND is_deleted = 0 ORDER BY slug", t)
	if err != nil {
		return nil, err
	}
	out := []metrics.Usage{}
	for _, d := range all {
		for _, w := range d.Widgets {
			if slices.Contains(w.MetricKeys, key) {
				out = append(out, metrics.Usage{EntityType: UsageEntityType, EntityID: d.ID, Name: d.Title + " › " + w.Title})
			}
		}
	}
	return out, nil
}
