package resultcache_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/resultcache"
)

// counter is a compute function that counts its runs and answers with the
// tenant and request it was asked for.
type counter struct{ runs atomic.Int64 }

func (c *counter) fn(answer string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		c.runs.Add(1)
		return answer, nil
	}
}

func TestSingleFlightSharesOneComputation(t *testing.T) {
	c := resultcache.New(resultcache.Config{})
	const n = 32
	release := make(chan struct{})
	var runs atomic.Int64
	compute := func(context.Context) (int, error) {
		runs.Add(1)
		<-release // every caller arrives while the first computation runs
		return 42, nil
	}
	var wg sync.WaitGroup
	got := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, _, err := resultcache.Do(context.Background(), c, "acme", "q", map[string]string{"window": "30d"}, compute)
			assert.NoError(t, err)
			got[i] = v
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.Stats().Shared < n-1 {
		require.True(t, time.Now().Before(deadline), "callers never joined the flight: %+v", c.Stats())
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	assert.Equal(t, int64(1), runs.Load(), "%d identical concurrent requests cost one computation", n)
	for _, v := range got {
		assert.Equal(t, 42, v)
	}
	v, hit, err := resultcache.Do(context.Background(), c, "acme", "q", map[string]string{"window": "30d"}, compute)
	require.NoError(t, err)
	assert.True(t, hit)
	assert.Equal(t, 42, v)
	assert.Equal(t, int64(1), runs.Load(), "a later request is served from the entry")
}

func TestEntriesAreTenantScopedAndVersioned(t *testing.T) {
	versions := resultcache.NewVersions()
	c := resultcache.New(resultcache.Config{Versions: versions})
	ctx := context.Background()
	var runs counter
	req := map[string]string{"metric": "enrolments"}
	do := func(tenant string) (string, bool) {
		t.Helper()
		v, hit, err := resultcache.Do(ctx, c, tenant, "metricQuery", req, runs.fn("answer of "+tenant))
		require.NoError(t, err)
		return v, hit
	}
	cases := []struct {
		name    string
		before  func()
		tenant  string
		want    string
		wantHit bool
	}{
		{"first request computes", nil, "acme", "answer of acme", false},
		{"same request is a hit", nil, "acme", "answer of acme", true},
		{"another tenant never sees acme's entry", nil, "globex", "answer of globex", false},
		{"a notice for globex leaves acme's entry", func() { versions.Bump("globex") }, "acme", "answer of acme", true},
		{"globex recomputes after its notice", nil, "globex", "answer of globex", false},
		{"acme recomputes after its notice", func() { versions.Bump("acme") }, "acme", "answer of acme", false},
		{"every tenant recomputes after BumpAll", func() { versions.BumpAll() }, "globex", "answer of globex", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			got, hit := do(tc.tenant)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.wantHit, hit)
		})
	}
	assert.Equal(t, int64(5), runs.runs.Load())
}

func TestMaxAgeAndEviction(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := resultcache.New(resultcache.Config{MaxEntries: 2, MaxAge: time.Minute, Now: func() time.Time { return now }})
	ctx := context.Background()
	var runs counter
	do := func(req string) bool {
		_, hit, err := resultcache.Do(ctx, c, "acme", "q", req, runs.fn(req))
		require.NoError(t, err)
		return hit
	}
	assert.False(t, do("a"))
	assert.True(t, do("a"))
	now = now.Add(time.Minute)
	assert.False(t, do("a"), "an entry older than MaxAge is recomputed")
	assert.False(t, do("b"))
	assert.False(t, do("c")) // evicts a, the least recently used
	assert.True(t, do("c"))
	assert.True(t, do("b"))
	assert.False(t, do("a"), "the least recently used entry was evicted")
}

func TestErrorsAreSharedNotStored(t *testing.T) {
	c := resultcache.New(resultcache.Config{})
	ctx := context.Background()
	boom := errors.New("engine unavailable")
	_, _, err := resultcache.Do(ctx, c, "acme", "q", 1, func(context.Context) (int, error) { return 0, boom })
	require.ErrorIs(t, err, boom)
	v, hit, err := resultcache.Do(ctx, c, "acme", "q", 1, func(context.Context) (int, error) { return 7, nil })
	require.NoError(t, err)
	assert.False(t, hit, "a failure is never served from the cache")
	assert.Equal(t, 7, v)
	_, _, err = resultcache.Do(ctx, c, "acme", "q", 2, func(context.Context) (int, error) { panic("bug") })
	require.Error(t, err, "a panicking computation releases its callers with an error")
}

func TestComputationOutlivesOneCallerButNotAll(t *testing.T) {
	c := resultcache.New(resultcache.Config{})
	started, cancelled := make(chan struct{}), make(chan struct{})
	compute := func(ctx context.Context) (int, error) {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return 0, ctx.Err()
	}
	first, cancelFirst := context.WithCancel(context.Background())
	second, cancelSecond := context.WithCancel(context.Background())
	errc := make(chan error, 2)
	go func() { _, _, err := resultcache.Do(first, c, "acme", "q", 1, compute); errc <- err }()
	<-started
	go func() { _, _, err := resultcache.Do(second, c, "acme", "q", 1, compute); errc <- err }()
	deadline := time.Now().Add(5 * time.Second)
	for c.Stats().Shared < 1 {
		require.True(t, time.Now().Before(deadline))
		time.Sleep(time.Millisecond)
	}
	cancelFirst()
	require.ErrorIs(t, <-errc, context.Canceled)
	select {
	case <-cancelled:
		t.Fatal("the computation was cancelled while a caller still waited")
	case <-time.After(50 * time.Millisecond):
	}
	cancelSecond()
	require.ErrorIs(t, <-errc, context.Canceled)
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the computation kept running after every caller left")
	}
}

// TestVersionsFollowNotices runs a real in-process NATS server: a commit
// notice for one tenant moves only that tenant's version; an erasure
// receipt names its tenant in the body.
func TestVersionsFollowNotices(t *testing.T) {
	b, err := bus.Open(context.Background(), bus.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	v := resultcache.NewVersions()
	_, err = v.Follow(b.Conn(), "analytics.ingest.committed.*", resultcache.TenantFromSubject)
	require.NoError(t, err)
	_, err = v.Follow(b.Conn(), "analytics.erasure.completed.v1", resultcache.TenantFromJSON)
	require.NoError(t, err)
	acme, globex := v.Current("acme"), v.Current("globex")
	waitMoved := func(tenant string, from uint64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for v.Current(tenant) == from {
			require.True(t, time.Now().Before(deadline), "%s's version never moved", tenant)
			time.Sleep(time.Millisecond)
		}
	}
	require.NoError(t, b.Conn().Publish("analytics.ingest.committed.acme", []byte(`{"tenant":"acme"}`)))
	waitMoved("acme", acme)
	assert.Equal(t, globex, v.Current("globex"), "a notice for acme leaves globex alone")
	receipt, _ := json.Marshal(map[string]string{"tenant": "globex"})
	require.NoError(t, b.Conn().Publish("analytics.erasure.completed.v1", receipt))
	waitMoved("globex", globex)
	acme = v.Current("acme")
	assert.Equal(t, acme, v.Current("acme"), "without a notice the version stays put")
}

// A live refresher may run before the notice that woke it moved the
// version: Refresh must neither serve the entry nor join a flight started
// before, and what it computes is what the next Do serves.
func TestRefreshRecomputesAndReplacesTheEntry(t *testing.T) {
	c := resultcache.New(resultcache.Config{})
	ctx := context.Background()
	req := map[string]string{"widget": "w1"}
	v, _, err := resultcache.Do(ctx, c, "acme", "widget", req, func(context.Context) (string, error) { return "before the event", nil })
	require.NoError(t, err)
	require.Equal(t, "before the event", v)

	release := make(chan struct{})
	slow := make(chan string, 1)
	go func() { // a flight that started before the event, under the same key
		v, _, _ := resultcache.Do(ctx, c, "acme", "widget", map[string]string{"widget": "w2"}, func(context.Context) (string, error) {
			<-release
			return "old flight", nil
		})
		slow <- v
	}()
	deadline := time.Now().Add(5 * time.Second)
	for c.Stats().Computes < 2 {
		require.True(t, time.Now().Before(deadline), "the slow flight never started")
		time.Sleep(time.Millisecond)
	}
	got, err := resultcache.Refresh(ctx, c, "acme", "widget", map[string]string{"widget": "w2"}, func(context.Context) (string, error) { return "after the event", nil })
	require.NoError(t, err)
	assert.Equal(t, "after the event", got, "Refresh does not wait for the flight in progress")
	close(release)
	assert.Equal(t, "old flight", <-slow)
	v, hit, err := resultcache.Do(ctx, c, "acme", "widget", map[string]string{"widget": "w2"}, func(context.Context) (string, error) { return "recomputed", nil })
	require.NoError(t, err)
	assert.True(t, hit)
	assert.Equal(t, "after the event", v, "the flight that started before the refresh does not overwrite its answer")

	got, err = resultcache.Refresh(ctx, c, "acme", "widget", req, func(context.Context) (string, error) { return "after the event", nil })
	require.NoError(t, err)
	assert.Equal(t, "after the event", got, "Refresh does not serve the entry")
	v, hit, err = resultcache.Do(ctx, c, "acme", "widget", req, func(context.Context) (string, error) { return "recomputed", nil })
	require.NoError(t, err)
	assert.True(t, hit)
	assert.Equal(t, "after the event", v, "the next request is served the refreshed answer")

	_, err = resultcache.Refresh(ctx, c, "acme", "widget", req, func(context.Context) (string, error) { return "", errors.New("engine down") })
	require.Error(t, err)
	v, hit, err = resultcache.Do(ctx, c, "acme", "widget", req, func(context.Context) (string, error) { return "recomputed", nil })
	require.NoError(t, err)
	assert.True(t, hit)
	assert.Equal(t, "after the event", v, "a failed refresh leaves the entry")
}

func TestVersionsBeforeMovesOnlyWithChangesReachingBack(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }
	v := resultcache.NewVersions()
	cut := day(10) // today starts here: the closed days are before it
	closed, current := v.Before("acme", cut), v.Current("acme")
	cases := []struct {
		name        string
		change      func()
		closedMoves bool
	}{
		{"today's events leave the closed days", func() { v.BumpSince("acme", day(10).Add(time.Hour)) }, false},
		{"an event exactly at the cut is today's", func() { v.BumpSince("acme", cut) }, false},
		{"another tenant's late event leaves acme", func() { v.BumpSince("globex", day(2)) }, false},
		{"a late event for a past day moves the closed days", func() { v.BumpSince("acme", day(9).Add(23*time.Hour)) }, true},
		{"today's events again leave them", func() { v.BumpSince("acme", day(10).Add(2*time.Hour)) }, false},
		{"a change that says no time moves everything", func() { v.Bump("acme") }, true},
		{"BumpAll moves everything", func() { v.BumpAll() }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.change()
			nowClosed, nowCurrent := v.Before("acme", cut), v.Current("acme")
			assert.Equal(t, tc.closedMoves, nowClosed != closed, "closed-day version %d → %d", closed, nowClosed)
			if tc.name != "another tenant's late event leaves acme" {
				assert.NotEqual(t, current, nowCurrent, "every change of acme moves its current version")
			}
			closed, current = nowClosed, nowCurrent
		})
	}
}

func TestVersionsBeforeStaysConservativeBeyondItsHistory(t *testing.T) {
	v := resultcache.NewVersions()
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	hour := func(i int) time.Time { return base.Add(time.Duration(i) * time.Hour) }
	floor := v.Before("acme", base)
	// Each change starts later than the last, so none replaces another: the
	// history outgrows its bound and its oldest steps merge.
	const n = 100
	version := make([]uint64, n)
	for i := range n {
		v.BumpSince("acme", hour(i))
		version[i] = v.Current("acme")
	}
	assert.Equal(t, floor, v.Before("acme", base), "no change reached before the first")
	for i := range n {
		assert.GreaterOrEqual(t, v.Before("acme", hour(i).Add(time.Nanosecond)), version[i],
			"the data before just after change %d's time includes change %d", i, i)
	}
	assert.Equal(t, version[n-2], v.Before("acme", hour(n-1)), "recent history stays exact: the last change is not before its own time")
	assert.Equal(t, version[n-1], v.Before("acme", hour(n)))
}

func TestDoBeforeKeepsClosedAnswersAcrossLaterChanges(t *testing.T) {
	versions := resultcache.NewVersions()
	c := resultcache.New(resultcache.Config{Versions: versions})
	ctx := context.Background()
	cut := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	var runs counter
	do := func(tenant string) bool {
		t.Helper()
		v, hit, err := resultcache.DoBefore(ctx, c, tenant, "counts", "closed days", cut, runs.fn("answer of "+tenant))
		require.NoError(t, err)
		assert.Equal(t, "answer of "+tenant, v)
		return hit
	}
	require.False(t, do("acme"))
	cases := []struct {
		name    string
		change  func()
		tenant  string
		wantHit bool
	}{
		{"repeated", nil, "acme", true},
		{"other tenant has its own entry", nil, "globex", false},
		{"today's commit keeps the entry", func() { versions.BumpSince("acme", cut.Add(time.Minute)) }, "acme", true},
		{"a late event for yesterday recomputes", func() { versions.BumpSince("acme", cut.Add(-time.Minute)) }, "acme", false},
		{"a notice without a time recomputes", func() { versions.Bump("acme") }, "acme", false},
		{"globex untouched by acme's changes", nil, "globex", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.change != nil {
				tc.change()
			}
			assert.Equal(t, tc.wantHit, do(tc.tenant))
		})
	}
	assert.Equal(t, int64(4), runs.runs.Load())
}
