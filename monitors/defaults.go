package monitors

import (
	"context"
	"slices"
	"strings"

	"github.com/learnhub/analytics-service/anomaly"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/store"
)

// defaults returns the virtual key-metric monitors of the caller's tenant:
// one per ACTIVE metric with KeyMetric set, at DAY grain (HOUR when the
// metric's default grain is HOUR), the metric's default detector
// (defaultDetector) and the default sensitivity.
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
	return &Monitor{ID: DefaultIDPrefix + d.Key, Name: d.Name, MetricKey: d.Key, Grain: g, Active: true, Default: true,
		Detector: defaultDetector(d, g)}
}

// defaultDetector is the detector of a monitor on metric d at grain g that
// names none: the count detector for a COUNT metric at DAY grain (daily
// event counts are small integers whose level shifts the Gaussian models
// of the ensemble cannot see; it adds the ensemble's verdict once counts
// are large), the ensemble otherwise.
func defaultDetector(d *metrics.Definition, g metrics.Grain) string {
	if d.Kind == metrics.KindCount && g == GrainDay {
		return anomaly.CountsDetector
	}
	return anomaly.DefaultDetector
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
