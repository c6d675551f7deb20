package dashboards

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/resultcache"
)

// recorder is a batch's load function that records each flush's size.
type recorder struct {
	mu      sync.Mutex
	flushes []int
}

func (r *recorder) load(_ context.Context, reqs []metrics.Request) ([]*metrics.Result, []error) {
	r.mu.Lock()
	r.flushes = append(r.flushes, len(reqs))
	r.mu.Unlock()
	out := make([]*metrics.Result, len(reqs))
	for i, q := range reqs {
		out[i] = &metrics.Result{Path: q.MetricKey}
	}
	return out, make([]error, len(reqs))
}

func (r *recorder) sizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.flushes...)
}

// Two renders share a computation in each direction: render A's widget
// waits for a computation B started and B's widget for one A started, and
// each computation loads through its own render's batch. Each render
// flushes once with every request its goroutines make, whatever the
// goroutines' timing, and neither waits for the other's batch. Without the
// Waits a render would flush when its first request arrives or wait
// forever for a goroutine blocked on the other render.
func TestBatchFlushesWhenEveryGoroutineWaits(t *testing.T) {
	for range 50 {
		c := resultcache.New(resultcache.Config{MaxEntries: -1})
		recA, recB := &recorder{}, &recorder{}
		a, b := newBatch(recA.load), newBatch(recB.load)
		ctxA := resultcache.WithWaits(context.Background(), a)
		ctxB := resultcache.WithWaits(context.Background(), b)
		var startedA, startedB atomic.Bool
		widget := func(ctx context.Context, own *batch, started *atomic.Bool, key string) func() {
			return func() {
				_, _, err := resultcache.Do(ctx, c, "acme", "w", key, func(ctx context.Context) (*metrics.Result, error) {
					started.Store(true)
					g := resultcache.NewGroup(ctx)
					for _, m := range []string{key + "/1", key + "/2"} {
						g.Go(func() { _, _ = own.Load(ctx, metrics.Request{MetricKey: m}) })
					}
					g.Wait()
					return &metrics.Result{}, nil
				})
				assert.NoError(t, err)
			}
		}
		// A starts "x" and waits on B's "y"; B starts "y" and waits on A's "x".
		gA, gB := resultcache.NewGroup(ctxA), resultcache.NewGroup(ctxB)
		gA.Go(widget(ctxA, a, &startedA, "x"))
		deadline := time.Now().Add(5 * time.Second)
		for !startedA.Load() {
			require.True(t, time.Now().Before(deadline))
			time.Sleep(time.Millisecond)
		}
		gB.Go(widget(ctxB, b, &startedB, "y"))
		for !startedB.Load() {
			require.True(t, time.Now().Before(deadline))
			time.Sleep(time.Millisecond)
		}
		gA.Go(widget(ctxA, a, &startedA, "y")) // shares B's computation
		gB.Go(widget(ctxB, b, &startedB, "x")) // shares A's computation
		gA.Go(func() { _, _ = a.Load(ctxA, metrics.Request{MetricKey: "a-own"}) })
		var renders sync.WaitGroup
		renders.Go(gA.Wait) // each render's own goroutine waits for its widgets
		renders.Go(gB.Wait)
		done := make(chan struct{})
		go func() { renders.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the renders wait on each other's batches")
		}
		// A widget that arrives after the other render's computation ended
		// computes the key itself (nothing is stored here): then its
		// requests are in its own render's one flush.
		require.Len(t, recA.sizes(), 1, "render A flushes once")
		require.Len(t, recB.sizes(), 1, "render B flushes once")
		assert.Contains(t, []int{3, 5}, recA.sizes()[0], "x/1, x/2, A's own request (and y/1, y/2 when A computed y)")
		assert.Contains(t, []int{2, 4}, recB.sizes()[0], "y/1, y/2 (and x/1, x/2 when B computed x)")
	}
}
