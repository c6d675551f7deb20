package metrics_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// rebuildJanuary rebuilds the tenants' January rollups, as the nightly
// job leaves closed days: they are then read from metrics_daily, not
// (dirty, see metrics.Rollups) from events.
func rebuildJanuary(t *testing.T, e *env, tenants ...string) {
	t.Helper()
	for _, tenant := range tenants {
		scope, err := store.DangerousScopeForTenant(tenant)
		require.NoError(t, err)
		require.NoError(t, metrics.NewRollups(e.db).NoInsertsInFlight().Rebuild(context.Background(), scope, *january.From, *january.To))
	}
}

func TestRollupMatchesRaw(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "acme", 4000, 0)
	seed(t, e.db, "globex", 1500, 2)
	rebuildJanuary(t, e, "acme", "globex")
	ctx := as("acme")
	for _, r := range []metrics.Request{
		{MetricKey: "enrolments", TimeRange: january, Grain: "DAY"},
		{MetricKey: "active_learners_wau", TimeRange: january, Dimensions: []string{"properties.course_id"}},
		{MetricKey: "avg_quiz_score", TimeRange: january, Grain: "MONTH", Filters: []metrics.Filter{{Dimension: "properties.course_id", Op: metrics.OpIn, Values: []string{"c1", "c2"}}}},
		{MetricKey: "learning_minutes", TimeRange: january, Grain: "WEEK", Dimensions: []string{"type"}},
		{MetricKey: "course_completion_rate", TimeRange: january, Grain: metrics.GrainTotal, Dimensions: []string{"properties.course_id"}, Limit: 2},
	} {
		t.Run(r.MetricKey, func(t *testing.T) {
			raw, err := e.raw.Query(ctx, r)
			require.NoError(t, err)
			roll, err := e.q.Query(ctx, r)
			require.NoError(t, err)
			assert.Equal(t, metrics.PathRaw, raw.Path)
			assert.Equal(t, metrics.PathRollup, roll.Path)
			assertSameResult(t, raw, roll)
		})
	}
}

func TestRollupNotUsedWhenItCannotAnswer(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "acme", 500, 0)
	for name, r := range map[string]metrics.Request{
		"hour grain":      {MetricKey: "enrolments", TimeRange: january, Grain: "HOUR"},
		"other zone":      {MetricKey: "enrolments", TimeRange: january, Grain: "DAY", Timezone: "Europe/Berlin"},
		"partial day":     {MetricKey: "enrolments", TimeRange: january, Grain: "DAY"},
		"filter on score": {MetricKey: "quiz_pass_rate", TimeRange: january},
		"new learners":    {MetricKey: "new_learners", TimeRange: january},
	} {
		if name == "partial day" { // no whole day inside: nothing for the rollup
			r.TimeRange = timerange.Spec{From: ptime("2026-01-05T06:00:00Z"), To: ptime("2026-01-05T18:00:00Z")}
		}
		res, err := e.q.Query(as("acme"), r)
		require.NoError(t, err, name)
		assert.Equal(t, metrics.PathRaw, res.Path, name)
	}
}

// A duplicate delivered in another batch is counted once by the raw path
// (FINAL) and, without any rebuild, by the rollup path: metrics_daily
// counts it twice, but a day written since its last rebuild is dirty and
// read from events FINAL. Rebuild makes the days clean, read from the
// rollup again; a later redelivery makes its day dirty again. Tampering
// with metrics_daily shows which days the rollup path read from it.
func TestRollupCountsRedeliveredDuplicatesOnce(t *testing.T) {
	e := newEnv(t)
	bg := context.Background()
	seed(t, e.db, "acme", 600, 0)
	seed(t, e.db, "acme", 600, 0) // the same events again, another insert
	ctx := as("acme")
	r := metrics.Request{MetricKey: "enrolments", TimeRange: january, Grain: "DAY"}
	var stored float64
	require.NoError(t, e.db.QueryRow(bg, []any{&stored}, "SELECT sum(events) FROM metrics_daily WHERE tenant_id = 'acme' AND type = 'course.enrolled'"))
	require.Equal(t, 200.0, stored, "precondition: metrics_daily counts every enrolment twice")
	raw, err := e.raw.Query(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, 100.0, *raw.Totals.Value)
	// tamper adds n enrolments on Jan 10 to metrics_daily alone.
	tamper := func(n int) {
		require.NoError(t, e.db.Exec(bg, "INSERT INTO metrics_daily (tenant_id, day, type, course_id, events) VALUES ('acme', '2026-01-10', 'course.enrolled', 'c0', ?)", n))
	}
	tamper(1000)
	roll, err := e.q.Query(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, metrics.PathRollup, roll.Path)
	assertSameResult(t, raw, roll) // every day dirty: read from events

	scope, err := store.DangerousScopeForTenant("acme")
	require.NoError(t, err)
	require.NoError(t, metrics.NewRollups(e.db).NoInsertsInFlight().Rebuild(bg, scope, *january.From, *january.To))
	roll, err = e.q.Query(ctx, r)
	require.NoError(t, err)
	assertSameResult(t, raw, roll) // rebuilt: exact from the rollup
	tamper(1000)
	roll, err = e.q.Query(ctx, r)
	require.NoError(t, err)
	require.Equal(t, 1100.0, *roll.Totals.Value, "clean days are read from metrics_daily")

	// Redeliver Jan 10's events: that day is dirty again and read from
	// events (the tampered rows no longer count), the others stay clean.
	require.NoError(t, e.db.Exec(bg, `
		INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		SELECT tenant_id, event_id, type, user_id, session_id, occurred_at, received_at + 1, properties
		FROM events WHERE tenant_id = 'acme' AND toDate(occurred_at) = '2026-01-10'`))
	roll, err = e.q.Query(ctx, r)
	require.NoError(t, err)
	assertSameResult(t, raw, roll)
	globex, err := e.q.Query(as("globex"), r)
	require.NoError(t, err)
	assert.Zero(t, *globex.Totals.Value, "another tenant's dirty days and rows are not read")
}

// The scheduled job rebuilds closed days of every tenant: after it, a
// duplicate redelivered in a second batch counts once on both paths.
func TestRebuildRollupsJobRemovesRedeliveredDuplicates(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "acme", 600, 0)
	seed(t, e.db, "globex", 300, 1)
	// A second batch re-sends acme's events of January 20–31 and a few of
	// globex's; today (Feb 1, per testNow) would not be rebuilt.
	require.NoError(t, e.db.Exec(context.Background(), `
		INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		SELECT tenant_id, event_id, type, user_id, session_id, occurred_at, received_at + 1, properties
		FROM events WHERE occurred_at >= '2026-01-20' AND (tenant_id = 'acme' OR cityHash64(event_id) % 3 = 0)`))
	reqs := []metrics.Request{
		{MetricKey: "enrolments", TimeRange: january, Grain: "DAY"},
		{MetricKey: "avg_quiz_score", TimeRange: january, Grain: "WEEK", Dimensions: []string{"properties.course_id"}},
		{MetricKey: "learning_minutes", TimeRange: january, Grain: "DAY"},
	}
	differs := func(tenant string) bool {
		for _, r := range reqs {
			raw, err := e.raw.Query(as(tenant), r)
			require.NoError(t, err)
			roll, err := e.q.Query(as(tenant), r)
			require.NoError(t, err)
			require.Equal(t, metrics.PathRollup, roll.Path)
			if *raw.Totals.Value != *roll.Totals.Value {
				return true
			}
		}
		return false
	}
	require.False(t, differs("acme"), "days written since their last rebuild are read from events")
	require.False(t, differs("globex"))
	stored := func(tenant string) (rollup, raw uint64) {
		require.NoError(t, e.db.QueryRow(context.Background(), []any{&rollup}, "SELECT sum(events) FROM metrics_daily WHERE tenant_id = ?", tenant))
		require.NoError(t, e.db.QueryRow(context.Background(), []any{&raw}, "SELECT count() FROM events FINAL WHERE tenant_id = ?", tenant))
		return rollup, raw
	}
	rollup, raw := stored("acme")
	require.Greater(t, rollup, raw, "precondition: metrics_daily double counts before the job")
	// Days: 1 rebuilds Jan 31 as the last closed day; the other dirty days
	// (every day the seed wrote) are rebuilt because they are dirty.
	job := metrics.NewRebuildRollupsJob(e.db, metrics.RebuildRollupsConfig{Days: 1, Now: func() time.Time { return testNow.Add(5 * time.Hour) }})
	assert.Equal(t, metrics.KindRebuildRollups, job.Entry().Task.Kind)
	assert.Equal(t, "2006-01-02", job.Entry().KeyLayout)
	for range 2 { // idempotent: a second run changes nothing
		require.NoError(t, job.ProcessJob(context.Background(), jobs.Job{Kind: metrics.KindRebuildRollups}))
		for _, tenant := range []string{"acme", "globex"} {
			rollup, raw := stored(tenant)
			assert.Equal(t, raw, rollup, "metrics_daily rebuilt from events FINAL")
			for _, r := range reqs {
				raw, err := e.raw.Query(as(tenant), r)
				require.NoError(t, err)
				roll, err := e.q.Query(as(tenant), r)
				require.NoError(t, err)
				assertSameResult(t, raw, roll)
			}
		}
	}
}

// A range ending now ("last 30d", month to date) reads its whole days from
// the rollup and its partial first and last days from the events table.
func TestRollupAnswersPartialEdgeDaysFromRaw(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "acme", 4000, 0)
	seed(t, e.db, "globex", 1500, 2)
	rebuildJanuary(t, e, "acme", "globex")
	now := func() time.Time { return time.Date(2026, 1, 31, 15, 30, 0, 0, time.UTC) }
	q := metrics.NewQuerier(e.db, e.reg, metrics.QuerierConfig{Now: now})
	raw := metrics.NewQuerier(e.db, e.reg, metrics.QuerierConfig{Now: now, DisableRollups: true})
	last := timerange.Spec{Last: "20d"}
	mtd := timerange.Spec{ToDate: timerange.MonthToDate}
	for name, r := range map[string]metrics.Request{
		"count per day, last 20d":          {MetricKey: "enrolments", TimeRange: last, Grain: "DAY"},
		"dau by course, last 20d":          {MetricKey: "active_learners_dau", TimeRange: last, Grain: "DAY", Dimensions: []string{"properties.course_id"}},
		"wau total, month to date":         {MetricKey: "active_learners_wau", TimeRange: mtd, Grain: metrics.GrainTotal},
		"avg by type per week, last 20d":   {MetricKey: "avg_quiz_score", TimeRange: last, Grain: "WEEK", Dimensions: []string{"type"}},
		"minutes vs previous period, mtd":  {MetricKey: "learning_minutes", TimeRange: mtd, Grain: "DAY", CompareTo: metrics.ComparePreviousPeriod},
		"ratio by course, last 20d, top 2": {MetricKey: "course_completion_rate", TimeRange: last, Dimensions: []string{"properties.course_id"}, Limit: 2},
		"enrolments from 07:15 to 13:45":   {MetricKey: "enrolments", TimeRange: timerange.Spec{From: ptime("2026-01-03T07:15:00Z"), To: ptime("2026-01-29T13:45:00Z")}, Grain: "DAY"},
		// The edge days compute only the columns a group reads: these read
		// the course through a filter only, and a value and users together.
		"enrolments in two courses, last 20d": {MetricKey: "enrolments", TimeRange: last, Grain: "DAY",
			Filters: []metrics.Filter{{Dimension: "properties.course_id", Op: metrics.OpIn, Values: []string{"c1", "c2"}}}},
		"avg score of one course, mtd": {MetricKey: "avg_quiz_score", TimeRange: mtd, Grain: "DAY",
			Filters: []metrics.Filter{{Dimension: "properties.course_id", Op: metrics.OpEq, Values: []string{"c1"}}}},
	} {
		for _, tenant := range []string{"acme", "globex"} {
			t.Run(name+"/"+tenant, func(t *testing.T) {
				want, err := raw.Query(as(tenant), r)
				require.NoError(t, err)
				got, err := q.Query(as(tenant), r)
				require.NoError(t, err)
				assert.Equal(t, metrics.PathRollup, got.Path)
				require.NotNil(t, want.Totals.Value)
				assert.NotZero(t, *want.Totals.Value)
				assertSameResult(t, want, got)
			})
		}
	}
}

// Unique users by course per whole UTC day read each (day, course) row of
// metrics_daily_users after FINAL and merge states only for the totals,
// over each half of the days: the answers equal the raw path's with the
// rows of one key spread over several parts (merges stopped), users seen
// in one half of the range only, a metric-level course filter batched
// beside an unfiltered metric, request filters, comparisons, a range over
// a month boundary and another tenant's rows in the table.
func TestRollupUsersByCoursePerDayMatchesRaw(t *testing.T) {
	e := newEnv(t)
	seedUsersRollupCase(t, e, "metrics_daily_users", "day, course_id")
	for _, tenant := range []string{"acme", "globex"} {
		_, err := e.reg.Create(as(tenant), metrics.Input{Key: "learners_c1_c2", Name: "Learners of c1 and c2", Kind: metrics.KindUniqueUsers,
			Filters:    []metrics.Filter{{Dimension: "properties.course_id", Op: metrics.OpIn, Values: []string{"c1", "c2"}}},
			Dimensions: []metrics.Dimension{{Path: "properties.course_id", Type: metrics.TypeString}}})
		require.NoError(t, err)
	}
	reqs := []metrics.Request{
		{MetricKey: "active_learners_dau", TimeRange: january, Grain: "DAY", Dimensions: []string{"properties.course_id"}},
		{MetricKey: "learners_c1_c2", TimeRange: january, Grain: "DAY", Dimensions: []string{"properties.course_id"}},
	}
	totals := map[string]float64{}
	for _, tenant := range []string{"acme", "globex"} {
		loader := metrics.NewLoader(e.q, metrics.LoaderConfig{})
		got := make([]*metrics.Result, len(reqs))
		errs := make([]error, len(reqs))
		var wg sync.WaitGroup
		for i, r := range reqs {
			wg.Go(func() { got[i], errs[i] = loader.Load(as(tenant), r) })
		}
		wg.Wait()
		for i, r := range reqs {
			require.NoError(t, errs[i])
			want, err := e.raw.Query(as(tenant), r)
			require.NoError(t, err)
			assert.Equal(t, metrics.PathRollup, got[i].Path)
			assert.Equal(t, 1, got[i].SQLCount, "both metrics in one statement")
			require.NotNil(t, want.Totals.Value)
			assert.NotZero(t, *want.Totals.Value)
			assertSameResult(t, want, got[i])
			totals[tenant+"/"+r.MetricKey] = *got[i].Totals.Value
		}
	}
	assert.Equal(t, 2, e.counter.ran("finalizeAggregation(users)"), "one statement of this shape per tenant")
	byCourse := func(key string, spec timerange.Spec) metrics.Request {
		return metrics.Request{MetricKey: key, TimeRange: spec, Grain: "DAY", Dimensions: []string{"properties.course_id"}}
	}
	jan10 := timerange.Spec{From: ptime("2026-01-10T00:00:00Z"), To: ptime("2026-01-11T00:00:00Z")}
	for name, r := range map[string]metrics.Request{
		// A single day is not split in halves.
		"one day": byCourse("learners_c1_c2", jan10),
		// An odd number of days, the halves 7 and 8 days long, over the
		// turn of the year (two partitions; December is empty).
		"over new year": byCourse("active_learners_dau", timerange.Spec{From: ptime("2025-12-25T00:00:00Z"), To: ptime("2026-01-09T00:00:00Z")}),
		"request filter": func() metrics.Request {
			r := byCourse("active_learners_dau", january)
			r.Filters = []metrics.Filter{{Dimension: "properties.course_id", Op: metrics.OpIn, Values: []string{"c1", "c3"}}}
			return r
		}(),
		// The comparison window (December) holds no rows at all.
		"vs previous period": func() metrics.Request {
			r := byCourse("active_learners_dau", january)
			r.CompareTo = metrics.ComparePreviousPeriod
			return r
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			before := e.counter.ran("finalizeAggregation(users)")
			want, err := e.raw.Query(as("acme"), r)
			require.NoError(t, err)
			got, err := e.q.Query(as("acme"), r)
			require.NoError(t, err)
			assert.Equal(t, metrics.PathRollup, got.Path)
			assert.Positive(t, e.counter.ran("finalizeAggregation(users)")-before, "the rows-per-group statement ran")
			require.NotNil(t, want.Totals.Value)
			assert.NotZero(t, *want.Totals.Value)
			assertSameResult(t, want, got)
		})
	}
	// 40 users per tenant, 40 more in acme's second part and 14 seen in
	// one half of January only.
	assert.Equal(t, 94.0, totals["acme/active_learners_dau"])
	assert.Equal(t, 40.0, totals["globex/active_learners_dau"])
	assert.Less(t, totals["acme/learners_c1_c2"], totals["acme/active_learners_dau"])
}

// A database upgraded past migration 0009 or 0012 has metrics_daily for
// its earlier days and no metrics_daily_users or metrics_daily_active rows
// for them, or only the rows of events that came after the upgrade: the
// rebuild job finds those days and recomputes them, after which unique
// users by course and per day agree with the raw path again.
func TestRebuildRollupsJobBackfillsDaysTheUsersRollupLacks(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "acme", 2000, 0)
	seed(t, e.db, "globex", 1000, 1)
	ctx := store.WithSettings(context.Background(), store.Settings{"mutations_sync": 2})
	require.NoError(t, e.db.Exec(ctx, "ALTER TABLE metrics_daily_users DELETE WHERE day < '2026-01-08'"))
	require.NoError(t, e.db.Exec(ctx, "ALTER TABLE metrics_daily_active DELETE WHERE tenant_id = 'acme' AND day >= '2026-01-12' AND day < '2026-01-15'"))
	// A late event for January 13th after the upgrade: that day then has a
	// row in metrics_daily_active, but with one user only.
	require.NoError(t, e.db.Exec(ctx, `
		INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		VALUES ('acme', 'late-1', 'user.login', 'u1', '', '2026-01-13 09:00:00', '2026-02-01 00:00:00', '{}')`))
	r := metrics.Request{MetricKey: "active_learners_dau", TimeRange: january, Grain: "DAY", Dimensions: []string{"properties.course_id"}}
	perDay := metrics.Request{MetricKey: "active_learners_dau", TimeRange: january, Grain: "DAY"}
	keys := func(table string) uint64 {
		var n uint64
		require.NoError(t, e.db.QueryRow(context.Background(), []any{&n}, "SELECT uniqExact(tenant_id, day) FROM "+table))
		return n
	}
	require.Less(t, keys("metrics_daily_users"), keys("metrics_daily"), "precondition: days without users rows")
	require.Less(t, keys("metrics_daily_active"), keys("metrics_daily"), "precondition: days without active rows")
	// The learners of January 1st, over every course.
	firstDay := func(q *metrics.Querier) float64 {
		res, err := q.Query(as("acme"), r)
		require.NoError(t, err)
		var sum float64
		for _, s := range res.Series {
			if v := s.Points[0].Value; v != nil {
				sum += *v
			}
		}
		return sum
	}
	require.Positive(t, firstDay(e.raw))
	require.Zero(t, firstDay(e.q), "precondition: the early days read empty from the rollup")
	rawDays, err := e.raw.Query(as("acme"), perDay)
	require.NoError(t, err)
	rollDays, err := e.q.Query(as("acme"), perDay)
	require.NoError(t, err)
	require.Equal(t, 1.0, *rollDays.Series[0].Points[12].Value, "precondition: January 13 reads one user from metrics_daily_active")
	require.Positive(t, *rawDays.Series[0].Points[12].Value)

	job := metrics.NewRebuildRollupsJob(e.db, metrics.RebuildRollupsConfig{Now: func() time.Time { return testNow.Add(5 * time.Hour) }})
	for range 2 { // idempotent
		require.NoError(t, job.ProcessJob(context.Background(), jobs.Job{Kind: metrics.KindRebuildRollups}))
		assert.Equal(t, keys("metrics_daily"), keys("metrics_daily_users"))
		assert.Equal(t, keys("metrics_daily"), keys("metrics_daily_active"))
		for _, tenant := range []string{"acme", "globex"} {
			for _, r := range []metrics.Request{r, perDay} {
				want, err := e.raw.Query(as(tenant), r)
				require.NoError(t, err)
				got, err := e.q.Query(as(tenant), r)
				require.NoError(t, err)
				assert.Equal(t, metrics.PathRollup, got.Path)
				assertSameResult(t, want, got)
			}
		}
	}
}

// Unique users with no dimension and no filter read metrics_daily_active,
// one row per (tenant, day): per day from the rows' stored counts, per
// week, month or in total by merging them, and with partial edge days
// from events. Every answer equals the raw path's, with a day's rows in
// two parts (merges stopped), users seen in one half of January only,
// comparisons over an empty month and another tenant in the table.
func TestRollupActiveLearnersMatchRaw(t *testing.T) {
	e := newEnv(t)
	seedUsersRollupCase(t, e, "metrics_daily_active", "day")
	stored := "FROM `metrics_daily_active` FINAL"
	q := metrics.NewQuerier(e.db, e.reg, metrics.QuerierConfig{Now: func() time.Time { return time.Date(2026, 1, 31, 15, 30, 0, 0, time.UTC) }})
	raw := metrics.NewQuerier(e.db, e.reg, metrics.QuerierConfig{Now: func() time.Time { return time.Date(2026, 1, 31, 15, 30, 0, 0, time.UTC) }, DisableRollups: true})
	for name, c := range map[string]struct {
		r      metrics.Request
		stored bool // answered from the rows' stored counts
	}{
		// January ends with the open day (now is 31 Jan): uniqExact states
		// are duplicate-proof, so it is read from the rollup like the
		// closed days, whole days only, from the stored counts.
		"dau per day":              {metrics.Request{MetricKey: "active_learners_dau", TimeRange: january, Grain: "DAY"}, true},
		"dau vs previous period":   {metrics.Request{MetricKey: "active_learners_dau", TimeRange: january, Grain: "DAY", CompareTo: metrics.ComparePreviousPeriod}, true},
		"dau on one day":           {metrics.Request{MetricKey: "active_learners_dau", TimeRange: timerange.Spec{From: ptime("2026-01-10T00:00:00Z"), To: ptime("2026-01-11T00:00:00Z")}, Grain: "DAY"}, true},
		"dau over new year":        {metrics.Request{MetricKey: "active_learners_dau", TimeRange: timerange.Spec{From: ptime("2025-12-25T00:00:00Z"), To: ptime("2026-01-09T00:00:00Z")}, Grain: "DAY"}, true},
		"wau per week":             {metrics.Request{MetricKey: "active_learners_wau", TimeRange: january, Grain: "WEEK"}, false},
		"mau total":                {metrics.Request{MetricKey: "active_learners_mau", TimeRange: january, Grain: metrics.GrainTotal}, false},
		"dau per day, last 20d":    {metrics.Request{MetricKey: "active_learners_dau", TimeRange: timerange.Spec{Last: "20d"}, Grain: "DAY"}, false},
		"wau total, month to date": {metrics.Request{MetricKey: "active_learners_wau", TimeRange: timerange.Spec{ToDate: timerange.MonthToDate}, Grain: metrics.GrainTotal}, false},
	} {
		for _, tenant := range []string{"acme", "globex"} {
			t.Run(name+"/"+tenant, func(t *testing.T) {
				before, beforeActive := e.counter.ran(stored), e.counter.ran("`metrics_daily_active`")
				want, err := raw.Query(as(tenant), c.r)
				require.NoError(t, err)
				got, err := q.Query(as(tenant), c.r)
				require.NoError(t, err)
				assert.Equal(t, metrics.PathRollup, got.Path)
				assert.Positive(t, e.counter.ran("`metrics_daily_active`")-beforeActive, "read from metrics_daily_active")
				assert.Equal(t, c.stored, e.counter.ran(stored) > before, "read the stored counts")
				require.NotNil(t, want.Totals.Value)
				assert.NotZero(t, *want.Totals.Value)
				assertSameResult(t, want, got)
			})
		}
	}
	// A filter or a dimension keeps the per-course table.
	for _, r := range []metrics.Request{
		{MetricKey: "active_learners_dau", TimeRange: january, Grain: "DAY", Dimensions: []string{"properties.course_id"}},
		{MetricKey: "active_learners_dau", TimeRange: january, Grain: "DAY", Filters: []metrics.Filter{{Dimension: "properties.course_id", Op: metrics.OpEq, Values: []string{"c1"}}}},
	} {
		before := e.counter.ran("`metrics_daily_active`")
		want, err := raw.Query(as("acme"), r)
		require.NoError(t, err)
		got, err := q.Query(as("acme"), r)
		require.NoError(t, err)
		assert.Equal(t, before, e.counter.ran("`metrics_daily_active`"))
		assertSameResult(t, want, got)
	}
}

// seedUsersRollupCase stops the merges of rollup (a users rollup table,
// keyed by key after the tenant) for the test and seeds acme and globex,
// then a second part for acme's keys (other users' events on the same days
// and courses), checked to exist, and users of c1 seen only early or only
// late in January: a total that lost either half of the days would miss
// them.
func seedUsersRollupCase(t *testing.T, e *env, rollup, key string) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, e.db.Exec(ctx, "SYSTEM STOP MERGES "+rollup))
	t.Cleanup(func() { _ = e.db.Exec(context.Background(), "SYSTEM START MERGES "+rollup) })
	seed(t, e.db, "acme", 3000, 0)
	seed(t, e.db, "globex", 1500, 2)
	require.NoError(t, e.db.Exec(ctx, `
		INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		SELECT tenant_id, concat(event_id, '-again'), type, concat(user_id, 'x'), session_id, occurred_at, received_at, properties
		FROM events WHERE tenant_id = 'acme' AND cityHash64(event_id) % 3 = 0`))
	require.NoError(t, e.db.Exec(ctx, `
		INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		SELECT 'acme', concat('half-', toString(number)), 'lesson.completed',
		       concat(if(number % 2 = 0, 'early-', 'late-'), toString(number % 7)), '',
		       if(number % 2 = 0, toDateTime64('2026-01-03 10:00:00', 3, 'UTC'), toDateTime64('2026-01-29 10:00:00', 3, 'UTC')) + toIntervalHour(number % 5),
		       toDateTime64('2026-02-01 00:00:00', 3, 'UTC'), '{"course_id":"c1"}'
		FROM numbers(60)`))
	var rows, keys uint64
	require.NoError(t, e.db.QueryRow(ctx, []any{&rows, &keys}, "SELECT count(), uniqExact("+key+") FROM "+rollup+" WHERE tenant_id = 'acme'"))
	require.Greater(t, rows, keys, "precondition: some of acme's keys are in two parts of "+rollup)
}

// TestAlignedRelativeWindowMatchesRaw answers relative windows aligned to
// whole buckets (timerange.ResolveAligned, what metricQuery asks) on random
// data with every event redelivered in a second batch, after the nightly
// rebuild of the closed days, and some closed days' events redelivered
// again after it: the rollup answers equal the raw path's, because counts
// read the open day (31 Jan, still being ingested) and the days written
// since the rebuild from events FINAL, and unique users (uniqExact states,
// duplicate-proof) read every day, the open one too, from their rollups.
func TestAlignedRelativeWindowMatchesRaw(t *testing.T) {
	e := newEnv(t)
	src := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", src)
	rnd := rand.New(rand.NewPCG(src, 0))
	now := time.Date(2026, 1, 31, 15, 30, 0, 0, time.UTC)
	for _, tenant := range []string{"acme", "globex"} {
		n, salt := 500+rnd.IntN(3000), rnd.IntN(1000)
		seed(t, e.db, tenant, n, salt)
		seed(t, e.db, tenant, n, salt) // redelivered in another batch
		scope, err := store.DangerousScopeForTenant(tenant)
		require.NoError(t, err)
		require.NoError(t, metrics.NewRollups(e.db).NoInsertsInFlight().Rebuild(context.Background(), scope, *january.From, now.Truncate(24*time.Hour)))
		// After the rebuild a random share of a few random closed days is
		// redelivered once more: those days are dirty until the next one.
		for range 1 + rnd.IntN(4) {
			day := january.From.AddDate(0, 0, rnd.IntN(30))
			require.NoError(t, e.db.Exec(context.Background(), `
				INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
				SELECT tenant_id, event_id, type, user_id, session_id, occurred_at, received_at + 1, properties
				FROM events WHERE tenant_id = ? AND toDate(occurred_at) = toDate(?) AND cityHash64(event_id, ?) % 3 = 0`, tenant, day, rnd.Uint64()))
		}
	}
	clock := func() time.Time { return now }
	q := metrics.NewQuerier(e.db, e.reg, metrics.QuerierConfig{Now: clock})
	raw := metrics.NewQuerier(e.db, e.reg, metrics.QuerierConfig{Now: clock, DisableRollups: true})
	for name, r := range map[string]metrics.Request{
		"enrolments by day, last 30d":     {MetricKey: "enrolments", TimeRange: timerange.Spec{Last: "30d"}, Grain: "DAY"},
		"dau by day, last 20d":            {MetricKey: "active_learners_dau", TimeRange: timerange.Spec{Last: "20d"}, Grain: "DAY"},
		"dau by course, last 7d":          {MetricKey: "active_learners_dau", TimeRange: timerange.Spec{Last: "7d"}, Grain: "DAY", Dimensions: []string{"properties.course_id"}},
		"minutes by week, last 20d":       {MetricKey: "learning_minutes", TimeRange: timerange.Spec{Last: "20d"}, Grain: "WEEK"},
		"avg score total, last 30d":       {MetricKey: "avg_quiz_score", TimeRange: timerange.Spec{Last: "30d"}, Grain: metrics.GrainTotal},
		"completions, month to date":      {MetricKey: "lesson_completions", TimeRange: timerange.Spec{ToDate: timerange.MonthToDate}, Grain: "DAY"},
		"enrolments vs previous, last 7d": {MetricKey: "enrolments", TimeRange: timerange.Spec{Last: "7d"}, Grain: "DAY", CompareTo: metrics.ComparePreviousPeriod},
	} {
		for _, tenant := range []string{"acme", "globex"} {
			t.Run(name+"/"+tenant, func(t *testing.T) {
				unit := r.Grain
				if unit == metrics.GrainTotal {
					unit = timerange.GrainNone
				}
				rng, err := timerange.ResolveAligned(r.TimeRange, now, unit, time.UTC, "timeRange")
				require.NoError(t, err)
				r.TimeRange = timerange.Spec{From: &rng.From, To: &rng.To}
				want, err := raw.Query(as(tenant), r)
				require.NoError(t, err)
				got, err := q.Query(as(tenant), r)
				require.NoError(t, err)
				assert.Equal(t, metrics.PathRollup, got.Path)
				require.NotNil(t, want.Totals.Value)
				assert.NotZero(t, *want.Totals.Value)
				assertSameResult(t, want, got)
			})
		}
	}
}

// The users rollups' stored counts (migration 0020) answer unique users per
// day, and per course and day, for days rebuilt and not written since; a
// day that gets events after its rebuild (new users, and a redelivered
// batch) reads its state instead, because the view writes 0 beside them.
// On random data, every bucket of every series equals the raw path's, for
// both tenants, before and after the late writes.
func TestStoredUserCountsMatchRaw(t *testing.T) {
	e := newEnv(t)
	src := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", src)
	rnd := rand.New(rand.NewPCG(src, 0))
	ctx := context.Background()
	for _, tenant := range []string{"acme", "globex"} {
		seed(t, e.db, tenant, 500+rnd.IntN(2500), rnd.IntN(1000))
	}
	rebuildJanuary(t, e, "acme", "globex")
	// stored counts table's rows of tenant (on day unless it is zero, and
	// under cond) and those with a stored count.
	stored := func(table, tenant string, day time.Time, cond string) (withCount, rows uint64) {
		require.NoError(t, e.db.QueryRow(ctx, []any{&withCount, &rows},
			"SELECT countIf(users_n > 0), count() FROM "+table+" FINAL WHERE tenant_id = ? AND (day = toDate(?) OR ? = 0) AND "+cond,
			tenant, day, day.Unix()))
		return withCount, rows
	}
	for _, table := range []string{"metrics_daily_users", "metrics_daily_active"} {
		n, rows := stored(table, "acme", time.Unix(0, 0), "1")
		require.Positive(t, rows)
		require.Equal(t, rows, n, "precondition: every rebuilt row of %s has its count", table)
	}
	reqs := map[string]metrics.Request{
		"dau per day":           {MetricKey: "active_learners_dau", TimeRange: january, Grain: "DAY"},
		"dau by course per day": {MetricKey: "active_learners_dau", TimeRange: january, Grain: "DAY", Dimensions: []string{"properties.course_id"}},
	}
	check := func(stage string) {
		for name, r := range reqs {
			for _, tenant := range []string{"acme", "globex"} {
				t.Run(stage+"/"+name+"/"+tenant, func(t *testing.T) {
					want, err := e.raw.Query(as(tenant), r)
					require.NoError(t, err)
					got, err := e.q.Query(as(tenant), r)
					require.NoError(t, err)
					assert.Equal(t, metrics.PathRollup, got.Path)
					require.NotNil(t, want.Totals.Value)
					assert.NotZero(t, *want.Totals.Value)
					assertSameResult(t, want, got)
				})
			}
		}
	}
	check("rebuilt")
	// After the rebuild: new users on a random closed day, and a share of
	// another day's events redelivered in a batch of their own.
	late, again := january.From.AddDate(0, 0, rnd.IntN(15)), january.From.AddDate(0, 0, 15+rnd.IntN(15))
	require.NoError(t, e.db.Exec(ctx, `
		INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		SELECT 'acme', concat('late-', toString(number)), 'lesson.completed', concat('late-user-', toString(number % 17)), '',
		       toDateTime64(?, 3, 'UTC') + toIntervalMinute(number * 7), now64(3), concat('{"course_id":"c', toString(number % 3), '"}')
		FROM numbers(40)`, late))
	require.NoError(t, e.db.Exec(ctx, `
		INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		SELECT tenant_id, event_id, type, user_id, session_id, occurred_at, received_at + 1, properties
		FROM events WHERE tenant_id = 'acme' AND toDate(occurred_at) = toDate(?) AND cityHash64(event_id) % 2 = 0`, again))
	// A day's rows written since the rebuild read their states: every
	// active row of both days, the late courses' users rows (the other
	// courses of that day were not written and keep their counts).
	for _, c := range []struct {
		table, cond string
		day         time.Time
	}{{"metrics_daily_active", "1", late}, {"metrics_daily_active", "1", again}, {"metrics_daily_users", "course_id IN ('c0', 'c1', 'c2')", late}} {
		n, rows := stored(c.table, "acme", c.day, c.cond)
		require.Positive(t, rows)
		assert.Zero(t, n, "%s %s: written after its rebuild, its state is read", c.table, c.day.Format(time.DateOnly))
		n, rows = stored(c.table, "globex", c.day, c.cond)
		assert.Equal(t, rows, n, "another tenant's rows keep their counts")
	}
	n, rows := stored("metrics_daily_users", "acme", again, "1")
	assert.Less(t, n, rows, "the redelivered day's users rows read their states")
	check("written after the rebuild")
}
