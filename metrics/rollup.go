package metrics

import (
	"context"
	"time"

	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// rollupTable holds the daily pre-aggregates (migration 0004).
const rollupTable = "metrics_daily"

// rollupDims maps the dimensions the rollup keeps to its columns.
var rollupDims = map[string]string{"type": "type", "properties.course_id": "course_id"}

// rollupValues maps the Float64 value paths the rollup keeps to its column prefix.
var rollupValues = map[string]string{"properties.score": "score", "properties.seconds": "seconds"}

// rollupBucketFns truncate a Date to its bucket.
var rollupBucketFns = map[Grain]string{
	timerange.GrainDay: "", timerange.GrainWeek: "toMonday", timerange.GrainMonth: "toStartOfMonth",
	timerange.GrainQuarter: "toStartOfQuarter", timerange.GrainYear: "toStartOfYear",
}

// rollupSource reads metrics_daily. Its rows are UTC days.
type rollupSource struct{}

// rollupEligible reports whether the daily rollup answers p exactly: UTC,
// whole-day range and buckets, and only kinds, values, dimensions and
// filters the rollup keeps.
func (p *plan) rollupEligible() bool {
	if p.conversion || p.loc != time.UTC || (p.grain != timerange.GrainNone && !p.grain.DayOrCoarser()) {
		return false
	}
	for _, r := range []*timerange.Range{&p.rng, p.cmp} {
		if r != nil && (!midnight(r.From) || !midnight(r.To)) {
			return false
		}
	}
	rollupDim := func(d Dimension) bool { _, ok := rollupDims[d.Path]; return ok && dimensionType(d) == TypeString }
	for _, d := range p.dims {
		if !rollupDim(d) {
			return false
		}
	}
	for _, f := range p.filters {
		if !rollupDim(f.dim) {
			return false
		}
	}
	for _, c := range p.comps {
		switch c.Kind {
		case KindCount:
		case KindUniqueUsers:
			if c.FirstSeen {
				return false
			}
		case KindSum, KindAvg, KindMin, KindMax:
			if _, ok := rollupValues[c.Value.Path]; !ok || c.Value.Type != TypeFloat64 {
				return false
			}
		default:
			return false
		}
		for _, f := range c.filters {
			if !rollupDim(f.dim) {
				return false
			}
		}
	}
	return true
}

func midnight(t time.Time) bool { return t.Equal(t.UTC().Truncate(24 * time.Hour)) }

func (rollupSource) from() (string, []any) { return store.QuoteIdent(rollupTable), nil }

func (rollupSource) timeCond(r timerange.Range) (string, []any) {
	return "day >= toDate(?) AND day < toDate(?)", []any{r.From, r.To}
}

func (rollupSource) bucket(g Grain) (string, []any) {
	fn, ok := rollupBucketFns[g]
	if !ok {
		return "toUInt32(0)", nil
	}
	return "toUnixTimestamp(toDateTime(" + fn + "(day), 'UTC'))", nil
}

func (rollupSource) dim(d Dimension) string        { return store.QuoteIdent(rollupDims[d.Path]) }
func (rollupSource) filterExpr(d Dimension) string { return store.QuoteIdent(rollupDims[d.Path]) }

func (rollupSource) agg(c component, cond string, args []any, _ store.Scope) (string, []any) {
	col := func(suffix string) string { return store.QuoteIdent(rollupValues[c.Value.Path] + suffix) }
	switch c.Kind {
	case KindCount:
		return "sumIf(events, " + cond + ")", args
	case KindUniqueUsers:
		return "uniqExactMergeIf(users, " + cond + ")", args
	case KindSum:
		return "sumIf(" + col("_sum") + ", " + cond + ")", args
	case KindAvg:
		both := append(append([]any{}, args...), args...)
		return "sumIf(" + col("_sum") + ", " + cond + ") / nullIf(sumIf(" + col("_n") + ", " + cond + "), 0)", both
	case KindMin:
		return "minIf(" + col("_min") + ", " + cond + ")", args
	}
	return "maxIf(" + col("_max") + ", " + cond + ")", args
}

// Rollups maintains metrics_daily outside the materialized view.
type Rollups struct{ db *store.DB }

// NewRollups returns the rollup maintenance service on db.
func NewRollups(db *store.DB) *Rollups { return &Rollups{db: db} }

// Rebuild recomputes one tenant's UTC days [from, to) of metrics_daily
// from events FINAL, removing any double counting left by events
// redelivered in a different batch. Run it for closed days (the
// housekeeping job that compacts events is the natural caller); rows
// inserted for those days while it runs would be lost, so not for today.
func (r *Rollups) Rebuild(ctx context.Context, scope store.Scope, from, to time.Time) error {
	guard, tenant := scope.Predicate("")
	ctx = store.WithSettings(ctx, store.Settings{"mutations_sync": 2})
	if err := r.db.Exec(ctx, "ALTER TABLE "+store.QuoteIdent(rollupTable)+" DELETE WHERE "+guard+
		" AND day >= toDate(?) AND day < toDate(?)", tenant, from, to); err != nil {
		return err
	}
	return r.db.Exec(ctx, "INSERT INTO "+store.QuoteIdent(rollupTable)+" SELECT tenant_id, toDate(occurred_at) AS day, type,"+
		" ifNull(accurateCastOrNull(properties.`course_id`, 'String'), '') AS course_id, toUInt64(count()), uniqExactState(user_id),"+
		rollupValueSQL("score")+", "+rollupValueSQL("seconds")+
		" FROM "+store.QuoteIdent(eventsTable)+" FINAL WHERE "+guard+" AND occurred_at >= ? AND occurred_at < ?"+
		" GROUP BY tenant_id, day, type, course_id", tenant, from, to)
}

// rollupValueSQL prints the sum, n, min and max columns of one value.
func rollupValueSQL(name string) string {
	v := "accurateCastOrNull(properties." + store.QuoteIdent(name) + ", 'Float64')"
	return "ifNull(sum(" + v + "), 0), toUInt64(count(" + v + ")), min(" + v + "), max(" + v + ")"
}
