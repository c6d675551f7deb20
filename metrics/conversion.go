package metrics

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// convSource reads a CONVERSION metric from a per-user subquery: each user
// who did the start event in the range, with the time s of their first
// start, the dimensions of that start event (x0…), and the funnel level
// reached (windowFunnel: 1 started, 2 converted within the window). Buckets
// follow s; dimensions and filters apply to the start event.
type convSource struct {
	p    *plan
	rng  timerange.Range
	dims []Dimension // request dimensions, then other filter dimensions
}

// compileConversion prints a CONVERSION plan's query over rng.
func compileConversion(p *plan, rng timerange.Range, top []uint64) groupQuery {
	// The cohort breakdown is a per-user condition the outer query prints.
	src := convSource{p: p, rng: rng, dims: slices.DeleteFunc(slices.Clone(p.dims), func(d Dimension) bool { return d.Path == CohortDimension })}
	for _, f := range p.filters {
		if !slices.ContainsFunc(src.dims, func(d Dimension) bool { return d.Path == f.dim.Path }) {
			src.dims = append(src.dims, f.dim)
		}
	}
	return compileGroup(src, p, p.comps, rng, top)
}

func (s convSource) from() (string, []any) {
	c := s.p.def.Conversion
	window := DefaultConversionWindow
	if c.Window != "" {
		window = c.Window
	}
	d, _ := timerange.ParseLast(window) // checked by Validate
	var q query
	q.add("(SELECT tenant_id, user_id, minIf(occurred_at, type = ?) AS s", c.StartEvent)
	for i, dim := range s.dims {
		q.add(fmt.Sprintf(", argMinIf(%s, occurred_at, type = ?) AS x%d", rawDimSQL(dim), i), c.StartEvent)
	}
	// Only starts inside the range may begin the chain: the rows read run
	// to To+window so that late ends count, and a start in that tail must
	// not convert a user whose starts in the range did not.
	q.add(", windowFunnel("+strconv.FormatInt(int64(d.Seconds()), 10)+")(toDateTime(occurred_at), type = ? AND occurred_at < ?, type = ?) AS level",
		c.StartEvent, s.rng.To, c.EndEvent)
	guard, tenant := s.p.scope.Predicate("")
	q.add(" FROM "+store.QuoteIdent(eventsTable)+" FINAL WHERE "+guard, tenant)
	q.add(" AND occurred_at >= ? AND occurred_at < ? AND type IN ?", s.rng.From, s.rng.To.Add(d), []string{c.StartEvent, c.EndEvent})
	q.add(" GROUP BY tenant_id, user_id)")
	return q.b.String(), q.args
}

func (convSource) timeCond(r timerange.Range) (string, []any) {
	return "level >= 1 AND s >= ? AND s < ?", []any{r.From, r.To}
}

func (s convSource) bucket(g Grain) (string, []any) { return rawBucket("s", g, s.p.loc.String()) }

func (s convSource) alias(d Dimension) string {
	return fmt.Sprintf("x%d", slices.IndexFunc(s.dims, func(x Dimension) bool { return x.Path == d.Path }))
}

func (s convSource) dim(d Dimension) string {
	if dimensionType(d) == TypeString {
		return s.alias(d)
	}
	return "ifNull(toString(" + s.alias(d) + "), '')"
}

func (s convSource) filterExpr(d Dimension) string { return s.alias(d) }

func (convSource) agg(c component, _ string, _ []any, _ store.Scope) (string, []any) {
	if c.Kind == "CONVERSION_CONVERTED" {
		return "countIf(level = 2)", nil
	}
	return "countIf(level >= 1)", nil
}
