package dashboards

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/metrics/metricstest"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/kv/rediskv"
	"github.com/learnhub/analytics-service/platform/resultcache"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// versioned is a Service with a results cache whose versions follow the
// ingest commit notices on a real in-process NATS server.
type versioned struct {
	*env
	svc      *Service
	bus      *bus.Bus
	versions *resultcache.Versions
}

func newVersioned(t *testing.T) *versioned {
	t.Helper()
	e := newEnv(t)
	b, err := bus.Open(context.Background(), bus.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	versions := resultcache.NewVersions()
	_, err = versions.FollowChanges(b.Conn(), ingest.NoticeSubjectPrefix+"*", ingest.NoticeChange) // as deployed
	require.NoError(t, err)
	// Definitions cached as deployed: their generation is part of a key.
	e.reg = metrics.NewRegistry(e.db, metrics.Config{Now: e.clock.Now, Locks: rediskv.New(e.cache), Cache: rediskv.New(e.cache)})
	e.q = metrics.NewQuerier(e.db, e.reg, metrics.QuerierConfig{Now: e.clock.Now})
	loaders := func() *metrics.Loader {
		return metrics.NewLoader(e.q, metrics.LoaderConfig{Wait: 20 * time.Millisecond})
	}
	svc := NewService(e.db, e.reg, loaders, Config{Locks: rediskv.New(e.cache), Cache: rediskv.New(e.cache), Now: e.clock.Now,
		Cohorts: e.cohorts, Journeys: e.journeys, ResultCache: resultcache.New(resultcache.Config{Versions: versions})})
	return &versioned{env: e, svc: svc, bus: b, versions: versions}
}

// commit inserts one enrolment of tenant at `at` and, when notify, sends
// the commit notice the ingest pipeline sends after a batch, then waits
// until this replica's version of the tenant moved.
func (v *versioned) commit(t *testing.T, tenant, id string, at time.Time, notify bool) {
	t.Helper()
	require.NoError(t, v.db.Insert(as(tenant), store.Insert{Table: "events",
		Columns: []string{"tenant_id", "event_id", "type", "user_id", "occurred_at", "received_at", "properties"},
		Rows:    [][]any{{tenant, id, "course.enrolled", "u1", at, at, map[string]any{"course_id": "c1"}}}}))
	if !notify {
		return
	}
	before := v.versions.Current(tenant)
	data, err := json.Marshal(ingest.Notice{Tenant: tenant, Types: []string{"course.enrolled"}, Count: 1, NewestOccurredAt: at})
	require.NoError(t, err)
	require.NoError(t, v.bus.Conn().Publish(ingest.NoticeSubject(tenant), data))
	deadline := time.Now().Add(5 * time.Second)
	for v.versions.Current(tenant) == before {
		require.True(t, time.Now().Before(deadline), "the notice never moved %s's version", tenant)
		time.Sleep(time.Millisecond)
	}
}

// enrolmentsTotal is the "Top courses" widget's total (enrolments).
func enrolmentsTotal(t *testing.T, r *Rendering) float64 {
	t.Helper()
	for _, w := range r.Widgets {
		for _, res := range w.Results {
			if res != nil && res.Metric.Key == "enrolments" && res.Totals.Value != nil {
				return *res.Totals.Value
			}
		}
	}
	t.Fatalf("no enrolments total")
	return 0
}

// allCached reports how many widgets of r came from the cache.
func cachedWidgets(r *Rendering) int {
	n := 0
	for _, w := range r.Widgets {
		if w.Cached {
			n++
		}
	}
	return n
}

// A `last: 30d` render covers the 31 whole days it touches and is served
// from the results cache until a commit notice for its tenant arrives; a
// new event is then in the next render, another tenant's notice leaves the
// entry alone, and tenant B never sees tenant A's entries.
func TestRenderIsCachedUntilTheTenantsNotice(t *testing.T) {
	v := newVersioned(t)
	seed(t, v.db, "acme", 3000, 1)
	seed(t, v.db, "globex", 1000, 7)
	v.clock.Advance(-8*time.Hour - 30*time.Minute) // Jan 31 15:30: today is open
	acme, globex := as("acme"), as("globex")

	first, err := v.svc.Render(acme, PresetSlug, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, timerange.Range{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: testNow}, first.Range,
		"last: 30d is the 31 whole days it touches, today included")
	for _, w := range first.Widgets {
		require.Nil(t, w.Error, "widget %s", w.WidgetID)
	}
	assert.Zero(t, cachedWidgets(first))
	base := enrolmentsTotal(t, first)

	before := v.counter.queries.Load()
	again, err := v.svc.Render(acme, PresetSlug, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, len(again.Widgets), cachedWidgets(again), "nothing arrived: every widget from the cache")
	assert.Zero(t, v.counter.queries.Load()-before, "a cached render asks the engine nothing")

	other, err := v.svc.Render(globex, PresetSlug, nil, nil)
	require.NoError(t, err)
	assert.Zero(t, cachedWidgets(other), "tenant B never gets tenant A's entries")
	assert.NotEqual(t, base, enrolmentsTotal(t, other))

	v.commit(t, "acme", "late-1", v.clock.Now().Add(-time.Hour), true)
	after, err := v.svc.Render(acme, PresetSlug, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, base+1, enrolmentsTotal(t, after), "the event whose notice arrived is in")
	assert.Zero(t, cachedWidgets(after), "acme's notice moved every widget of acme")

	v.commit(t, "acme", "dated-later-today", v.clock.Now().Add(time.Hour), true)
	later, err := v.svc.Render(acme, PresetSlug, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, base+2, enrolmentsTotal(t, later), "an event dated later today counts in the aligned window")

	v.commit(t, "globex", "g-1", v.clock.Now(), true)
	still, err := v.svc.Render(acme, PresetSlug, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, len(still.Widgets), cachedWidgets(still), "globex's notice leaves acme's entries")
	assert.Equal(t, base+2, enrolmentsTotal(t, still))
}

// A live refresher can run before the notice that woke it moved the
// version: its render (WithFresh) recomputes and replaces the entries, so
// the new event is in the live push and in every render after it.
func TestLiveRenderRefreshesTheEntries(t *testing.T) {
	v := newVersioned(t)
	seed(t, v.db, "acme", 1000, 3)
	v.clock.Advance(-2 * time.Hour)
	ctx := as("acme")
	first, err := v.svc.Render(ctx, PresetSlug, nil, nil)
	require.NoError(t, err)
	base := enrolmentsTotal(t, first)

	v.commit(t, "acme", "not-yet-noticed", v.clock.Now().Add(-time.Minute), false)
	live, err := v.svc.Render(WithFresh(ctx), PresetSlug, nil, nil)
	require.NoError(t, err)
	assert.Zero(t, cachedWidgets(live))
	assert.Equal(t, base+1, enrolmentsTotal(t, live), "the live render sees the committed event")
	again, err := v.svc.Render(ctx, PresetSlug, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, len(again.Widgets), cachedWidgets(again))
	assert.Equal(t, base+1, enrolmentsTotal(t, again), "the live answer replaced the entry everyone reads")
}

// N identical concurrent renders after a notice cost the engine what one
// render costs.
func TestConcurrentRendersShareOneComputation(t *testing.T) {
	v := newVersioned(t)
	seed(t, v.db, "acme", 2000, 5)
	v.clock.Advance(-6 * time.Hour)
	ctx := as("acme")
	_, err := v.svc.Render(ctx, PresetSlug, nil, nil) // installs the preset, warms the registry
	require.NoError(t, err)

	v.commit(t, "acme", "e-1", v.clock.Now(), true)
	before := v.counter.queries.Load()
	one, err := v.svc.Render(ctx, PresetSlug, nil, nil)
	require.NoError(t, err)
	single := v.counter.queries.Load() - before
	require.Positive(t, single)

	v.commit(t, "acme", "e-2", v.clock.Now(), true)
	before, stats := v.counter.queries.Load(), v.svc.cfg.ResultCache.Stats()
	const n = 16
	got := make([]*Rendering, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := v.svc.Render(ctx, PresetSlug, nil, nil)
			assert.NoError(t, err)
			got[i] = r
		})
	}
	wg.Wait()
	// The notice says no time, so the closed days move too: each widget
	// and each of the 4 closed and 4 open parts of its additive metrics
	// (dashboards/split.go) is computed once.
	assert.Equal(t, uint64(len(one.Widgets)+8), v.svc.cfg.ResultCache.Stats().Computes-stats.Computes,
		"%d concurrent renders compute each widget and part once", n)
	// Each computation runs in the batch of the render that started it,
	// so the renders' batches split the statements of one render between
	// them; n uncoordinated renders would cost n times as many.
	all := v.counter.queries.Load() - before
	t.Logf("one render after a notice: %d statements; %d concurrent renders: %d", single, n, all)
	assert.LessOrEqual(t, all, 2*single, "%d concurrent renders cost about one render's queries", n)
	for _, r := range got {
		require.NotNil(t, r)
		assert.Equal(t, enrolmentsTotal(t, one)+1, enrolmentsTotal(t, r))
	}
}

// TestLast30dRenderWithRollupsMatchesRaw renders the preset over `last:
// 30d` at a random mid-day clock on random data (every event redelivered
// in a second batch, closed days rebuilt as the nightly job does): every
// widget's answer with the rollups equals the raw path's, bucket by bucket.
func TestLast30dRenderWithRollupsMatchesRaw(t *testing.T) {
	e := newEnv(t)
	src := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", src)
	rnd := rand.New(rand.NewPCG(src, 0))
	now := time.Date(2026, 1, 20+rnd.IntN(12), rnd.IntN(24), rnd.IntN(60), rnd.IntN(60), 0, time.UTC)
	t.Logf("now %s", now)
	clock := func() time.Time { return now }
	n, salt := 500+rnd.IntN(3000), rnd.IntN(1000)
	seed(t, e.db, "acme", n, salt)
	seed(t, e.db, "acme", n, salt) // redelivered in another batch
	require.NoError(t, metrics.NewRollups(e.db).Rebuild(context.Background(), mustScope(t, "acme"),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), now.Truncate(24*time.Hour)))
	render := func(cfg metrics.QuerierConfig) *Rendering {
		t.Helper()
		cfg.Now = clock
		q := metrics.NewQuerier(e.db, e.reg, cfg)
		svc := NewService(e.db, e.reg, func() *metrics.Loader { return metrics.NewLoader(q, metrics.LoaderConfig{}) }, Config{Now: clock})
		r, err := svc.Render(as("acme"), PresetSlug, nil, &timerange.Spec{Last: "30d"})
		require.NoError(t, err)
		return r
	}
	raw := render(metrics.QuerierConfig{DisableRollups: true})
	got := render(metrics.QuerierConfig{})
	day := now.Truncate(24 * time.Hour)
	assert.Equal(t, timerange.Range{From: day.AddDate(0, 0, -30), To: day.AddDate(0, 0, 1)}, got.Range)
	rollups := 0
	require.Len(t, got.Widgets, len(raw.Widgets))
	for i, want := range raw.Widgets {
		g := got.Widgets[i]
		require.Nil(t, want.Error, "widget %s", want.WidgetID)
		require.Nil(t, g.Error, "widget %s", g.WidgetID)
		require.Len(t, g.Results, len(want.Results))
		for j := range want.Results {
			metricstest.AssertSameResult(t, want.Results[j], g.Results[j])
			if g.Results[j].Path == metrics.PathRollup {
				rollups++
			}
		}
	}
	assert.GreaterOrEqual(t, rollups, 4, "the day-grain widgets read the rollups")
}
