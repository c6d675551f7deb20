package metrics

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// rollupTable holds the daily pre-aggregates (migration 0004).
const rollupTable = "metrics_daily"

// rollupUsersTable holds distinct users per day and course over every
// event type (migration 0009).
const rollupUsersTable = "metrics_daily_users"

// rollupActiveTable holds distinct users per day over every event
// (migration 0012).
const rollupActiveTable = "metrics_daily_active"

// rollupDims maps the dimensions the rollup keeps to its columns.
var rollupDims = map[string]string{"type": "type", "properties.course_id": "course_id"}

// rollupValues maps the Float64 value paths the rollup keeps to its column prefix.
var rollupValues = map[string]string{"properties.score": "score", "properties.seconds": "seconds"}

// rollupBucketFns truncate a Date to its bucket.
var rollupBucketFns = map[Grain]string{
	timerange.GrainDay: "", timerange.GrainWeek: "toMonday", timerange.GrainMonth: "toStartOfMonth",
	timerange.GrainQuarter: "toStartOfQuarter", timerange.GrainYear: "toStartOfYear",
}

// rollupSource reads metrics_daily, or metrics_daily_users when users is
// set, or metrics_daily_active when active is set too. Its rows are UTC
// days. When the range starts or ends inside a day ("last 30d", month to
// date), it reads the whole days from the rollup and
// the partial days' events from the events table (FINAL), aggregated to
// rollup rows, in one UNION ALL: the same -Merge and sums then combine both.
type rollupSource struct {
	users bool
	// active: users over metrics_daily_active (no dimension, no filter).
	active bool
	types  []string // the union of the components' event types; nil for all
	// needUsers and needValues say which rollup columns the components
	// read; the partial days compute only those (the rest are empty).
	needUsers  bool
	needValues map[string]bool // by column prefix: score, seconds
	needCourse bool            // a dimension or filter reads course_id
	scope      store.Scope
	rng        timerange.Range
	whole      timerange.Range // the whole UTC days of rng
	// dirty: the whole days written since their last rebuild (see
	// dirtyDays) are read from events FINAL, not from the rollup;
	// resolveDirty lists them in dirtyDays before the statement is
	// compiled.
	dirty     bool
	dirtyDays []time.Time
}

// newRollupSource returns the rollup source of p's group over rng.
func newRollupSource(p *plan, comps []component, rng timerange.Range) rollupSource {
	users := p.usersRollupEligible(comps)
	src := rollupSource{users: users, active: users && p.activeRollupEligible(comps), types: eventTypeUnion(comps), scope: p.scope, rng: rng, whole: p.wholeDays(rng),
		needValues: map[string]bool{}}
	if users {
		// uniqExact states: a redelivered event adds a user already in the
		// day's state, so the users rollups are exact on the open day too
		// and it needs no read of events (an aligned window is then whole
		// days only: one row per day, no FINAL over the events).
		src.whole = wholeDays(rng)
	} else {
		// metrics_daily counts a redelivered event twice until a rebuild:
		// its days written since their last rebuild are read from events.
		src.dirty = true
	}
	onCourse := func(d Dimension) bool { return rollupDims[d.Path] == "course_id" }
	for _, d := range p.dims {
		src.needCourse = src.needCourse || onCourse(d)
	}
	for _, f := range p.filters {
		src.needCourse = src.needCourse || onCourse(f.dim)
	}
	for _, c := range comps {
		switch {
		case c.Kind == KindUniqueUsers:
			src.needUsers = true
		case c.Value != nil:
			src.needValues[rollupValues[c.Value.Path]] = true
		}
		for _, f := range c.filters {
			src.needCourse = src.needCourse || onCourse(f.dim)
		}
	}
	return src
}

// wholeDays is the UTC days entirely inside r (empty when there are none).
func wholeDays(r timerange.Range) timerange.Range {
	from := r.From.UTC().Truncate(24 * time.Hour)
	if !from.Equal(r.From) {
		from = from.Add(24 * time.Hour)
	}
	return timerange.Range{From: from, To: r.To.UTC().Truncate(24 * time.Hour)}
}

// wholeDays is the UTC days of r the rollup answers: wholeDays without
// the open day (the one holding now) when r ends with it. A view counts an
// event redelivered in another batch twice until the nightly rebuild, so
// the open day is read from events FINAL like a partial day: a window
// aligned to whole days (timerange.ResolveAligned) is then exact and costs
// one edge day, not two.
func (p *plan) wholeDays(r timerange.Range) timerange.Range {
	w := wholeDays(r)
	if w.To.After(p.openDay) && !p.openDay.IsZero() {
		w.To = p.openDay // days after it hold only events dated ahead of the clock
		if w.From.After(w.To) {
			w.From = w.To
		}
	}
	return w
}

// partial reports whether the range has a partial day at either end.
func (s rollupSource) partial() bool {
	return !s.whole.From.Equal(s.rng.From) || !s.whole.To.Equal(s.rng.To)
}

// mixed reports whether s reads some days from events: partial days, or
// metrics_daily's dirty days.
func (s rollupSource) mixed() bool { return s.partial() || len(s.dirtyDays) > 0 }

// resolveDirty lists, in their own small statement, the whole days of a
// metrics_daily source written since their last rebuild, so the main
// statement names them as constants: with none (closed days as the
// nightly job leaves them) it reads the rollup alone, and with some the
// sort key's day bounds what FINAL merges. Done inside the statement, the
// same check cost ~15 ms per count query (a join per use, and an
// events FINAL branch planned over every part even when empty).
// It reports whether it ran a statement.
func (s *rollupSource) resolveDirty(ctx context.Context, db *store.DB) (bool, error) {
	if !s.dirty || !s.whole.From.Before(s.whole.To) {
		return false, nil
	}
	sql, args := dirtyDays(s.scope, s.whole)
	days, err := queryDays(ctx, db, sql, args...)
	s.dirtyDays = days
	return true, err
}

// dirtyLists holds the dirty days of each (tenant, whole days) one batch
// has listed, so the groups of a dashboard render over one window list
// them once. A batch is answered in one go: a list is as fresh as the
// batch.
type dirtyLists map[string][]time.Time

// resolve is s.resolveDirty, reusing a list the batch already has.
func (d dirtyLists) resolve(ctx context.Context, db *store.DB, s *rollupSource) (bool, error) {
	key := s.scope.Tenant() + "|" + s.whole.From.Format(time.RFC3339) + "|" + s.whole.To.Format(time.RFC3339)
	if days, ok := d[key]; ok && s.dirty {
		s.dirtyDays = days
		return false, nil
	}
	ran, err := s.resolveDirty(ctx, db)
	if ran && err == nil {
		d[key] = s.dirtyDays
	}
	return ran, err
}

// dayList is days as the bound value of `IN dayList(…)`: a Date array.
func dayList(days []time.Time) (string, []any) {
	out := make([]string, len(days))
	for i, d := range days {
		out[i] = d.UTC().Format(time.DateOnly)
	}
	return "arrayMap(d -> toDate(d), ?)", []any{out}
}

// rollupEligible reports whether the daily rollup answers p exactly: UTC,
// day-or-coarser buckets, at least one whole day in the range (and in the
// comparison window; partial end days are read raw), and only kinds,
// values, dimensions and filters the rollup keeps.
func (p *plan) rollupEligible() bool {
	if p.conversion || len(p.req.Cohorts) > 0 || p.loc != time.UTC || (p.grain != timerange.GrainNone && !p.grain.DayOrCoarser()) {
		return false
	}
	for _, r := range []*timerange.Range{&p.rng, p.cmp} {
		// Partial days at the ends are read raw; at least one whole day
		// must remain for the rollup to be worth it.
		if w := p.wholeDays(ptrRange(r)); r != nil && !w.From.Before(w.To) {
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

// usersRollupEligible reports whether metrics_daily_users answers comps of
// a rollup plan: every component counts the users of any event (no event
// types, filters only on the course), and neither the request's
// dimensions nor its filters use type. Such a group reads about a third
// of the state metrics_daily would merge (active learners by course).
func (p *plan) usersRollupEligible(comps []component) bool {
	onCourse := func(d Dimension) bool { return rollupDims[d.Path] == "course_id" }
	for _, d := range p.dims {
		if !onCourse(d) {
			return false
		}
	}
	for _, f := range p.filters {
		if !onCourse(f.dim) {
			return false
		}
	}
	for _, c := range comps {
		if c.Kind != KindUniqueUsers || c.FirstSeen || len(c.EventTypes) > 0 {
			return false
		}
		for _, f := range c.filters {
			if !onCourse(f.dim) {
				return false
			}
		}
	}
	return len(comps) > 0
}

// rowPerGroup reports whether every finest group of p's statement is one
// row of its users rollup once that table's parts are merged (FINAL):
// unique users per UTC day (metrics_daily_active) or by course per day
// (metrics_daily_users), over whole days, on one node. On a cluster each
// shard holds a row for the users it has, and FINAL merges within a shard
// only, so the groups merge states there.
func (s rollupSource) rowPerGroup(p *plan) bool {
	if p.sharded || !s.users || s.partial() || p.grain != timerange.GrainDay {
		return false
	}
	if s.active {
		return len(p.dims) == 0
	}
	return len(p.dims) == 1 && rollupDims[p.dims[0].Path] == "course_id"
}

// compileStoredGroups is compileGroup for a statement whose finest groups
// are rows of a users rollup (rowPerGroup). It is a UNION ALL whose
// branches the engine runs side by side:
//   - the buckets read each (day[, course]) row after FINAL and take the
//     count its rebuild stored, or its state holds (storedUsers); merging every
//     row's state again into a group of its own, as a ROLLUP over
//     (course, day) does, was half of that statement's work;
//   - the totals (per course and) overall merge states over each half of
//     the days (uniqExactMergeState) and then the halves' states (with a
//     course: GROUP BY d0 WITH ROLLUP). The engine reads a table this
//     small in one stream, so one merge of the whole range ran on one
//     core while the other had only the buckets.
//
// Over 10 M events (100 000 users, 20 courses, 31 days) unique users by
// course per day took 97 ms as one ROLLUP, 76 ms with the buckets apart
// and 66 ms with the totals in halves (quarters: 68 ms), same rows.
func compileStoredGroups(s rollupSource, p *plan, comps []component, rng timerange.Range) groupQuery {
	var q query
	table := store.QuoteIdent(s.table())
	bexpr, _ := s.bucket(p.grain)
	// The course columns, or none over metrics_daily_active, whose halves
	// are one state each and whose total is their merge.
	bucketDims, totalDims, halfDims, halfGroup, totalGroup := "", "", "SELECT toUInt8(0) AS k", "", ""
	if len(p.dims) == 1 {
		course := s.dim(p.dims[0])
		bucketDims, totalDims = ", "+course+" AS d0, toUInt8(0) AS gb, toUInt8(0) AS gd, cityHash64(d0) AS h", ", d0, toUInt8(1) AS gb, grouping(d0) AS gd, cityHash64(d0) AS h"
		halfDims, halfGroup = "SELECT "+course+" AS d0", " GROUP BY d0"
		totalGroup = " GROUP BY d0 WITH ROLLUP"
	} else {
		bucketDims, totalDims = ", toUInt8(0) AS gb", ", toUInt8(1) AS gb"
	}
	// columns adds one column per component: every, or under (a format of
	// the component's condition) when the component has one.
	columns := func(every, under, alias string) {
		for i, c := range comps {
			cond, cargs := componentCond(s, c)
			if cond == "1" {
				q.add(fmt.Sprintf(", %s AS %s%d", every, alias, i))
				continue
			}
			q.add(fmt.Sprintf(", "+under+" AS %s%d", cond, alias, i), cargs...)
		}
	}
	q.add("SELECT " + bexpr + " AS b" + bucketDims)
	columns(storedUsers, "if(%s, "+storedUsers+", 0)", "m")
	q.add(" FROM " + table + " FINAL")
	where(&q, s, p, comps, rng)
	q.add(" UNION ALL SELECT toUInt32(0) AS b" + totalDims)
	for i := range comps {
		q.add(fmt.Sprintf(", uniqExactMerge(s%d) AS m%d", i, i))
	}
	q.add(" FROM (")
	for k, half := range halves(rng) {
		if k > 0 {
			q.add(" UNION ALL ")
		}
		q.add(halfDims)
		columns("uniqExactMergeState(users)", "uniqExactMergeStateIf(users, %s)", "s")
		q.add(" FROM " + table)
		where(&q, s, p, comps, half)
		q.add(halfGroup)
	}
	q.add(")" + totalGroup)
	return groupQuery{sql: q.b.String(), args: q.args, dims: len(p.dims)}
}

// storedUsers is a users rollup row's distinct users after FINAL: the
// count its last rebuild stored (migration 0020), or, where a write came
// after that rebuild or none ran (users_n 0: the views write 0 and min
// keeps it), the count its state holds. The engine evaluates
// finalizeAggregation only for the rows that need it; reading a stored
// count instead of a ~100 000-user state took a month of daily active
// learners' buckets from 67 to 4 ms (10 M events, one probe run).
const storedUsers = "if(users_n > 0, users_n, finalizeAggregation(users))"

// halves splits a range of whole UTC days into its first and second half
// of whole days (a single day stays whole).
func halves(r timerange.Range) []timerange.Range {
	days := int(r.To.Sub(r.From) / (24 * time.Hour))
	if days < 2 {
		return []timerange.Range{r}
	}
	mid := r.From.AddDate(0, 0, days/2)
	return []timerange.Range{{From: r.From, To: mid}, {From: mid, To: r.To}}
}

// activeRollupEligible reports whether metrics_daily_active answers comps
// of a users rollup plan (usersRollupEligible): no dimension and no filter
// at all, so each day's users are one row there instead of a merge of the
// day's courses (daily active learners).
func (p *plan) activeRollupEligible(comps []component) bool {
	if len(p.dims) > 0 || len(p.filters) > 0 {
		return false
	}
	for _, c := range comps {
		if len(c.filters) > 0 {
			return false
		}
	}
	return true
}

// table is the rollup table s reads.
func (s rollupSource) table() string {
	switch {
	case s.active:
		return rollupActiveTable
	case s.users:
		return rollupUsersTable
	}
	return rollupTable
}

// ptrRange is *r, or the zero range for nil.
func ptrRange(r *timerange.Range) timerange.Range {
	if r == nil {
		return timerange.Range{}
	}
	return *r
}

func (s rollupSource) from() (string, []any) {
	// The partial days' rows: every rollup column, but the ones no
	// component reads are empty (no hashing of users, no JSON reads).
	users, values := "uniqExactState(user_id) AS users", make([]string, 2)
	if !s.needUsers {
		users = "uniqExactStateIf(user_id, 0) AS users"
	}
	for i, v := range []string{"score", "seconds"} {
		values[i] = rollupValueSQL(v)
		if !s.needValues[v] {
			values[i] = emptyValueSQL(v)
		}
	}
	course := rollupCourseSQL
	if !s.needCourse {
		course = "'' AS course_id"
	}
	table, cols, group := rollupTable, "type, "+course+", toUInt64(count()) AS events, "+users+", "+
		strings.Join(values, ", "), "tenant_id, day, type, course_id"
	stored := "tenant_id, day, type, course_id, events, users, score_sum, score_n, score_min, score_max, seconds_sum, seconds_n, seconds_min, seconds_max"
	switch {
	case s.active:
		table, cols, group = rollupActiveTable, "uniqExactState(user_id) AS users", "tenant_id, day"
		stored = "tenant_id, day, users"
	case s.users:
		table, cols, group = rollupUsersTable, course+", uniqExactState(user_id) AS users", "tenant_id, day, course_id"
		stored = "tenant_id, day, course_id, users"
	}
	if !s.mixed() {
		return store.QuoteIdent(table), nil
	}
	var q query
	guard, tenant := s.scope.Predicate("")
	q.add("(SELECT "+stored+" FROM "+store.QuoteIdent(table)+" WHERE "+guard+" AND day >= toDate(?) AND day < toDate(?)", tenant, s.whole.From, s.whole.To)
	dirty, dargs := dayList(s.dirtyDays)
	if len(s.dirtyDays) > 0 {
		q.add(" AND day NOT IN "+dirty, dargs...)
	}
	q.add(" UNION ALL SELECT tenant_id, toDate(occurred_at) AS day, "+cols+" FROM "+store.QuoteIdent(eventsTable)+" FINAL WHERE "+guard, tenant)
	// Each partial day lies inside one UTC day; naming that day lets the
	// sort key (… toDate(occurred_at) …) bound what FINAL merges, which the
	// engine does not derive from the DateTime64 bounds (~25% less time).
	// The end piece is one day, or the open day and the days after it a
	// window aligned to a week or month reaches (see plan.wholeDays).
	q.add(" AND (toDate(occurred_at) = toDate(?) AND occurred_at >= ? AND occurred_at < ? OR toDate(occurred_at) BETWEEN toDate(?) AND toDate(?) AND occurred_at >= ? AND occurred_at < ?",
		s.rng.From, s.rng.From, s.whole.From, s.whole.To, s.rng.To.Add(-time.Millisecond), s.whole.To, s.rng.To)
	if len(s.dirtyDays) > 0 {
		// The dirty whole days, whole (the set bounds the sort key's day).
		q.add(" OR toDate(occurred_at) IN "+dirty, dargs...)
	}
	q.add(")")
	if s.types != nil && !s.users {
		// The partial days read only the event types the group needs (the
		// outer WHERE keeps just those rows anyway); type leads the sort key
		// after the tenant, so this skips most of the edge days' granules.
		q.add(" AND type IN ?", s.types)
	}
	q.add(" GROUP BY " + group + ")")
	return q.b.String(), q.args
}

func (s rollupSource) timeCond(r timerange.Range) (string, []any) {
	if s.mixed() { // the UNION ALL bounds the rows; partial days are whole rows here
		return "day >= toDate(?) AND day <= toDate(?)", []any{r.From, r.To.Add(-time.Millisecond)}
	}
	return "day >= toDate(?) AND day < toDate(?)", []any{r.From, r.To}
}

func (rollupSource) bucket(g Grain) (string, []any) {
	fn, ok := rollupBucketFns[g]
	if !ok {
		return "toUInt32(0)", nil
	}
	return "toUnixTimestamp(toDateTime(" + fn + "(day), 'UTC'))", nil
}

// bucketKey: a UTC day bucket is the day column itself.
func (rollupSource) bucketKey(g Grain) string {
	if g == timerange.GrainDay {
		return "day"
	}
	return ""
}

func (rollupSource) dim(d Dimension) string        { return store.QuoteIdent(rollupDims[d.Path]) }
func (rollupSource) filterExpr(d Dimension) string { return store.QuoteIdent(rollupDims[d.Path]) }

func (rollupSource) agg(c component, cond string, args []any, _ store.Scope) (string, []any) {
	col := func(suffix string) string { return store.QuoteIdent(rollupValues[c.Value.Path] + suffix) }
	// aggIf is fn over col under cond; a component reading every row gets
	// the plain aggregate (uniqExactMergeIf(users, 1) measured ~5% slower).
	aggIf := func(fn, col string) string {
		if cond == "1" {
			return fn + "(" + col + ")"
		}
		return fn + "If(" + col + ", " + cond + ")"
	}
	switch c.Kind {
	case KindCount:
		return aggIf("sum", "events"), args
	case KindUniqueUsers:
		return aggIf("uniqExactMerge", "users"), args
	case KindSum:
		return aggIf("sum", col("_sum")), args
	case KindAvg:
		both := append(append([]any{}, args...), args...)
		return aggIf("sum", col("_sum")) + " / nullIf(" + aggIf("sum", col("_n")) + ", 0)", both
	case KindMin:
		return aggIf("min", col("_min")), args
	}
	return aggIf("max", col("_max")), args
}

// rollupWritesTable and rollupRebuildsTable say which days of metrics_daily
// are exact (migration 0019): a (tenant, day) written since its last
// rebuild is dirty.
const (
	rollupWritesTable   = "metrics_daily_writes"
	rollupRebuildsTable = "metrics_daily_rebuilds"
)

// rebuildMargin is taken off a rebuild's start time when it is recorded:
// an insert's view stamps its write before the events part commits, so a
// write stamped just before the rebuild began may not be in what the
// rebuild read. Writes within the margin keep the day dirty (read from
// events, exact either way) until the next rebuild.
const rebuildMargin = 10 * time.Second

// dirtyDays is a statement listing the whole days in r on which the scope's
// tenant has events written since the last rebuild of that day (its own or
// one of every tenant): metrics_daily may count a redelivered event twice
// there, so the rollup path reads those days from events FINAL. The open
// day is dirty from its first write on; a closed day is clean again once
// the nightly RebuildRollupsJob has rebuilt it. GLOBAL: on a cluster both
// tables are Distributed.
func dirtyDays(scope store.Scope, r timerange.Range) (string, []any) {
	guard, tenant := scope.Predicate("")
	return "SELECT w.day FROM (SELECT day, max(written_at) AS written FROM " + store.QuoteIdent(rollupWritesTable) +
			" WHERE " + guard + " AND day >= toDate(?) AND day < toDate(?) GROUP BY day) AS w" +
			" GLOBAL LEFT JOIN (SELECT day, max(rebuilt_at) AS rebuilt FROM " + store.QuoteIdent(rollupRebuildsTable) +
			" WHERE (" + guard + " OR tenant_id = '') AND day >= toDate(?) AND day < toDate(?) GROUP BY day) AS r USING (day)" +
			" WHERE w.written >= ifNull(r.rebuilt, toDateTime64(0, 3, 'UTC'))",
		[]any{tenant, r.From, r.To, tenant, r.From, r.To}
}

// Rollups maintains metrics_daily outside the materialized view.
type Rollups struct {
	db      *store.DB
	cluster string
	margin  time.Duration
}

// NewRollups returns the rollup maintenance service on db (single node;
// see OnCluster).
func NewRollups(db *store.DB) *Rollups { return &Rollups{db: db, margin: rebuildMargin} }

// OnCluster returns r for tables migrated ON CLUSTER name: its deletes go
// to the local replicated tables on every node ("" means single node).
func (r *Rollups) OnCluster(name string) *Rollups { c := *r; c.cluster = name; return &c }

// NoInsertsInFlight returns r for a caller that knows every insert of the
// days it rebuilds has returned (a bulk load, a test): its rebuilds mark
// the days clean from their start, without rebuildMargin.
func (r *Rollups) NoInsertsInFlight() *Rollups { c := *r; c.margin = 0; return &c }

// Rebuild recomputes one tenant's UTC days [from, to) of metrics_daily
// from events FINAL, removing any double counting left by events
// redelivered in a different batch. Run it for closed days; rows the view
// adds for those days between the DELETE and the INSERT are counted twice
// (the next rebuild of the day fixes them), so not for today. The daily
// RebuildRollupsJob does this for every tenant.
func (r *Rollups) Rebuild(ctx context.Context, scope store.Scope, from, to time.Time) error {
	guard, tenant := scope.Predicate("")
	return r.rebuild(ctx, guard, []any{tenant}, scope.Tenant(), from, to)
}

// dangerousRebuildAllTenants is Rebuild for every tenant at once: one
// mutation instead of one per tenant. System work only (RebuildRollupsJob).
func (r *Rollups) dangerousRebuildAllTenants(ctx context.Context, from, to time.Time) error {
	return r.rebuild(ctx, "1", nil, "", from, to)
}

// rebuild deletes and recomputes the rows matching cond (with its args) in
// the UTC days [from, to) of metrics_daily, metrics_daily_users and
// metrics_daily_active.
func (r *Rollups) rebuild(ctx context.Context, cond string, args []any, tenant string, from, to time.Time) error {
	ctx = store.WithSettings(ctx, store.Settings{"mutations_sync": 2})
	// The engine's clock, as the writes view stamps with it.
	var started time.Time
	if err := r.db.QueryRow(ctx, []any{&started}, "SELECT now64(3, 'UTC')"); err != nil {
		return err
	}
	for _, t := range []struct{ table, cols, group string }{
		{rollupTable, "type, " + rollupCourseSQL + ", toUInt64(count()), uniqExactState(user_id), " +
			rollupValueSQL("score") + ", " + rollupValueSQL("seconds"), "tenant_id, day, type, course_id"},
		// The users rollups with their count (migration 0020).
		{rollupUsersTable, rollupCourseSQL + ", uniqExactState(user_id), uniqExact(user_id)", "tenant_id, day, course_id"},
		{rollupActiveTable, "uniqExactState(user_id), uniqExact(user_id)", "tenant_id, day"},
	} {
		if err := r.db.Exec(ctx, "ALTER TABLE "+store.MutationTarget(t.table, r.cluster)+" DELETE WHERE "+cond+
			" AND day >= toDate(?) AND day < toDate(?)", append(slices.Clone(args), from, to)...); err != nil {
			return err
		}
		if err := r.db.Exec(ctx, "INSERT INTO "+store.QuoteIdent(t.table)+" SELECT tenant_id, toDate(occurred_at) AS day, "+t.cols+
			" FROM "+store.QuoteIdent(eventsTable)+" FINAL WHERE "+cond+" AND occurred_at >= ? AND occurred_at < ?"+
			" GROUP BY "+t.group, append(slices.Clone(args), from, to)...); err != nil {
			return err
		}
	}
	// Only a finished rebuild makes its days clean (see dirtyDays).
	return r.db.Exec(ctx, "INSERT INTO "+store.QuoteIdent(rollupRebuildsTable)+" SELECT ?, toDate(?) + number, ? FROM numbers(toUInt64(greatest(0, dateDiff('day', toDate(?), toDate(?)))))",
		tenant, from, started.Add(-r.margin), from, to)
}

// dangerousDirtyDays lists, over every tenant, the UTC days before
// `before`, oldest first, that some tenant wrote events to since the
// day's last rebuild (see dirtyDays). System work only
// (RebuildRollupsJob): it reads every tenant.
func (r *Rollups) dangerousDirtyDays(ctx context.Context, before time.Time) ([]time.Time, error) {
	rebuilt := func(cond string) string {
		return "(SELECT tenant_id, day, max(rebuilt_at) AS rebuilt FROM " + store.QuoteIdent(rollupRebuildsTable) +
			" WHERE " + cond + " AND day < toDate(?) GROUP BY tenant_id, day)"
	}
	return r.days(ctx, "SELECT w.day FROM (SELECT tenant_id, day, max(written_at) AS written FROM "+store.QuoteIdent(rollupWritesTable)+
		" WHERE day < toDate(?) GROUP BY tenant_id, day) AS w"+
		" GLOBAL LEFT JOIN "+rebuilt("tenant_id != ''")+" AS t USING (tenant_id, day)"+
		" GLOBAL LEFT JOIN (SELECT day, rebuilt FROM "+rebuilt("tenant_id = ''")+") AS a USING (day)"+
		" WHERE w.written >= greatest(t.rebuilt, a.rebuilt) GROUP BY w.day ORDER BY w.day", before, before, before)
}

// days runs a statement listing days (Date) and returns them as UTC times.
func (r *Rollups) days(ctx context.Context, sql string, args ...any) ([]time.Time, error) {
	return queryDays(ctx, r.db, sql, args...)
}

// queryDays runs a statement listing days (Date) and returns them as UTC times.
func queryDays(ctx context.Context, db *store.DB, sql string, args ...any) ([]time.Time, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var days []time.Time
	for rows.Next() {
		var d time.Time
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		days = append(days, d.UTC())
	}
	return days, rows.Err()
}

// dangerousIncompleteDays lists, over every tenant, the UTC days before
// `before`, oldest first, on which metrics_daily_users or
// metrics_daily_active count other users than metrics_daily for some
// tenant. Those tables came with migrations 0009 and 0012, and their views
// see only inserts made after them: an upgraded database has no rows for
// its earlier days, and partial rows for a day that got events both
// before and after the upgrade (the day of the upgrade, late events for
// older days). Every view sees every insert and uniqExact is exact, so a
// complete day counts the same users in all three tables. GLOBAL: on a
// cluster they are Distributed tables, and a plain JOIN of two of them is
// refused (distributed_product_mode = deny). System work only
// (RebuildRollupsJob): it reads every tenant.
func (r *Rollups) dangerousIncompleteDays(ctx context.Context, before time.Time) ([]time.Time, error) {
	users := func(table string) string {
		return "(SELECT tenant_id, day, uniqExactMerge(users) AS n FROM " + store.QuoteIdent(table) +
			" WHERE day < toDate(?) GROUP BY tenant_id, day)"
	}
	return r.days(ctx, "SELECT d.day FROM "+users(rollupTable)+" AS d"+
		" GLOBAL LEFT JOIN "+users(rollupUsersTable)+" AS u USING (tenant_id, day)"+
		" GLOBAL LEFT JOIN "+users(rollupActiveTable)+" AS a USING (tenant_id, day)"+
		" WHERE u.n != d.n OR a.n != d.n GROUP BY d.day ORDER BY d.day", before, before, before)
}

// rollupCourseSQL is the course_id column of a rollup row from events.
const rollupCourseSQL = "ifNull(accurateCastOrNull(properties.`course_id`, 'String'), '') AS course_id"

// emptyValueSQL prints the columns of rollupValueSQL for no values.
func emptyValueSQL(name string) string {
	return "toFloat64(0) AS " + name + "_sum, toUInt64(0) AS " + name + "_n, CAST(NULL, 'Nullable(Float64)') AS " + name +
		"_min, CAST(NULL, 'Nullable(Float64)') AS " + name + "_max"
}

// rollupValueSQL prints the sum, n, min and max columns of one value,
// named as the rollup's columns.
func rollupValueSQL(name string) string {
	v := "accurateCastOrNull(properties." + store.QuoteIdent(name) + ", 'Float64')"
	return "ifNull(sum(" + v + "), 0) AS " + name + "_sum, toUInt64(count(" + v + ")) AS " + name + "_n, min(" + v + ") AS " +
		name + "_min, max(" + v + ") AS " + name + "_max"
}
