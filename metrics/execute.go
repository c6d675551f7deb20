package metrics

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// table is a group query's answer, indexed for assembly.
type table struct {
	detail map[string]map[int64][]*float64 // series key → bucket → component values
	totals map[string][]*float64           // series key → values over all buckets
	dims   map[string][]string             // series key → dimension values
	hashes map[string]uint64               // series key → cityHash64 of the values
	grand  []*float64
}

// group is a set of compatible plans answered by one SELECT (plus one for
// the comparison window, and one more for a top-N fold).
type group struct {
	plans []*plan
	comps []component
	index [][]int // plan i's component j is comps[index[i][j]]
}

// newGroup merges the plans' components, sharing identical ones.
func newGroup(plans []*plan) *group {
	g := &group{plans: plans}
	for _, p := range plans {
		idx := make([]int, len(p.comps))
		for j, c := range p.comps {
			k := slices.IndexFunc(g.comps, func(x component) bool { return x.id() == c.id() })
			if k < 0 {
				g.comps = append(g.comps, c)
				k = len(g.comps) - 1
			}
			idx[j] = k
		}
		g.index = append(g.index, idx)
	}
	return g
}

// run answers every plan of the group, listing dirty days through dirty.
func (g *group) run(ctx context.Context, db *store.DB, dirty dirtyLists) ([]*Result, error) {
	lead := g.plans[0]
	count := 0
	fetch := func(rng timerange.Range, top []uint64) (*table, error) {
		count++
		if lead.conversion {
			return runQuery(ctx, db, compileConversion(lead, rng, top), len(g.comps))
		}
		src := lead.source(g.comps, rng)
		if rs, ok := src.(rollupSource); ok {
			ran, err := dirty.resolve(ctx, db, &rs)
			if err != nil {
				return nil, err
			}
			if ran {
				count++
			}
			src = rs
		}
		return runQuery(ctx, db, compileGroup(src, lead, g.comps, rng, top), len(g.comps))
	}
	main, err := fetch(lead.rng, nil)
	if err != nil {
		return nil, err
	}
	var top []uint64
	if lead.req.Limit > 0 && len(lead.dims) > 0 && len(main.totals) > lead.req.Limit {
		keys := g.rank(0, main)[:lead.req.Limit]
		for _, k := range keys {
			top = append(top, main.hashes[k])
		}
		if main, err = fetch(lead.rng, top); err != nil {
			return nil, err
		}
	}
	var prev *table
	if lead.cmp != nil {
		if prev, err = fetch(*lead.cmp, top); err != nil {
			return nil, err
		}
	}
	out := make([]*Result, len(g.plans))
	for i := range g.plans {
		out[i], err = g.assemble(i, main, prev, count)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// source is where p reads the components comps of its group over rng.
func (p *plan) source(comps []component, rng timerange.Range) source {
	if p.path == PathRollup {
		return newRollupSource(p, comps, rng)
	}
	return rawSource{tz: p.loc.String()}
}

// runQuery executes a group query and indexes its rows.
func runQuery(ctx context.Context, db *store.DB, gq groupQuery, ncomps int) (*table, error) {
	rows, err := db.Query(ctx, gq.sql, gq.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	t := &table{detail: map[string]map[int64][]*float64{}, totals: map[string][]*float64{}, dims: map[string][]string{}, hashes: map[string]uint64{}}
	var (
		bucket int64
		gb, gd uint8
		h      uint64
		dims   = make([]string, gq.dims)
		raw    = make([]any, ncomps)
	)
	dest := []any{&bucket}
	for i := range dims {
		dest = append(dest, &dims[i])
	}
	dest = append(dest, &gb)
	if gq.dims > 0 {
		dest = append(dest, &gd, &h)
	}
	for i := range raw {
		dest = append(dest, &raw[i])
	}
	var total totalFold
	if gq.fold != nil {
		total = newTotalFold(gq.fold)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		vals := make([]*float64, ncomps)
		for i, v := range raw {
			vals[i] = toFloat(v)
		}
		total.add(raw)
		key := strings.Join(dims, "\x00")
		switch {
		case gb == 1 && (gq.dims == 0 || gd == 1):
			t.grand = vals
			if gq.totalsOnly && gq.dims == 0 {
				t.detail[key] = map[int64][]*float64{0: vals}
			}
		case gb == 1:
			t.totals[key] = vals
			t.dims[key] = slices.Clone(dims)
			t.hashes[key] = h
			if gq.totalsOnly {
				t.detail[key] = map[int64][]*float64{0: vals}
			}
		default:
			if t.detail[key] == nil {
				t.detail[key] = map[int64][]*float64{}
			}
			t.detail[key][bucket] = vals
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if gq.fold != nil {
		t.grand = total.result()
	}
	return t, nil
}

// totalFold accumulates the grand total of bucket rows, component by
// component, over the scanned values themselves (an infinite bucket stays
// infinite in a minimum, as in SQL, though toFloat shows it as nil). A
// component with no non-NULL bucket has a NULL total, as in SQL. The zero
// value folds nothing.
type totalFold struct {
	fold []foldFn
	acc  []float64
	seen []bool
}

func newTotalFold(fold []foldFn) totalFold {
	return totalFold{fold: fold, acc: make([]float64, len(fold)), seen: make([]bool, len(fold))}
}

// add folds one bucket row's scanned values.
func (t totalFold) add(raw []any) {
	for i := range t.fold {
		f, ok := scannedFloat(raw[i])
		switch {
		case !ok:
		case !t.seen[i]:
			t.acc[i], t.seen[i] = f, true
		default:
			t.acc[i] = t.fold[i](t.acc[i], f)
		}
	}
}

// result is the totals as toFloat shows values.
func (t totalFold) result() []*float64 {
	out := make([]*float64, len(t.fold))
	for i := range t.fold {
		if t.seen[i] {
			out[i] = toFloat(t.acc[i])
		}
	}
	return out
}

// scannedFloat is a scanned numeric cell as a float64 (NaN and ±Inf
// included); false for NULL.
func scannedFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}

// toFloat converts a scanned numeric cell; NULL, NaN and ±Inf are nil.
func toFloat(v any) *float64 {
	f, ok := scannedFloat(v)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

// pick selects plan i's component values from group values, filling a
// missing row (nil vals) with zero or nil per component.
func (g *group) pick(i int, vals []*float64) []*float64 {
	p := g.plans[i]
	out := make([]*float64, len(g.index[i]))
	for j, k := range g.index[i] {
		if vals != nil {
			out[j] = vals[k]
		}
		if out[j] == nil && p.comps[j].zeroFilled() {
			out[j] = new(float64)
		}
	}
	return out
}

// rank orders the series keys of plan i by its OrderBy.
func (g *group) rank(i int, t *table) []string {
	p := g.plans[i]
	keys := make([]string, 0, len(t.totals))
	vals := map[string]*float64{}
	for k, v := range t.totals {
		keys = append(keys, k)
		vals[k] = p.eval(g.pick(i, v))
	}
	return rankKeys(keys, vals, p.req.OrderBy, func(k string) bool { return isOther(t.dims[k]) })
}

// rankKeys orders series keys by their values vals (nil last) in order,
// then by the keys themselves; the folded series (isOtherKey) goes last
// whatever its value.
func rankKeys(keys []string, vals map[string]*float64, order Order, isOtherKey func(string) bool) []string {
	slices.SortFunc(keys, func(a, b string) int {
		if order != OrderDimension {
			va, vb := vals[a], vals[b]
			switch {
			case va == nil && vb != nil:
				return 1
			case va != nil && vb == nil:
				return -1
			case va != nil && *va != *vb:
				if order == OrderValueAsc {
					return cmp.Compare(*va, *vb)
				}
				return cmp.Compare(*vb, *va)
			}
		}
		return cmp.Compare(a, b)
	})
	if j := slices.IndexFunc(keys, isOtherKey); j >= 0 {
		k := keys[j]
		keys = append(slices.Delete(keys, j, j+1), k)
	}
	return keys
}

// assemble builds plan i's result from the group's tables.
func (g *group) assemble(i int, main, prev *table, sqlCount int) (*Result, error) {
	p := g.plans[i]
	res := &Result{Metric: p.def, Range: p.rng, CompareRange: p.cmp, Grain: p.grain, Dimensions: p.dimNames(),
		Series: []Series{}, Notices: append([]string{}, p.notices...), Path: p.path, SQLCount: sqlCount}
	if res.Grain == timerange.GrainNone {
		res.Grain = GrainTotal
	}
	if res.Dimensions == nil {
		res.Dimensions = []string{}
	}
	var prevBuckets []time.Time
	if p.cmp != nil {
		var err error
		if prevBuckets, err = timerange.Buckets(*p.cmp, p.grain, p.loc, "grain"); err != nil {
			return nil, errs.Wrap("metrics.Query", errs.KindInvalid, err, "the comparison window has too many buckets")
		}
	}
	keys := []string{""}
	if len(p.dims) > 0 {
		keys = g.rank(i, main)
	}
	for _, key := range keys {
		s := Series{Values: main.dims[key], Points: make([]Point, len(p.buckets))}
		if s.Values == nil {
			s.Values = []string{}
		}
		cur := g.series(i, main, key, p.buckets)
		var old []*float64
		if prev != nil {
			old = g.series(i, prev, key, prevBuckets)
		}
		for b, at := range p.buckets {
			s.Points[b] = point(at, cur[b], at2(old, b), prev != nil)
		}
		tot, oldTot := g.total(i, main, key), (*float64)(nil)
		if prev != nil {
			oldTot = g.total(i, prev, key)
		}
		s.Total = point(p.rng.From.In(p.loc), tot, oldTot, prev != nil)
		res.Series = append(res.Series, s)
	}
	var oldGrand *float64
	if prev != nil {
		oldGrand = p.eval(g.pick(i, prev.grand))
	}
	res.Totals = point(p.rng.From.In(p.loc), p.eval(g.pick(i, main.grand)), oldGrand, prev != nil)
	return res, nil
}

// series evaluates plan i's values of one series per bucket (gaps filled,
// running totals for CUMULATIVE).
func (g *group) series(i int, t *table, key string, buckets []time.Time) []*float64 {
	p := g.plans[i]
	out := make([]*float64, len(buckets))
	var run float64
	for b, at := range buckets {
		bk := at.Unix()
		if p.grain == timerange.GrainNone {
			bk = 0
		}
		v := p.eval(g.pick(i, t.detail[key][bk]))
		if p.cumulative {
			if v != nil {
				run += *v
			}
			x := run
			v = &x
		}
		out[b] = v
	}
	return out
}

// total is plan i's value of one series over the whole range.
func (g *group) total(i int, t *table, key string) *float64 {
	if key == "" && len(g.plans[i].dims) == 0 {
		return g.plans[i].eval(g.pick(i, t.grand))
	}
	return g.plans[i].eval(g.pick(i, t.totals[key]))
}

// point builds a point with its comparison and deltas.
func point(at time.Time, v, old *float64, compared bool) Point {
	pt := Point{Bucket: at, Value: v}
	if !compared {
		return pt
	}
	pt.CompareValue = old
	if v != nil && old != nil {
		d := *v - *old
		pt.Delta = &d
		if *old != 0 {
			pct := d / *old * 100
			pt.DeltaPercent = &pct
		}
	}
	return pt
}

func at2(vals []*float64, i int) *float64 {
	if i < len(vals) {
		return vals[i]
	}
	return nil
}

// isOther reports whether dimension values are the folded series.
func isOther(vals []string) bool {
	return len(vals) > 0 && !slices.ContainsFunc(vals, func(v string) bool { return v != OtherBucket })
}
