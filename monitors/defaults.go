package monitors

import (
	"context"
	"slices"
	"strings"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/store"
)

// defaults returns the virtual key-metric monitors of the caller's tenant:
// one per ACTIVE metric with KeyMetric set, at DAY grain (HOUR when the
// metric's default grain is HOUR), default detector and sensitivity.
func (s *Service) defaults(ctx context.Context) ([]*Monitor, error) {
	var out []*Monitor
	after := ""
	for {
		page, err := s.defs.List(ctx, metrics.ListFilter{KeyMetric: true, Status: metrics.StatusActive}, metrics.MaxPageSize, after)
		if err != nil {
			return nil, err
		}
		for _, d := range page.Metrics {
			out = append(out, defaultFor(d))
		}
		if !page.HasNext {
			return out, nil
		}
		after = page.EndCursor
	}
}

// defaultFor is the default monitor of key metric d.
func defaultFor(d *metrics.Definition) *Monitor {
	g := GrainDay
	if d.DefaultGrain == GrainHour {
		g = GrainHour
	}
	return &Monitor{ID: DefaultIDPrefix + d.Key, Name: d.Name, MetricKey: d.Key, Grain: g, Active: true, Default: true}
}

// effective merges the stored monitors with the defaults not stored (a
// tuned default is stored under its default id), ordered by id.
func (s *Service) effective(ctx context.Context, scope store.Scope) ([]*Monitor, error) {
	out, err := s.stored(ctx, scope)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, m := range out {
		have[m.ID] = true
	}
	defaults, err := s.defaults(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range defaults {
		if !have[d.ID] {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b *Monitor) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
