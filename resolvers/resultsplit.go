package resolvers

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/events"
	"github.com/learnhub/analytics-service/platform/resultcache"
	"github.com/learnhub/analytics-service/timerange"
)

// Additive answers (event counts here; COUNT metrics and ratios of them
// through metrics.Split, shared with dashboard widgets) are cached in two
// parts: the closed days of the window, [From, cut), keyed by the version
// of the tenant's events before cut (resultcache.DoBefore), and the open
// day, [cut, To), keyed by the tenant's current version. cut is the start
// of today in the request's zone (metrics.Cut). An ingest notice for
// today's events then recomputes one day and adds it to the stored closed
// days, instead of the whole window; a notice whose oldest event is before
// cut (a late event for a past day, or a notice that says no time)
// recomputes both. The sum equals a computation over the whole window:
// counts add, and every bucket falls in exactly one part.

// typeCountsSplit answers eventTypeCounts over rng from its cached closed
// and open parts (split at cut).
func (r *Resolver) typeCountsSplit(ctx context.Context, tenant string, rng timerange.Range, cut time.Time) ([]events.TypeCount, error) {
	closedRng, openRng := timerange.Range{From: rng.From, To: cut}, timerange.Range{From: cut, To: rng.To}
	closed, _, err := resultcache.DoBefore(ctx, r.ResultCache, tenant, "eventTypeCounts", closedRng, cut,
		func(ctx context.Context) ([]events.TypeCount, error) {
			return r.EventService.TypeCounts(ctx, closedRng)
		})
	if err != nil {
		return nil, err
	}
	open, _, err := resultcache.Do(ctx, r.ResultCache, tenant, "eventTypeCounts", openRng,
		func(ctx context.Context) ([]events.TypeCount, error) { return r.EventService.TypeCounts(ctx, openRng) })
	if err != nil {
		return nil, err
	}
	return addTypeCounts(closed, open), nil
}

// addTypeCounts adds two parts' counts per type, ordered as
// events.Service.TypeCounts orders them (count descending, then type).
func addTypeCounts(a, b []events.TypeCount) []events.TypeCount {
	byType := make(map[string]int64, len(a)+len(b))
	for _, tc := range slices.Concat(a, b) {
		byType[tc.Type] += tc.Count
	}
	out := make([]events.TypeCount, 0, len(byType))
	for t, n := range byType {
		out = append(out, events.TypeCount{Type: t, Count: n})
	}
	slices.SortFunc(out, func(x, y events.TypeCount) int {
		if x.Count != y.Count {
			return cmp.Compare(y.Count, x.Count)
		}
		return strings.Compare(x.Type, y.Type)
	})
	return out
}
