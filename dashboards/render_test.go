package dashboards

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

func rangeOf(t *testing.T, s *timerange.Spec) timerange.Range {
	t.Helper()
	r, err := timerange.Resolve(*s, testNow, "timeRange")
	require.NoError(t, err)
	return r
}

func TestRenderMatchesQuerierAndBatches(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "acme", 3000, 1)
	ctx := as("acme")
	d, err := e.svc.Get(ctx, PresetSlug) // installs catalog and preset
	require.NoError(t, err)
	require.Len(t, d.Widgets, 7)
	_, err = e.reg.GetByKey(ctx, "enrolments") // the catalog check runs once per tenant and process
	require.NoError(t, err)

	before := e.counter.queries.Load()
	e.counter.log = func(sql string) { t.Logf("SQL: %.120s", sql) }
	out, err := e.svc.Render(ctx, PresetSlug, nil, january())
	e.counter.log = nil
	require.NoError(t, err)
	queries := e.counter.queries.Load() - before
	t.Logf("preset render: %d widgets, %d ClickHouse queries", len(d.Widgets), queries)
	// The render batches its widgets' metric requests itself (batch.go):
	// the definitions read, the batch's one list of days written since
	// their rollup rebuild, then one statement per compatible group (day
	// series, completion rate by course, top courses, the totals), under
	// any load.
	assert.Equal(t, int64(6), queries, "compatible widgets share queries")

	rng := rangeOf(t, january())
	for i, w := range d.Widgets {
		wd := out.Widgets[i]
		require.Nil(t, wd.Error, w.Title)
		assert.False(t, wd.Cached)
		assert.Equal(t, testNow, wd.ComputedAt)
		assert.Equal(t, testNow.Add(DefaultCacheTTL), wd.FreshUntil)
		for j, key := range w.MetricKeys {
			want, err := e.q.Query(ctx, metrics.Request{MetricKey: key, Dimensions: w.Dimensions, Grain: widgetGrain(w),
				Limit: w.Limit, TimeRange: timerange.Spec{From: &rng.From, To: &rng.To}})
			require.NoError(t, err)
			got := wd.Results[j]
			require.NotNil(t, got, "%s/%s", w.Title, key)
			assert.Equal(t, want.Totals, got.Totals, "%s/%s", w.Title, key)
			assert.Equal(t, want.Series, got.Series, "%s/%s", w.Title, key)
			assert.NotNil(t, want.Totals.Value)
		}
	}
}

func TestRenderCache(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "acme", 1000, 2)
	ctx := as("acme")
	_, err := e.svc.Get(ctx, PresetSlug)
	require.NoError(t, err)

	first, err := e.svc.Render(ctx, PresetSlug, nil, january())
	require.NoError(t, err)

	e.clock.Advance(30 * time.Second)
	before := e.counter.queries.Load()
	hit, err := e.svc.Render(ctx, PresetSlug, nil, january())
	require.NoError(t, err)
	assert.Equal(t, int64(0), e.counter.queries.Load()-before, "a cached render reads nothing from ClickHouse: the definition's version is checked in Redis")
	for i, wd := range hit.Widgets {
		assert.True(t, wd.Cached, "widget %d", i)
		assert.Equal(t, first.Widgets[i].ComputedAt, wd.ComputedAt)
		assert.Equal(t, first.Widgets[i].Results[0].Totals, wd.Results[0].Totals)
	}

	other, err := e.svc.Render(ctx, PresetSlug, []metrics.Filter{{Dimension: "properties.course_id", Op: metrics.OpIn, Values: []string{"c1", "c0", "c1"}}}, january())
	require.NoError(t, err)
	assert.False(t, other.Widgets[0].Cached, "another filter set is another entry")
	assert.Equal(t, []string{"c0", "c1"}, other.Filters[0].Values, "filters are normalised")
	again, err := e.svc.Render(ctx, PresetSlug, []metrics.Filter{{Dimension: "properties.course_id", Op: metrics.OpIn, Values: []string{"c0", "c1"}}}, january())
	require.NoError(t, err)
	assert.True(t, again.Widgets[0].Cached, "the same normalised filters hit")

	e.clock.Advance(31 * time.Second) // 61 s after the first render
	expired, err := e.svc.Render(ctx, PresetSlug, nil, january())
	require.NoError(t, err)
	for i, wd := range expired.Widgets {
		assert.False(t, wd.Cached, "widget %d expired", i)
		assert.Equal(t, testNow.Add(61*time.Second), wd.ComputedAt)
	}
	ttl, err := e.cache.TTL(ctx, cacheKey(mustScope(t, "acme"), expired.Dashboard, expired.Dashboard.Widgets[0], expired.Range, expired.Filters)).Result()
	require.NoError(t, err)
	assert.InDelta(t, DefaultCacheTTL.Seconds(), ttl.Seconds(), 5, "Redis expires the entry too")
}

func TestRenderSingleFlight(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "acme", 1000, 3)
	ctx := as("acme")
	_, err := e.svc.Get(ctx, PresetSlug)
	require.NoError(t, err)
	_, err = e.reg.GetByKey(ctx, "enrolments")
	require.NoError(t, err)
	var mu sync.Mutex
	data := 0 // statements reading event data (not metadata)
	e.counter.log = func(sql string) {
		if strings.Contains(sql, "`metrics_daily`") || strings.Contains(sql, "`events`") {
			mu.Lock()
			data++
			mu.Unlock()
		}
	}
	const n = 8
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			out, err := e.svc.Render(ctx, PresetSlug, nil, january())
			if assert.NoError(t, err) {
				for _, wd := range out.Widgets {
					assert.Nil(t, wd.Error)
				}
			}
		})
	}
	wg.Wait()
	e.counter.log = nil
	t.Logf("%d concurrent renders: %d data queries", n, data)
	assert.LessOrEqual(t, data, 7, "every widget is computed at most once for all %d renders (uncached they would take %d)", n, n*4)
}

func TestWidgetErrorsArePartial(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "acme", 500, 4)
	ctx := as("acme")
	old, err := e.reg.Create(ctx, metrics.Input{Key: "old_logins", Name: "Old logins", Kind: metrics.KindCount,
		EventTypes: []string{"user.login"}})
	require.NoError(t, err)
	dep, err := e.reg.Create(ctx, metrics.Input{Key: "dep_logins", Name: "Deprecated logins", Kind: metrics.KindCount,
		EventTypes: []string{"user.login"}})
	require.NoError(t, err)
	d, err := e.svc.Create(ctx, Input{Slug: "mixed", Title: "Mixed"}, []WidgetInput{
		kpi("Enrolments", "enrolments"), kpi("Old", "old_logins"), kpi("Deprecated", "dep_logins"), kpi("Gone", "enrolments")})
	require.NoError(t, err)
	sunset := testNow.Add(time.Hour)
	_, err = e.reg.Deprecate(ctx, old.ID, 1, metrics.DeprecateInput{Sunset: &sunset, Replacement: "enrolments"})
	require.NoError(t, err)
	_, err = e.reg.Deprecate(ctx, dep.ID, 1, metrics.DeprecateInput{})
	require.NoError(t, err)
	// A widget whose metric no longer exists (e.g. written by an older
	// catalog): stored directly, validation would refuse it.
	gone := clone(d)
	gone.Widgets[3].MetricKeys = []string{"no_such_metric"}
	gone.Version++
	require.NoError(t, e.svc.write(ctx, mustScope(t, "acme"), ActionWidgetUpdate, d, gone, false))

	e.clock.Advance(2 * time.Hour) // past the sunset
	out, err := e.svc.Render(ctx, "mixed", nil, january())
	require.NoError(t, err, "widget errors never fail the render")
	assert.Nil(t, out.Widgets[0].Error)
	assert.NotNil(t, out.Widgets[0].Results[0].Totals.Value)
	require.NotNil(t, out.Widgets[1].Error)
	assert.Equal(t, errs.KindNotFound.String(), out.Widgets[1].Error.Code)
	assert.Contains(t, out.Widgets[1].Error.Message, "retired")
	assert.Nil(t, out.Widgets[2].Error)
	assert.Contains(t, out.Widgets[2].Notices[0], "deprecated")
	require.NotNil(t, out.Widgets[3].Error)
	assert.Contains(t, out.Widgets[3].Error.Message, "no_such_metric")

	use, err := e.svc.MetricUsages(ctx, "acme", old.ID, "old_logins")
	require.NoError(t, err)
	assert.Len(t, use, 1)
}

// TestRenderSeesANewDefinitionAtOnce: renders keep an in-process copy of the
// definition only while Redis says its version is current.
func TestRenderSeesANewDefinitionAtOnce(t *testing.T) {
	e := newEnv(t)
	ctx := as("acme")
	d, err := e.svc.Get(ctx, PresetSlug)
	require.NoError(t, err)
	r, err := e.svc.Render(ctx, PresetSlug, nil, january())
	require.NoError(t, err)
	require.Equal(t, d.Title, r.Dashboard.Title)

	in := d.Input
	in.Title = "Renamed"
	_, err = e.svc.Update(ctx, d.ID, d.Version, in)
	require.NoError(t, err)
	r, err = e.svc.Render(ctx, PresetSlug, nil, january())
	require.NoError(t, err)
	assert.Equal(t, "Renamed", r.Dashboard.Title)

	require.NoError(t, e.svc.Delete(ctx, d.ID, d.Version+1))
	_, err = e.svc.Render(ctx, PresetSlug, nil, january())
	require.Error(t, err, "a deleted dashboard no longer renders")
}

// Relative windows cover the whole buckets they touch: a `last: 1h`
// render at 00:00:30 is 23:00–01:00, so events of the current minute (and
// later in the hour) are in. On the Redis path (no results cache) an
// entry is served until its TTL; a live render (WithFresh) recomputes and
// refreshes it for everyone, so the event whose commit woke it is in.
func TestRelativeWindowsAlignAndLiveRendersRefresh(t *testing.T) {
	e := newEnv(t)
	ctx := as("acme")
	_, err := e.svc.Get(ctx, PresetSlug)
	require.NoError(t, err)
	e.clock.Advance(30*time.Second + 500*time.Millisecond) // 00:00:30.5
	insert := func(i int, at time.Duration) {
		t.Helper()
		require.NoError(t, e.db.Insert(ctx, store.Insert{Table: "events",
			Columns: []string{"tenant_id", "event_id", "type", "user_id", "occurred_at", "received_at", "properties"},
			Rows: [][]any{{"acme", fmt.Sprintf("now-%d", i), "course.enrolled", "u1", testNow.Add(at), testNow.Add(at),
				map[string]any{"course_id": "c1"}}}}))
	}
	for i, at := range []time.Duration{-70 * time.Minute, -10 * time.Minute, 20 * time.Second, 30*time.Second + 400*time.Millisecond} {
		insert(i, at)
	}
	hour := &timerange.Spec{Last: "1h"}

	first, err := e.svc.Render(ctx, PresetSlug, nil, hour)
	require.NoError(t, err)
	assert.Equal(t, timerange.Range{From: testNow.Add(-time.Hour), To: testNow.Add(time.Hour)}, first.Range, "the whole hours touched")
	assert.Equal(t, 3.0, enrolmentsTotal(t, first), "events of the current minute are in; 22:50 is not")

	insert(9, 30*time.Second+450*time.Millisecond)
	cached, err := e.svc.Render(ctx, PresetSlug, nil, hour)
	require.NoError(t, err)
	assert.True(t, cached.Widgets[0].Cached, "the Redis entry is served until its TTL")
	assert.Equal(t, 3.0, enrolmentsTotal(t, cached))

	live, err := e.svc.Render(WithFresh(ctx), PresetSlug, nil, hour)
	require.NoError(t, err)
	assert.False(t, live.Widgets[0].Cached)
	assert.Equal(t, 4.0, enrolmentsTotal(t, live), "the live render includes the new event")

	again, err := e.svc.Render(ctx, PresetSlug, nil, hour)
	require.NoError(t, err)
	assert.True(t, again.Widgets[0].Cached)
	assert.Equal(t, 4.0, enrolmentsTotal(t, again), "the live answer refreshed the entry")
}
