package resolvers

import (
	"context"
	"time"

	"github.com/learnhub/analytics-service/events"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/respcache"
	"github.com/learnhub/analytics-service/platform/resultcache"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// queryMetric answers metricQuery: the window aligned to whole buckets
// (timerange.ResolveAligned), then from the results cache when it can be
// trusted. Requests with cohort conditions are never cached: membership
// changes with each evaluation, not with ingest.
func (r *Resolver) queryMetric(ctx context.Context, req metrics.Request) (*metrics.Result, error) {
	if r.MetricRegistry == nil {
		respcache.Uncacheable(ctx, "resolvers: no metric registry")
		return r.loadMetric(ctx, req)
	}
	def, gen, err := r.MetricRegistry.Lookup(ctx, req.MetricID, req.MetricKey)
	if err != nil {
		return r.loadMetric(ctx, req) // the querier reports a missing metric as it always does
	}
	req, ok := r.alignMetricRequest(ctx, req, def)
	if !ok || gen == "" || r.ResultCache == nil || len(req.Cohorts) > 0 || req.CohortBreakdown != "" {
		respcache.Uncacheable(ctx, "resolvers: metricQuery not versioned by data")
		return r.loadMetric(ctx, req)
	}
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	if rng, loc, ok := fixedWindow(req); ok {
		if cut, ok := metrics.Cut(rng, r.now(), loc); ok {
			if split, ok := metrics.NewSplit(req, def, r.MetricRegistry.KeyLookup(ctx), rng, loc); ok {
				return split.Query(ctx, r.ResultCache, scope.Tenant(), gen, rng, cut, false, r.loadMetric)
			}
		}
	}
	res, _, err := resultcache.Do(ctx, r.ResultCache, scope.Tenant(), metrics.PartKind, metrics.PartKey{Req: req, Gen: gen},
		func(ctx context.Context) (*metrics.Result, error) { return r.loadMetric(ctx, req) })
	return res, err
}

// alignMetricRequest replaces a window ending now by the whole buckets of
// the request's grain (the metric's default grain when none is given) it
// touches. ok is false when the window cannot be read: the querier then
// reports the error as it always does.
func (r *Resolver) alignMetricRequest(ctx context.Context, req metrics.Request, def *metrics.Definition) (metrics.Request, bool) {
	if !timerange.EndsNow(req.TimeRange) {
		return req, true
	}
	unit := req.Grain
	switch unit {
	case "":
		unit = def.DefaultGrain
	case metrics.GrainTotal:
		unit = timerange.GrainNone
	}
	loc, err := timerange.Location(req.Timezone, "timezone")
	if err != nil {
		return req, false
	}
	if unit, err = timerange.ParseGrain(string(unit), "grain"); err != nil {
		return req, false
	}
	rng, err := timerange.ResolveAligned(req.TimeRange, r.now(), unit, loc, "timeRange")
	if err != nil {
		return req, false
	}
	respcache.Until(ctx, rng.To) // the window moves then
	req.TimeRange = timerange.Spec{From: &rng.From, To: &rng.To}
	return req, true
}

// fixedWindow is req's window when it is fixed (aligned, or given with
// both ends) and its zone.
func fixedWindow(req metrics.Request) (timerange.Range, *time.Location, bool) {
	spec := req.TimeRange
	if spec.From == nil || spec.To == nil || timerange.EndsNow(spec) {
		return timerange.Range{}, nil, false
	}
	loc, err := timerange.Location(req.Timezone, "timezone")
	if err != nil {
		return timerange.Range{}, nil, false
	}
	return timerange.Range{From: spec.From.UTC(), To: spec.To.UTC()}, loc, true
}

// typeCounts answers eventTypeCounts over the window aligned to the unit it
// is written in, from the results cache when there is one.
func (r *Resolver) typeCounts(ctx context.Context, spec timerange.Spec) ([]events.TypeCount, error) {
	rng, err := timerange.ResolveAligned(spec, r.now(), timerange.GrainNone, nil, "timeRange")
	if err != nil {
		return nil, err
	}
	if timerange.EndsNow(spec) {
		respcache.Until(ctx, rng.To) // the window moves then
	}
	if r.ResultCache == nil {
		respcache.Uncacheable(ctx, "resolvers: no results cache")
		return r.EventService.TypeCounts(ctx, rng)
	}
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	if cut, ok := metrics.Cut(rng, r.now(), time.UTC); ok {
		return r.typeCountsSplit(ctx, scope.Tenant(), rng, cut)
	}
	counts, _, err := resultcache.Do(ctx, r.ResultCache, scope.Tenant(), "eventTypeCounts", rng,
		func(ctx context.Context) ([]events.TypeCount, error) { return r.EventService.TypeCounts(ctx, rng) })
	return counts, err
}
