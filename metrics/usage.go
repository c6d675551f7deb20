package metrics

import "context"

// Usage is one thing that uses a metric (a dashboard widget, a cohort, an alert).
type Usage struct {
	EntityType string // e.g. "dashboard"
	EntityID   string
	Name       string
}

// UsageFinder reports what uses a metric, so Deprecate can tell the caller
// who will be affected. Dashboards, cohorts and alerts implement it.
type UsageFinder interface {
	MetricUsages(ctx context.Context, tenant, metricID, key string) ([]Usage, error)
}

// UsageFinders asks several finders and concatenates their answers.
type UsageFinders []UsageFinder

// MetricUsages implements UsageFinder.
func (fs UsageFinders) MetricUsages(ctx context.Context, tenant, metricID, key string) ([]Usage, error) {
	out := []Usage{}
	for _, f := range fs {
		u, err := f.MetricUsages(ctx, tenant, metricID, key)
		if err != nil {
			return nil, err
		}
		out = append(out, u...)
	}
	return out, nil
}
