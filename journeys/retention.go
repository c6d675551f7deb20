package journeys

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// retentionOp names the operation of retention errors.
const retentionOp = "journeys.retention"

// maxCohortPeriods bounds the start periods (rows) of one triangle.
const maxCohortPeriods = 400

// RetentionMode is which start events put a user in a cohort.
type RetentionMode string

// The retention modes.
const (
	// FirstTime: a user's cohort is the period of their first start event
	// ever; users whose first one is before the range are left out.
	FirstTime RetentionMode = "FIRST_TIME"
	// Recurring: a user is in the cohort of every period in the range in
	// which they did the start event.
	Recurring RetentionMode = "RECURRING"
)

// RetentionBase is what a cell's rate is relative to.
type RetentionBase string

// The retention bases.
const (
	BaseInitial  RetentionBase = "INITIAL"  // the cohort's size
	BasePrevious RetentionBase = "PREVIOUS" // the cell before it in the row
)

// RetentionRequest is a retention query.
type RetentionRequest struct {
	StartEvent  Matcher
	ReturnEvent Matcher
	Period      timerange.Grain // DAY, WEEK or MONTH in TimeZone
	Periods     int             // later periods per cohort, 1–52
	Mode        RetentionMode   // empty means FirstTime
	Reference   RetentionBase   // empty means BaseInitial
	// Cumulative counts a user in period i when they returned in period i
	// or any later one of the row.
	Cumulative bool
	TimeRange  timerange.Spec
	TimeZone   string // IANA zone of the period boundaries; empty means UTC
	Breakdown  *RetentionBreakdown
	Cohorts    []string // only users in any of these cohorts
}

// RetentionBreakdown splits the triangle by a property of the event that
// put the user in the cohort (the first start event of the period).
type RetentionBreakdown struct {
	Property string
	TopN     int // values shown before "other"; 0 means DefaultTopN
}

// RetentionCell is one cell of the triangle.
type RetentionCell struct {
	Offset int     // periods after the start period (0 is the start period)
	Users  int64   // users of the cohort who returned in that period (0: the cohort's size)
	Rate   float64 // Users over the cohort's size (INITIAL) or over the previous cell (PREVIOUS)
}

// RetentionCohort is one row: the users who started in one period.
type RetentionCohort struct {
	Start time.Time // the period's start in the request's zone
	Size  int64
	// Cells has offsets 0 … Periods, cut where the period has not started
	// before the range's end.
	Cells []RetentionCell
}

// RetentionTable is a triangle and its weighted mean row.
type RetentionTable struct {
	Cohorts []RetentionCohort
	// Mean weighs each cohort by its size: per offset, the users of every
	// cohort that reached it over their sizes (INITIAL) or over their
	// previous cells (PREVIOUS).
	Mean []RetentionCell
}

// RetentionBreakdownTable is the triangle of one breakdown value.
type RetentionBreakdownTable struct {
	Value string // OtherValue for the values after the top N; "" is "no value"
	Other bool
	RetentionTable
}

// RetentionResult is a retention query's answer.
type RetentionResult struct {
	RetentionTable
	Breakdowns []RetentionBreakdownTable // top N values by users, then other
}

// retentionPlan is a checked RetentionRequest.
type retentionPlan struct {
	RetentionRequest
	rng     timerange.Range
	loc     *time.Location
	topN    int
	periods []int64 // the cohort periods of the range, in order
}

// checkRetention validates r and resolves its range against now.
func checkRetention(r RetentionRequest, now time.Time) (*retentionPlan, error) {
	p := &retentionPlan{RetentionRequest: r}
	if err := checkMatcher(retentionOp, r.StartEvent, "startEvent"); err != nil {
		return nil, err
	}
	if err := checkMatcher(retentionOp, r.ReturnEvent, "returnEvent"); err != nil {
		return nil, err
	}
	switch r.Period {
	case timerange.GrainDay, timerange.GrainWeek, timerange.GrainMonth:
	default:
		return nil, errs.Invalid(retentionOp, "period", fmt.Sprintf("period %q: use DAY, WEEK or MONTH", r.Period))
	}
	if r.Periods < 1 || r.Periods > MaxPeriods {
		return nil, errs.Invalid(retentionOp, "periods", fmt.Sprintf("periods %d must be between 1 and %d", r.Periods, MaxPeriods))
	}
	if err := oneOf(retentionOp, "mode", &p.Mode, FirstTime, Recurring); err != nil {
		return nil, err
	}
	if err := oneOf(retentionOp, "reference", &p.Reference, BaseInitial, BasePrevious); err != nil {
		return nil, err
	}
	if b := r.Breakdown; b != nil {
		if err := checkProperty(retentionOp, b.Property, "breakdown.property"); err != nil {
			return nil, err
		}
		n, err := checkTopN(retentionOp, b.TopN, "breakdown.topN")
		if err != nil {
			return nil, err
		}
		p.topN = n
	}
	if err := checkCohorts(retentionOp, r.Cohorts); err != nil {
		return nil, err
	}
	loc, err := timerange.Location(r.TimeZone, "timeZone")
	if err != nil {
		return nil, err
	}
	p.loc = loc
	if p.rng, err = timerange.ResolveIn(r.TimeRange, now, loc, "timeRange"); err != nil {
		return nil, err
	}
	first, last := p.periodOf(p.rng.From), p.periodOf(p.rng.To.Add(-time.Millisecond))
	if last-first+1 > maxCohortPeriods {
		return nil, errs.Invalid(retentionOp, "timeRange", fmt.Sprintf("timeRange holds %d %s periods; at most %d (use a coarser period or a shorter range)", last-first+1, r.Period, maxCohortPeriods))
	}
	for c := first; c <= last; c++ {
		p.periods = append(p.periods, c)
	}
	return p, nil
}

// periodOf is the index of the period holding t in the plan's zone: days
// since 1970-01-01, weeks (Monday-based) or months since year 0.
func (p *retentionPlan) periodOf(t time.Time) int64 {
	y, m, d := t.In(p.loc).Date()
	switch p.Period {
	case timerange.GrainDay:
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	case timerange.GrainWeek:
		my, mm, md := timerange.GrainWeek.Truncate(t, p.loc).Date()
		return time.Date(my, mm, md, 0, 0, 0, 0, time.UTC).Unix() / 86400 / 7
	}
	return int64(y)*12 + int64(m) - 1
}

// periodStart is the start of period index c in the plan's zone.
func (p *retentionPlan) periodStart(c int64) time.Time {
	switch p.Period {
	case timerange.GrainDay:
		y, m, d := time.Unix(c*86400, 0).UTC().Date()
		return time.Date(y, m, d, 0, 0, 0, 0, p.loc)
	case timerange.GrainWeek:
		y, m, d := time.Unix((c*7+4)*86400, 0).UTC().Date() // day 4 (5 Jan 1970) is a Monday
		return time.Date(y, m, d, 0, 0, 0, 0, p.loc)
	}
	return time.Date(int(c/12), time.Month(c%12+1), 1, 0, 0, 0, 0, p.loc)
}

// periodSQL is the period index of occurred_at in the zone, as periodOf.
func (p *retentionPlan) periodSQL(q *sqlText) string {
	local := func() string { return "toDateTime(occurred_at, " + q.bind(p.loc.String()) + ")" }
	switch p.Period {
	case timerange.GrainDay:
		return "toInt64(toDate(" + local() + "))"
	case timerange.GrainWeek:
		return "intDiv(toInt64(toMonday(" + local() + ")), 7)"
	}
	year := "toInt64(toYear(" + local() + ")) * 12"
	return year + " + toMonth(" + local() + ") - 1"
}

// counts is the engine's or the reference's raw answer: per breakdown value
// and cohort period, the cohort size (offset 0) and returners per offset.
type counts map[string]map[int64][]int64

// retentionSQL prints the statement: rows of (b, c, size, r1 … rN).
func (p *retentionPlan) retentionSQL(scope store.Scope) (string, []any) {
	var q sqlText
	n := p.Periods
	fromMs := p.rng.From.UnixMilli()
	q.add("SELECT b, c, count()")
	for i := 1; i <= n; i++ {
		if p.Cumulative {
			fmt.Fprintf(&q.b, ", countIf(arrayExists(x -> x >= c + %d AND x <= c + %d, rets))", i, n)
		} else {
			fmt.Fprintf(&q.b, ", countIf(has(rets, c + %d))", i)
		}
	}
	q.add(" FROM (SELECT user_id, rets, ")
	if p.Mode == FirstTime {
		q.add("if(empty(starts) OR starts[1].2 < ?, [], [starts[1]]) AS cs", fromMs)
	} else {
		// The first start event of every period: sorted, where the period changes.
		q.add("arrayFilter(x -> x.2 >= ?, starts) AS inr, arrayFilter((x, d, i) -> i = 1 OR d != 0, inr, arrayDifference(arrayMap(x -> x.1, inr)), arrayEnumerate(inr)) AS cs", fromMs)
	}
	q.add(" FROM (SELECT user_id, arraySort(groupArrayIf((pd, t, v), st)) AS starts, groupUniqArrayIf(pd, rt) AS rets FROM (SELECT user_id, ")
	q.add(p.periodSQL(&q) + " AS pd, toUnixTimestamp64Milli(occurred_at) AS t, ")
	q.add(matchSQL(&q, p.StartEvent) + " AS st, ")
	q.add(matchSQL(&q, p.ReturnEvent) + " AS rt, ")
	if p.Breakdown != nil {
		q.add("ifNull(" + propertyText(p.Breakdown.Property) + ", '') AS v")
	} else {
		q.add("'' AS v")
	}
	q.add(" FROM " + store.QuoteIdent(eventsTable) + " FINAL WHERE ")
	from := any(p.rng.From)
	if p.Mode == FirstTime {
		from = time.UnixMilli(0).UTC() // a first time is over the whole history
	}
	eventsWhere(&q, scope, from, p.rng.To, p.Cohorts)
	if p.Mode == FirstTime {
		// Only start events matter before the range.
		q.add(" AND (occurred_at >= ? OR type = ?)", p.rng.From, p.StartEvent.EventType)
	}
	types := []string{p.StartEvent.EventType}
	if p.ReturnEvent.EventType != p.StartEvent.EventType {
		types = append(types, p.ReturnEvent.EventType)
	}
	q.add(" AND type IN ?) GROUP BY user_id)) ARRAY JOIN cs.1 AS c, cs.3 AS b GROUP BY b, c", types)
	return q.String(), q.args
}

// Retention answers a retention query for the caller's tenant.
func (s *Service) Retention(ctx context.Context, r RetentionRequest) (*RetentionResult, error) {
	p, scope, err := s.prepareRetention(ctx, r)
	if err != nil {
		return nil, err
	}
	sql, args := p.retentionSQL(scope)
	rows, err := s.query(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	got := counts{}
	for rows.Next() {
		var b string
		var c int64
		vals := make([]int64, p.Periods+1)
		dest := []any{&b, &c}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if got[b] == nil {
			got[b] = map[int64][]int64{}
		}
		got[b][c] = vals
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return p.assemble(got), nil
}

// assemble builds the result from raw counts: the total, the top N values
// by users (ties by value) and other.
func (p *retentionPlan) assemble(got counts) *RetentionResult {
	total := map[int64][]int64{}
	sizes := map[string]int64{}
	for b, rows := range got {
		for c, vals := range rows {
			addInto(total, c, vals)
			sizes[b] += vals[0]
		}
	}
	res := &RetentionResult{RetentionTable: p.table(total)}
	if p.Breakdown == nil {
		return res
	}
	values := slices.Collect(maps.Keys(got))
	slices.SortFunc(values, func(a, b string) int { return cmp.Or(cmp.Compare(sizes[b], sizes[a]), strings.Compare(a, b)) })
	other := map[int64][]int64{}
	for i, v := range values {
		if i < p.topN {
			res.Breakdowns = append(res.Breakdowns, RetentionBreakdownTable{Value: v, RetentionTable: p.table(got[v])})
			continue
		}
		for c, vals := range got[v] {
			addInto(other, c, vals)
		}
	}
	if len(values) > p.topN {
		res.Breakdowns = append(res.Breakdowns, RetentionBreakdownTable{Value: OtherValue, Other: true, RetentionTable: p.table(other)})
	}
	return res
}

func addInto(m map[int64][]int64, c int64, vals []int64) {
	if m[c] == nil {
		m[c] = make([]int64, len(vals))
	}
	for i, v := range vals {
		m[c][i] += v
	}
}

// table lays out the triangle of every period of the range and its mean row.
func (p *retentionPlan) table(rows map[int64][]int64) RetentionTable {
	var t RetentionTable
	sum := make([]int64, p.Periods+1)
	base := make([]int64, p.Periods+1)
	for _, c := range p.periods {
		vals := rows[c]
		if vals == nil {
			vals = make([]int64, p.Periods+1)
		}
		row := RetentionCohort{Start: p.periodStart(c), Size: vals[0], Cells: []RetentionCell{}}
		for i := 0; i <= p.Periods && p.periodStart(c+int64(i)).Before(p.rng.To); i++ {
			b := vals[0]
			if p.Reference == BasePrevious && i > 0 {
				b = vals[i-1]
			}
			row.Cells = append(row.Cells, RetentionCell{Offset: i, Users: vals[i], Rate: ratio(vals[i], b)})
			sum[i] += vals[i]
			base[i] += b
		}
		t.Cohorts = append(t.Cohorts, row)
	}
	for i := 0; i <= p.Periods && p.observed(i); i++ {
		t.Mean = append(t.Mean, RetentionCell{Offset: i, Users: sum[i], Rate: ratio(sum[i], base[i])})
	}
	return t
}

// observed reports whether offset i has started for the first cohort.
func (p *retentionPlan) observed(i int) bool {
	return len(p.periods) > 0 && p.periodStart(p.periods[0]+int64(i)).Before(p.rng.To)
}
