package dashboards

import (
	"context"
	"time"

	"github.com/learnhub/analytics-service/metrics"
)

// A widget metric whose answer is additive (metrics.NewSplit: COUNT
// metrics with or without dimensions, by hour, day or as one total, and
// ratios of them) is loaded as its closed days and today, each part
// through the results cache (metrics.Split.Query), when the render's
// window reaches today. The widget's own entry still moves with every
// commit notice, but recomputing it then reads today's events only; the
// closed days are read again only when a change reached back before
// today (a late event, an erasure, a notice without a time). Distinct
// users, averages and float sums are recomputed over the whole window.

// load answers one metric request of widget w: from its cached parts when
// it can be split, otherwise with the render's batch.
func (r *render) load(ctx context.Context, w Widget, req metrics.Request) (*metrics.Result, error) {
	if split, cut, gen, ok := r.split(ctx, w, req); ok {
		return split.Query(ctx, r.s.cfg.ResultCache, r.scope.Tenant(), gen, r.rng, cut, fresh(ctx), r.batch.Load)
	}
	return r.batch.Load(ctx, req)
}

// split is how req is answered in parts, when it can be: the results
// cache is there and trusted (a definitions generation), the widget names
// no cohorts, the window reaches today and the metric is additive.
func (r *render) split(ctx context.Context, w Widget, req metrics.Request) (*metrics.Split, time.Time, string, bool) {
	if r.s.cfg.ResultCache == nil || len(w.Cohorts) > 0 || w.CohortBreakdown != "" {
		return nil, time.Time{}, "", false
	}
	cut, ok := metrics.Cut(r.rng, r.at, r.loc)
	if !ok {
		return nil, time.Time{}, "", false
	}
	gen := r.generation(ctx, w)
	if gen == "" {
		return nil, time.Time{}, "", false
	}
	lookup := r.s.reg.KeyLookup(ctx)
	def, ok := lookup(req.MetricKey)
	if !ok {
		return nil, time.Time{}, "", false
	}
	split, ok := metrics.NewSplit(req, def, lookup, r.rng, r.loc)
	return split, cut, gen, ok
}
