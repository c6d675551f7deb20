package resolvers

import (
	"context"

	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/platform/resultcache"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// journeyKind names funnel, retention and paths answers in the results cache.
const journeyKind = "journey"

// runJourney answers funnelQuery, retentionQuery and pathsQuery: a window
// ending now is aligned to the whole buckets of the unit it is written in
// (timerange.ResolveAligned, metricQuery's rule), then the answer comes
// from the results cache (single-flight, keyed by the tenant's data
// version) when it can be trusted. Queries naming cohorts are never cached:
// membership changes with each evaluation, not with ingest. Errors name
// fields as the service's own do.
func (r *Resolver) runJourney(ctx context.Context, q journeys.Query) (*journeys.Answer, error) {
	if r.ResultCache == nil || len(q.CohortRefs("")) > 0 {
		return r.JourneyService.Run(ctx, q, "")
	}
	spec := q.TimeRange()
	if timerange.EndsNow(spec) {
		loc, err := timerange.Location(q.TimeZone(), "timeZone")
		if err != nil {
			return r.JourneyService.Run(ctx, q, "") // the service reports it as it always does
		}
		rng, err := timerange.ResolveAligned(spec, r.now(), timerange.GrainNone, loc, "timeRange")
		if err != nil {
			return r.JourneyService.Run(ctx, q, "")
		}
		q = q.Over(rng, "")
	}
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	a, _, err := resultcache.Do(ctx, r.ResultCache, scope.Tenant(), journeyKind, q,
		func(ctx context.Context) (*journeys.Answer, error) { return r.JourneyService.Run(ctx, q, "") })
	return a, err
}
