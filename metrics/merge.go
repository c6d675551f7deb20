package metrics

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/platform/resultcache"
	"github.com/learnhub/analytics-service/timerange"
)

// A window that reaches today is answered in two parts when its metric is
// additive: the closed days [From, cut), whose events change only when a
// late event arrives, and today [cut, To), which every commit notice
// changes. cut is the start of today in the request's zone. Each part is
// cached on its own (closed: resultcache.DoBefore, keyed by the version of
// the tenant's events before cut; today: resultcache.Do), so a notice for
// today's events recomputes one day and joins it to the stored closed
// days instead of the whole window.
//
// The join is exact, not an estimate, for what Split accepts: COUNT
// metrics (integer counts add exactly in float64 far beyond any tenant's
// volume) with or without dimensions, by hour, by day or as one total,
// and RATIO metrics of two COUNT metrics (the components are joined, then
// divided as the querier divides them). Every bucket of an hour or day
// grain lies in one part; a total is the sum of the parts' totals; series
// are matched by their dimension values; a top-N is ranked and folded
// after the join, as the querier ranks and folds the whole window.
//
// Not split, recomputed whole: distinct users (a user active on a closed
// day and today counts once; no additive rollup answers it), AVG (the
// Result carries the mean, not its sum and count), float SUMs (float
// addition is not associative, so closed + today can differ from the
// engine's sum in the last bits; learning_minutes is one, and a scaled
// value is rounded after the sum), comparisons, cumulative metrics,
// weekly or monthly grains, cohort conditions and deprecated metrics
// (their notices come from the whole request).

// PartKind names metric answers in the results cache: whole windows
// (metricQuery) and the parts of split windows share entries, because
// the key is the request itself.
const PartKind = "metricQuery"

// PartKey is everything a metric answer depends on besides the tenant's
// events: the request with a fixed window and the generation of the
// tenant's definitions.
type PartKey struct {
	Req Request
	Gen string
}

// Split is a request that can be answered from the closed and open parts
// of its components.
type Split struct {
	def   *Definition
	req   Request
	grain Grain
	loc   *time.Location
	// Parts are the requests whose answers over each part are joined:
	// the metric itself for a COUNT, numerator and denominator for a RATIO.
	Parts []Request
	eval  func([]*float64) *float64
}

// Cut is where a window's closed part ends: the start of the day holding
// now in loc, when it lies strictly inside the window.
func Cut(rng timerange.Range, now time.Time, loc *time.Location) (time.Time, bool) {
	cut := timerange.GrainDay.Truncate(now, loc).UTC()
	return cut, rng.From.Before(cut) && cut.Before(rng.To)
}

// NewSplit reports whether req (over the fixed window rng in loc) of
// metric def can be answered from its parts, and how. lookup finds the
// tenant's other metrics by key (for a RATIO's components).
func NewSplit(req Request, def *Definition, lookup func(key string) (*Definition, bool), rng timerange.Range, loc *time.Location) (*Split, bool) {
	grain := cmp.Or(req.Grain, def.DefaultGrain, GrainTotal)
	if req.CompareTo != "" || len(req.Cohorts) > 0 || req.CohortBreakdown != "" || !active(def) ||
		(grain != timerange.GrainDay && grain != timerange.GrainHour && grain != GrainTotal) {
		return nil, false
	}
	if _, err := timerange.Buckets(rng, grain, loc, "grain"); grain != GrainTotal && err != nil {
		return nil, false
	}
	part := func(key string) Request {
		return Request{MetricKey: key, Dimensions: req.Dimensions, Filters: req.Filters, TimeRange: req.TimeRange,
			Grain: grain, Timezone: req.Timezone}
	}
	s := &Split{def: def, req: req, grain: grain, loc: loc}
	switch def.Kind {
	case KindCount:
		p := part(def.Key)
		p.MetricID, p.MetricKey = req.MetricID, req.MetricKey
		s.Parts = []Request{p}
		s.eval = func(v []*float64) *float64 { return v[0] }
		return s, true
	case KindRatio:
		if len(def.Filters) > 0 {
			return nil, false
		}
		for _, key := range []string{def.Numerator, def.Denominator} {
			c, ok := lookup(key)
			if !ok || c.Kind != KindCount || !active(c) || !allows(c, req) {
				return nil, false
			}
			s.Parts = append(s.Parts, part(key))
		}
		s.eval = func(v []*float64) *float64 { return divide(v[0], v[1]) }
		return s, true
	}
	return nil, false
}

// active reports whether d answers without a notice.
func active(d *Definition) bool { return d.Status != StatusDeprecated && d.Sunset == nil }

// allows reports whether every dimension req groups or filters by is one
// of d's (a component must accept the request the ratio accepted).
func allows(d *Definition, req Request) bool {
	for _, p := range req.Dimensions {
		if _, ok := d.dimension(p); !ok {
			return false
		}
	}
	for _, f := range req.Filters {
		if _, ok := d.dimension(f.Dimension); !ok {
			return false
		}
	}
	return true
}

// Query answers the split request over rng, cut at cut: every part's
// closed days through c with DoBefore, its open day with Do (both under
// PartKind and PartKey with gen), loading misses with load; all parts are
// asked at once, so a loader batches them. A nil c loads every part.
// refresh recomputes the open day without serving an entry
// (resultcache.Refresh, for a live refresher woken by a notice that may
// not have moved this replica's version yet).
func (s *Split) Query(ctx context.Context, c *resultcache.Cache, tenant, gen string, rng timerange.Range, cut time.Time,
	refresh bool, load func(context.Context, Request) (*Result, error)) (*Result, error) {
	closed, open := make([]*Result, len(s.Parts)), make([]*Result, len(s.Parts))
	errs := make([]error, 2*len(s.Parts))
	g := resultcache.NewGroup(ctx)
	for i, p := range s.Parts {
		cr, or := p, p
		cr.TimeRange = timerange.Spec{From: &rng.From, To: &cut}
		or.TimeRange = timerange.Spec{From: &cut, To: &rng.To}
		g.Go(func() {
			closed[i], _, errs[2*i] = resultcache.DoBefore(ctx, c, tenant, PartKind, PartKey{Req: cr, Gen: gen}, cut,
				func(ctx context.Context) (*Result, error) { return load(ctx, cr) })
		})
		g.Go(func() {
			key, compute := PartKey{Req: or, Gen: gen}, func(ctx context.Context) (*Result, error) { return load(ctx, or) }
			if refresh {
				open[i], errs[2*i+1] = resultcache.Refresh(ctx, c, tenant, PartKind, key, compute)
				return
			}
			open[i], _, errs[2*i+1] = resultcache.Do(ctx, c, tenant, PartKind, key, compute)
		})
	}
	g.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return s.Join(closed, open, rng), nil
}

// joined is one series of a join: its dimension values and, per
// component, its values per bucket and its total.
type joined struct {
	values []string
	points [][]*float64 // bucket → component
	total  []*float64   // component
}

// Join is the answer over rng from the answers of s.Parts over the closed
// part (closed[i]) and the open part (open[i]). The parts are shared
// cache entries: Join copies what it keeps.
func (s *Split) Join(closed, open []*Result, rng timerange.Range) *Result {
	n := len(s.Parts)
	from := rng.From.In(s.loc)
	first := closed[0]
	res := &Result{Metric: s.def, Range: rng, Grain: first.Grain, Dimensions: slices.Clone(first.Dimensions),
		Series: []Series{}, Notices: []string{}, Path: first.Path}
	// The whole window's buckets are the closed part's then the open
	// part's: the cut is a day boundary in the request's zone.
	buckets := []time.Time{from}
	if s.grain != GrainTotal {
		buckets, _ = timerange.Buckets(rng, s.grain, s.loc, "grain") // NewSplit checked the count
	}
	index := make(map[int64]int, len(buckets))
	for b, at := range buckets {
		index[at.Unix()] = b
	}
	grand := make([]*float64, n)
	series := map[string]*joined{}
	var order []string
	get := func(values []string) *joined {
		key := strings.Join(values, "\x00")
		j, ok := series[key]
		if !ok {
			j = &joined{values: slices.Clone(values), points: make([][]*float64, len(buckets)), total: make([]*float64, n)}
			for b := range j.points {
				j.points[b] = make([]*float64, n)
			}
			series[key] = j
			order = append(order, key)
		}
		return j
	}
	if len(res.Dimensions) == 0 {
		get([]string{}) // one series, as the querier answers
	}
	for c := range n {
		for _, part := range []*Result{closed[c], open[c]} {
			res.SQLCount += part.SQLCount
			grand[c] = addCounts(grand[c], part.Totals.Value)
			for _, sr := range part.Series {
				j := get(sr.Values)
				j.total[c] = addCounts(j.total[c], sr.Total.Value)
				if s.grain == GrainTotal {
					j.points[0][c] = j.total[c]
					continue
				}
				for _, pt := range sr.Points {
					j.points[index[pt.Bucket.Unix()]][c] = pt.Value
				}
			}
		}
	}
	if len(res.Dimensions) > 0 {
		// A series of the whole window exists only where some component
		// counted an event; a part can list a zero series (its batch read
		// other event types too).
		order = slices.DeleteFunc(order, func(k string) bool {
			return !slices.ContainsFunc(series[k].total, func(v *float64) bool { return v != nil && *v != 0 })
		})
		order = s.rank(order, series)
		if limit := s.req.Limit; limit > 0 && len(order) > limit {
			order = s.fold(order, series, limit, len(buckets))
			order = s.rank(order, series)
		}
	}
	for _, key := range order {
		j := series[key]
		sr := Series{Values: j.values, Points: make([]Point, len(buckets)), Total: Point{Bucket: from, Value: s.eval(zeroFilled(j.total))}}
		for b, at := range buckets {
			sr.Points[b] = Point{Bucket: at, Value: s.eval(zeroFilled(j.points[b]))}
		}
		res.Series = append(res.Series, sr)
	}
	res.Totals = Point{Bucket: from, Value: s.eval(zeroFilled(grand))}
	return res
}

// rank orders series keys as the querier ranks a whole window's: by value
// (nil last) in the request's order, then by dimension values, the folded
// series last.
func (s *Split) rank(keys []string, series map[string]*joined) []string {
	vals := make(map[string]*float64, len(keys))
	for _, k := range keys {
		vals[k] = s.eval(zeroFilled(series[k].total))
	}
	return rankKeys(keys, vals, s.req.OrderBy, func(k string) bool { return isOther(series[k].values) })
}

// fold keeps the first limit ranked series and adds the components of
// the rest into one OtherBucket series, as the querier's top-N does.
func (s *Split) fold(keys []string, series map[string]*joined, limit, nbuckets int) []string {
	n := len(s.Parts)
	other := &joined{values: make([]string, len(s.req.Dimensions)), points: make([][]*float64, nbuckets), total: make([]*float64, n)}
	for i := range other.values {
		other.values[i] = OtherBucket
	}
	for b := range other.points {
		other.points[b] = make([]*float64, n)
	}
	for _, k := range keys[limit:] {
		j := series[k]
		for c := range n {
			other.total[c] = addCounts(other.total[c], j.total[c])
			for b := range nbuckets {
				other.points[b][c] = addCounts(other.points[b][c], j.points[b][c])
			}
		}
	}
	otherKey := strings.Join(other.values, "\x00")
	series[otherKey] = other
	return append(slices.Clone(keys[:limit]), otherKey)
}

// zeroFilled is v with missing counts as zero, as the querier fills a
// COUNT component's missing bucket.
func zeroFilled(v []*float64) []*float64 {
	out := make([]*float64, len(v))
	for i, x := range v {
		out[i] = x
		if x == nil {
			out[i] = new(float64)
		}
	}
	return out
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

// KeyLookup finds the caller's metrics by key through the definitions
// cache (Lookup), for NewSplit.
func (r *Registry) KeyLookup(ctx context.Context) func(key string) (*Definition, bool) {
	return func(key string) (*Definition, bool) {
		d, _, err := r.Lookup(ctx, "", key)
		return d, err == nil
	}
}
