package live_test

import (
	"context"
	"encoding/json"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/live"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/errs"
)

// counter is a Compute whose value changes only when set, and which counts
// its runs and remembers the tenant scope it ran in.
type counter struct {
	runs   atomic.Int64
	value  atomic.Int64
	tenant atomic.Value // string: the scope of the last run
}

func (c *counter) compute(ctx context.Context) (any, []byte, error) {
	tenant, _ := auth.TenantFrom(ctx)
	c.tenant.Store(tenant)
	c.runs.Add(1)
	return c.value.Load(), nil, nil
}

// waitFor polls cond until it holds or d passes (nats-server checkFor).
func waitFor(t *testing.T, d time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// receive waits up to d for want on ch, skipping older values.
func receive(t *testing.T, ch <-chan any, want int64, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	var got any
	for {
		select {
		case v, ok := <-ch:
			require.True(t, ok, "channel closed before %d arrived", want)
			if got = v; v == want {
				return
			}
		case <-deadline:
			t.Fatalf("%d did not arrive within %s (last %v)", want, d, got)
		}
	}
}

// closed waits up to d for ch to close, draining it.
func closed(t *testing.T, ch <-chan any, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("channel still open after %s", d)
		}
	}
}

func newHub(t *testing.T, cfg live.Config) (*live.Hub, *bus.Bus) {
	t.Helper()
	b, err := bus.Open(context.Background(), bus.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	cfg.Conn = b.Conn()
	return live.NewHub(cfg), b
}

func as(ctx context.Context, tenant string) context.Context {
	return auth.WithPrincipal(ctx, auth.Principal{Subject: "u-" + tenant, Tenant: tenant, Roles: []auth.Role{auth.RoleViewer}})
}

func notify(t *testing.T, b *bus.Bus, tenant string) {
	t.Helper()
	raw, err := json.Marshal(ingest.Notice{Tenant: tenant, Count: 1})
	require.NoError(t, err)
	require.NoError(t, b.Conn().Publish(ingest.NoticeSubject(tenant), raw))
	require.NoError(t, b.Conn().Flush())
}

func TestThousandSubscribersShareOneRefresher(t *testing.T) {
	hub, b := newHub(t, live.Config{Interval: time.Hour, MinGap: 10 * time.Millisecond})
	goroutines := runtime.NumGoroutine()
	subs := b.Conn().NumSubscriptions()
	c := &counter{}
	key := live.Key{Tenant: "t1", Role: `["viewer"]`, Resource: "dashboard:d1", Args: "{}"}
	ctx, cancel := context.WithCancel(as(context.Background(), "t1"))
	defer cancel()
	chans := make([]<-chan any, 1000)
	for i := range chans {
		ch, err := hub.Subscribe(ctx, key, c.compute)
		require.NoError(t, err)
		chans[i] = ch
	}
	assert.Equal(t, 1, hub.Groups())
	assert.Equal(t, subs+1, b.Conn().NumSubscriptions(), "one notice subscription per tenant")
	for _, ch := range chans {
		receive(t, ch, 0, 2*time.Second)
	}
	require.Equal(t, int64(1), c.runs.Load(), "1000 first subscribers, one compute")

	// One reader records everything the first subscriber is pushed.
	var mu sync.Mutex
	var seen []any
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for v := range chans[0] {
			mu.Lock()
			seen = append(seen, v)
			mu.Unlock()
		}
	}()

	c.value.Store(42)
	notified := time.Now()
	notify(t, b, "t1")
	for _, ch := range chans[1:] {
		receive(t, ch, 42, 2*time.Second)
	}
	assert.Less(t, time.Since(notified), 2*time.Second, "1000 subscribers updated within 2 s of the notice")
	assert.Equal(t, int64(2), c.runs.Load(), "one notice, one compute for 1000 subscribers")

	notify(t, b, "t1") // unchanged: recomputed, not pushed
	waitFor(t, 2*time.Second, func() bool { return c.runs.Load() == 3 }, "compute after the second notice")
	c.value.Store(43)
	notify(t, b, "t1")
	receive(t, chans[1], 43, 2*time.Second)
	waitFor(t, 2*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) == 2 }, "reader got 42 and 43")
	mu.Lock()
	assert.Equal(t, []any{int64(42), int64(43)}, seen, "the unchanged value is never pushed")
	mu.Unlock()

	cancel()
	<-readerDone // channels close when their subscriber leaves
	waitFor(t, 2*time.Second, func() bool { return hub.Groups() == 0 }, "refresher released after the last subscriber left")
	waitFor(t, 2*time.Second, func() bool { return b.Conn().NumSubscriptions() == subs }, "notice subscription released")
	waitFor(t, 2*time.Second, func() bool { return runtime.NumGoroutine() <= goroutines }, "refresher goroutine ended")
}

func TestTenantsNeverShare(t *testing.T) {
	hub, b := newHub(t, live.Config{Interval: time.Hour, MinGap: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	byTenant := map[string]*counter{"a": {}, "b": {}}
	for tenant, c := range byTenant {
		_, err := hub.Subscribe(as(ctx, tenant), live.Key{Tenant: tenant, Resource: "dashboard:same", Args: "{}"}, c.compute)
		require.NoError(t, err)
	}
	assert.Equal(t, 2, hub.Groups(), "same resource and arguments, different tenants: two refreshers")
	waitFor(t, 2*time.Second, func() bool { return byTenant["a"].runs.Load() == 1 && byTenant["b"].runs.Load() == 1 }, "first computes")

	notify(t, b, "a")
	waitFor(t, 2*time.Second, func() bool { return byTenant["a"].runs.Load() == 2 }, "tenant a recomputes on its notice")
	notify(t, b, "b") // ordered after a's on the connection: once b has run, a's notice cannot still be pending for b
	waitFor(t, 2*time.Second, func() bool { return byTenant["b"].runs.Load() == 2 }, "tenant b recomputes on its notice")
	assert.Equal(t, int64(2), byTenant["a"].runs.Load(), "tenant a ignores tenant b's notice")
	assert.Equal(t, int64(2), byTenant["b"].runs.Load(), "tenant b ignored tenant a's notice")
	for tenant, c := range byTenant {
		assert.Equal(t, tenant, c.tenant.Load(), "each refresher computes in its own tenant's scope")
	}
}

func TestSlowSubscriberGetsOnlyTheLatest(t *testing.T) {
	hub, b := newHub(t, live.Config{Interval: time.Hour, MinGap: time.Millisecond})
	c := &counter{}
	ctx, cancel := context.WithCancel(as(context.Background(), "a"))
	defer cancel()
	ch, err := hub.Subscribe(ctx, live.Key{Tenant: "a", Resource: "r"}, c.compute)
	require.NoError(t, err)
	waitFor(t, 2*time.Second, func() bool { return c.runs.Load() == 1 }, "first compute")

	for v := int64(1); v <= 5; v++ { // the subscriber reads nothing meanwhile
		c.value.Store(v)
		notify(t, b, "a")
		waitFor(t, 2*time.Second, func() bool { return c.runs.Load() == v+1 }, "compute after notice")
	}
	waitFor(t, time.Second, func() bool { return len(ch) == 1 }, "one buffered value")
	assert.Equal(t, int64(5), <-ch, "only the latest value is kept for a slow subscriber")
	assert.Empty(t, ch)
}

func TestLateSubscriberAndLeavingFirstSubscriber(t *testing.T) {
	hub, b := newHub(t, live.Config{Interval: time.Hour, MinGap: time.Millisecond})
	c := &counter{}
	c.value.Store(7)
	key := live.Key{Tenant: "a", Resource: "r"}
	firstCtx, leaveFirst := context.WithCancel(as(context.Background(), "a"))
	first, err := hub.Subscribe(firstCtx, key, c.compute)
	require.NoError(t, err)
	receive(t, first, 7, 2*time.Second)

	ctx, cancel := context.WithCancel(as(context.Background(), "a"))
	defer cancel()
	late, err := hub.Subscribe(ctx, key, func(context.Context) (any, []byte, error) {
		t.Error("a late subscriber's compute must not run")
		return nil, nil, nil
	})
	require.NoError(t, err)
	select {
	case v := <-late:
		assert.Equal(t, int64(7), v, "a late subscriber starts from the current value")
	default:
		t.Fatal("a late subscriber must have the current value at once")
	}

	leaveFirst()
	closed(t, first, 2*time.Second)
	c.value.Store(8)
	notify(t, b, "a")
	receive(t, late, 8, 2*time.Second)
	assert.Equal(t, "a", c.tenant.Load(), "the refresher keeps the first subscriber's scope after it left")
	assert.Equal(t, 1, hub.Groups())
}

func TestBurstOfNoticesCoalesces(t *testing.T) {
	hub, b := newHub(t, live.Config{Interval: time.Hour, MinGap: 300 * time.Millisecond})
	c := &counter{}
	ctx, cancel := context.WithCancel(as(context.Background(), "a"))
	defer cancel()
	ch, err := hub.Subscribe(ctx, live.Key{Tenant: "a", Resource: "r"}, c.compute)
	require.NoError(t, err)
	receive(t, ch, 0, 2*time.Second)

	c.value.Store(1)
	for range 50 {
		notify(t, b, "a")
	}
	receive(t, ch, 1, 2*time.Second)
	runs := c.runs.Load()
	assert.LessOrEqual(t, runs, int64(3), "50 notices within a gap cost at most two refreshes")
	assert.GreaterOrEqual(t, runs, int64(2))
}

func TestIntervalFallback(t *testing.T) {
	hub := live.NewHub(live.Config{Interval: 20 * time.Millisecond}) // no NATS: interval only
	c := &counter{}
	ctx, cancel := context.WithCancel(as(context.Background(), "t"))
	defer cancel()
	ch, err := hub.Subscribe(ctx, live.Key{Tenant: "t", Resource: "r"}, c.compute)
	require.NoError(t, err)
	receive(t, ch, 0, 2*time.Second)
	c.value.Store(9)
	receive(t, ch, 9, 2*time.Second)
	waitFor(t, 2*time.Second, func() bool { return c.runs.Load() >= 3 }, "refreshes on the interval without notices")
}

func TestSubscribeRefusesForeignScope(t *testing.T) {
	hub := live.NewHub(live.Config{})
	c := &counter{}
	tests := []struct {
		name string
		ctx  context.Context
		key  live.Key
		kind errs.Kind
	}{
		{"no principal", context.Background(), live.Key{Tenant: "a", Resource: "r"}, errs.KindUnauthenticated},
		{"another tenant's key", as(context.Background(), "b"), live.Key{Tenant: "a", Resource: "r"}, errs.KindForbidden},
		{"empty key tenant", as(context.Background(), "b"), live.Key{Resource: "r"}, errs.KindForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := hub.Subscribe(tc.ctx, tc.key, c.compute)
			require.Error(t, err)
			assert.Nil(t, ch)
			var e *errs.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.kind, e.Kind)
		})
	}
	assert.Zero(t, hub.Groups())
	assert.Zero(t, c.runs.Load())
}
