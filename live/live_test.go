package live_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/live"
	"github.com/learnhub/analytics-service/platform/bus"
)

// counter is a Compute whose value changes only when bumped, and which
// counts how often it runs.
type counter struct {
	runs  atomic.Int64
	value atomic.Int64
}

func (c *counter) compute(context.Context) (any, []byte, error) {
	c.runs.Add(1)
	v := c.value.Load()
	return v, nil, nil
}

func waitFor(t *testing.T, d time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline, not waiting for an event
	}
}

func newHub(t *testing.T, interval time.Duration) (*live.Hub, *bus.Bus) {
	t.Helper()
	b, err := bus.Open(context.Background(), bus.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return live.NewHub(live.Config{Conn: b.Conn(), Interval: interval}), b
}

func notify(t *testing.T, b *bus.Bus, tenant string) {
	t.Helper()
	raw, _ := json.Marshal(ingest.Notice{Tenant: tenant, Count: 1})
	require.NoError(t, b.Conn().Publish(ingest.NoticeSubject(tenant), raw))
	require.NoError(t, b.Conn().Flush())
}

func TestThousandSubscribersShareOneRefresher(t *testing.T) {
	hub, b := newHub(t, time.Hour)
	c := &counter{}
	key := live.Key{Tenant: "t1", Role: "viewer", Resource: "dashboard:d1", Args: "{}"}
	ctx, cancel := context.WithCancel(context.Background())
	chans := make([]<-chan any, 1000)
	for i := range chans {
		ch, err := hub.Subscribe(ctx, key, c.compute)
		require.NoError(t, err)
		chans[i] = ch
	}
	assert.Equal(t, 1, hub.Groups())
	waitFor(t, 2*time.Second, func() bool { return c.runs.Load() >= 1 }, "first compute")

	c.value.Store(42)
	before := c.runs.Load()
	notify(t, b, "t1")
	for i, ch := range chans {
		var got any
		deadline := time.After(2 * time.Second)
	recv:
		for {
			select {
			case got = <-ch:
				if got == int64(42) {
					break recv
				}
			case <-deadline:
				t.Fatalf("subscriber %d did not get the update within 2 s (last %v)", i, got)
			}
		}
	}
	assert.Equal(t, before+1, c.runs.Load(), "one notice, one compute for 1000 subscribers")

	notify(t, b, "t1") // unchanged value: recomputed, not pushed
	waitFor(t, 2*time.Second, func() bool { return c.runs.Load() == before+2 }, "second compute")
	select {
	case v := <-chans[0]:
		t.Fatalf("unchanged value pushed: %v", v)
	case <-time.After(100 * time.Millisecond):
	}

	cancel()
	waitFor(t, 2*time.Second, func() bool { return hub.Groups() == 0 }, "refresher released after the last subscriber left")
}

func TestTenantsNeverShareAndSlowSubscribersGetTheLatest(t *testing.T) {
	hub, b := newHub(t, time.Hour)
	a, other := &counter{}, &counter{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	chA, err := hub.Subscribe(ctx, live.Key{Tenant: "a", Resource: "r"}, a.compute)
	require.NoError(t, err)
	_, err = hub.Subscribe(ctx, live.Key{Tenant: "b", Resource: "r"}, other.compute)
	require.NoError(t, err)
	assert.Equal(t, 2, hub.Groups(), "same resource, different tenants: two refreshers")
	waitFor(t, 2*time.Second, func() bool { return a.runs.Load() == 1 && other.runs.Load() == 1 }, "first computes")

	for v := int64(1); v <= 5; v++ { // the slow subscriber reads nothing meanwhile
		a.value.Store(v)
		notify(t, b, "a")
		waitFor(t, 2*time.Second, func() bool { return a.runs.Load() == v+1 }, "compute after notice")
	}
	assert.Equal(t, int64(1), other.runs.Load(), "tenant b's refresher ignores tenant a's notices")
	waitFor(t, time.Second, func() bool { return len(chA) == 1 }, "one buffered value")
	assert.Equal(t, int64(5), <-chA, "only the latest value is kept for a slow subscriber")
}

func TestIntervalFallback(t *testing.T) {
	hub, _ := newHub(t, 50*time.Millisecond)
	c := &counter{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := hub.Subscribe(ctx, live.Key{Tenant: "t", Resource: "r"}, c.compute)
	require.NoError(t, err)
	waitFor(t, 2*time.Second, func() bool { return c.runs.Load() >= 3 }, "refreshes on the interval without notices")
}
