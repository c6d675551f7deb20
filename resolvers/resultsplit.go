package resolvers

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/events"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/resultcache"
	"github.com/learnhub/analytics-service/timerange"
)

// Additive answers (event counts, COUNT metrics by hour or day) are cached
// in two parts: the closed days of the window, [From, cut), keyed by the
// version of the tenant's events before cut (resultcache.DoBefore), and
// the open day, [cut, To), keyed by the tenant's current version. cut is
// the start of today in the request's zone. An ingest notice for today's
// events then recomputes one day and adds it to the stored closed days,
// instead of the whole window; a notice whose oldest event is before cut
// (a late event for a past day, or a notice that says no time) recomputes
// both. The sum equals a computation over the whole window: counts add,
// and every bucket falls in exactly one part.

// splitAt is where a window's closed part ends: the start of the day
// holding now in loc, when it lies strictly inside the window.
func splitAt(rng timerange.Range, now time.Time, loc *time.Location) (time.Time, bool) {
	cut := timerange.GrainDay.Truncate(now, loc).UTC()
	return cut, rng.From.Before(cut) && cut.Before(rng.To)
}

// splittableMetric reports whether req's answer is the concatenation of
// its parts' buckets and the sum of their totals: a COUNT metric (integer
// counts add exactly, unlike float sums, averages or distinct users),
// one series, no comparison, buckets no longer than a day; and the whole
// window is one the querier accepts (its parts, shorter, could pass a
// bound the whole window fails).
func splittableMetric(req metrics.Request, def *metrics.Definition, rng timerange.Range, loc *time.Location) bool {
	grain := req.Grain
	if grain == "" {
		grain = def.DefaultGrain
	}
	if def.Kind != metrics.KindCount || len(req.Dimensions) > 0 || req.CompareTo != "" ||
		(grain != timerange.GrainDay && grain != timerange.GrainHour) {
		return false
	}
	_, err := timerange.Buckets(rng, grain, loc, "grain")
	return err == nil
}

// querySplitMetric answers req (window rng, zone loc, split at cut) from
// its cached closed and open parts.
func (r *Resolver) querySplitMetric(ctx context.Context, tenant, gen string, req metrics.Request, rng timerange.Range, cut time.Time, loc *time.Location) (*metrics.Result, error) {
	closedReq, openReq := req, req
	closedReq.TimeRange = timerange.Spec{From: &rng.From, To: &cut}
	openReq.TimeRange = timerange.Spec{From: &cut, To: &rng.To}
	closed, _, err := resultcache.DoBefore(ctx, r.ResultCache, tenant, "metricQuery", metricCacheKey{Req: closedReq, Gen: gen}, cut,
		func(ctx context.Context) (*metrics.Result, error) { return r.loadMetric(ctx, closedReq) })
	if err != nil {
		return nil, err
	}
	open, _, err := resultcache.Do(ctx, r.ResultCache, tenant, "metricQuery", metricCacheKey{Req: openReq, Gen: gen},
		func(ctx context.Context) (*metrics.Result, error) { return r.loadMetric(ctx, openReq) })
	if err != nil {
		return nil, err
	}
	return joinCounts(closed, open, rng, loc), nil
}

// joinCounts is the result over rng of a COUNT metric's single-series
// answers over two adjacent parts. Parts are shared cache entries: the
// join copies what it changes.
func joinCounts(closed, open *metrics.Result, rng timerange.Range, loc *time.Location) *metrics.Result {
	out := *closed
	out.Range = rng
	out.SQLCount = closed.SQLCount + open.SQLCount
	out.Notices = slices.Clone(closed.Notices)
	for _, n := range open.Notices {
		if !slices.Contains(out.Notices, n) {
			out.Notices = append(out.Notices, n)
		}
	}
	// out.Path stays the closed part's: a whole window reads its closed
	// days the same way and its open day raw, like the open part alone.
	from := rng.From.In(loc)
	out.Totals = metrics.Point{Bucket: from, Value: addCounts(closed.Totals.Value, open.Totals.Value)}
	out.Series = []metrics.Series{}
	if len(closed.Series) > 0 || len(open.Series) > 0 {
		s := metrics.Series{Values: []string{}, Total: metrics.Point{Bucket: from}}
		for _, part := range []*metrics.Result{closed, open} {
			if len(part.Series) > 0 {
				s.Points = append(s.Points, part.Series[0].Points...)
				s.Total.Value = addCounts(s.Total.Value, part.Series[0].Total.Value)
			}
		}
		out.Series = append(out.Series, s)
	}
	return &out
}

// addCounts adds two counts; nil (no value) adds nothing.
func addCounts(a, b *float64) *float64 {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	v := *a + *b
	return &v
}

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
