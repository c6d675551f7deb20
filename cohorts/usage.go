package cohorts

import (
	"context"
	"slices"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// UsageEntityType is the metrics.Usage entity type of a cohort.
const UsageEntityType = "cohort"

// MetricUsages implements metrics.UsageFinder: one Usage per cohort of the
// caller whose criteria hold a metric condition on key, so deprecating the
// metric lists them. tenant must be the caller's.
func (s *Service) MetricUsages(ctx context.Context, tenant, _, key string) ([]metrics.Usage, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	if scope.Tenant() != tenant {
		return nil, errs.E("cohorts.MetricUsages", errs.KindInternal, "tenant differs from the caller's")
	}
	all, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	out := []metrics.Usage{}
	for _, c := range all {
		if c.Criteria == nil {
			continue
		}
		if _, keys := c.Criteria.references(); slices.Contains(keys, key) {
			out = append(out, metrics.Usage{EntityType: UsageEntityType, EntityID: c.ID, Name: c.Name})
		}
	}
	return out, nil
}
