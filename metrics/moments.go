package metrics

import (
	"context"
	"fmt"
	"strings"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// Moments are the count, sum and sum of squares of an AVG metric's values
// in one group: what a test on means (Welch's t) needs and a mean alone
// does not give.
type Moments struct {
	Values     []string // dimension values, as in Series.Values; empty for the total
	Count      float64  // values that are not NULL
	Sum        float64  // in the metric's unit (Value.Scale applied)
	SumSquares float64  // Σ x², in the metric's unit squared
}

// Mean is Sum / Count (0 for an empty group).
func (m Moments) Mean() float64 {
	if m.Count == 0 {
		return 0
	}
	return m.Sum / m.Count
}

// Variance is the sample variance (n − 1), 0 below two values.
func (m Moments) Variance() float64 {
	if m.Count < 2 {
		return 0
	}
	return max(0, (m.SumSquares-m.Sum*m.Sum/m.Count)/(m.Count-1))
}

// MomentsResult is QueryMoments' answer: the total and one group per
// combination of dimension values.
type MomentsResult struct {
	Total  Moments
	Groups []Moments
	// SQL is the statement that ran, with its arguments: the evidence.
	SQL  string
	Args []any
}

// QueryMoments answers req for an AVG metric with the moments of its values
// per dimension values instead of the means: the request is checked as
// Query checks it (tenant, range, dimensions, filters, cohorts) and read
// from the events table, as one total (an empty grain is GrainTotal). Other kinds are invalid: their tests need no
// moments.
func (q *Querier) QueryMoments(ctx context.Context, req Request) (*MomentsResult, error) {
	const op = "metrics.QueryMoments"
	scope, all, err := q.reg.load(ctx)
	if err != nil {
		return nil, err
	}
	if req.Grain == "" {
		req.Grain = GrainTotal // not the metric's default grain
	}
	p, err := newPlan(req, scope, all, q.cfg.Now())
	if err != nil {
		return nil, err
	}
	if err := q.checkRange(p); err != nil {
		return nil, err
	}
	if p.def.Kind != KindAvg || len(p.comps) != 1 || p.comps[0].Value == nil {
		return nil, errs.Invalid(op, "metric", fmt.Sprintf("metric %q is %s; moments are defined for %s metrics only", p.def.Key, p.def.Kind, KindAvg))
	}
	if p.cmp != nil || p.grain != timerange.GrainNone {
		return nil, errs.Invalid(op, "grain", "moments are totals over the range; ask without a grain or a comparison")
	}
	c := p.comps[0]
	src := rawSource{tz: p.loc.String()}
	var sq query
	with, wargs := p.cohortWith()
	sq.add(with, wargs...)
	x := jsonPathSQL(c.Value.Path, c.Value.Type)
	cond, cargs := componentCond(src, c)
	var aliases []string
	sq.add("SELECT ")
	for i, d := range p.dims {
		e := cohortDimSQL
		if d.Path != CohortDimension {
			e = src.dim(d)
		}
		aliases = append(aliases, fmt.Sprintf("d%d", i))
		sq.add(e + " AS " + aliases[i] + ", ")
	}
	// Three aggregates over one condition; its arguments bind three times.
	args := append(append(append([]any{}, cargs...), cargs...), cargs...)
	sq.add("countIf(isNotNull("+x+") AND "+cond+") AS n, sumIf(toFloat64("+x+"), "+cond+") AS s, sumIf(toFloat64("+x+") * toFloat64("+x+"), "+cond+") AS ss", args...)
	from, fargs := src.from()
	sq.add(" FROM "+from, fargs...)
	where(&sq, src, p, p.comps, p.rng)
	if len(aliases) > 0 {
		sq.add(" GROUP BY " + strings.Join(aliases, ", ") + " ORDER BY " + strings.Join(aliases, ", "))
	}
	out := &MomentsResult{SQL: sq.b.String(), Args: sq.args}
	rows, err := q.db.Query(ctx, out.SQL, out.Args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	scale := 1.0
	if c.Value.Scale != 0 {
		scale = c.Value.Scale
	}
	for rows.Next() {
		vals := make([]string, len(aliases))
		var n uint64
		var s, ss float64
		dest := []any{}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(append(dest, &n, &s, &ss)...); err != nil {
			return nil, err
		}
		if n == 0 {
			continue
		}
		m := Moments{Values: vals, Count: float64(n), Sum: s * scale, SumSquares: ss * scale * scale}
		out.Groups = append(out.Groups, m)
		out.Total.Count += m.Count
		out.Total.Sum += m.Sum
		out.Total.SumSquares += m.SumSquares
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(aliases) == 0 {
		out.Groups = nil
	}
	return out, nil
}
