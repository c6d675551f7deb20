package queue_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/kv/kvtest"
	"github.com/learnhub/analytics-service/platform/queue"
)

// TestRedisCrashLosesNoAcknowledgedJob crashes a real redis-server (SIGKILL,
// append-only file synced on every write, as deploy/compose.yaml runs it
// with always) twice: once with tasks queued and no worker, once while a
// worker is busy with them. Every task whose enqueue was acknowledged runs
// after the restarts — at least once, as jobs.Handler promises — and the
// worker carries on by itself once Redis is back.
func TestRedisCrashLosesNoAcknowledgedJob(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts redis-server")
	}
	ctx := context.Background()
	d := kvtest.StartDurableRedis(t)
	rc := redis.NewClient(&redis.Options{Addr: d.Addr, MaxRetries: 20, MinRetryBackoff: 50 * time.Millisecond, MaxRetryBackoff: 500 * time.Millisecond})
	t.Cleanup(func() { _ = rc.Close() })
	client := queue.NewClient(rc, queue.ClientConfig{})

	const n = 60
	for i := range n {
		_, err := client.Enqueue(ctx, jobs.Task{Kind: "restart:work", Params: map[string]int{"i": i}})
		require.NoError(t, err)
	}
	d.Crash()
	d.Restart()

	var (
		mu   sync.Mutex
		runs = map[int]int{}
	)
	startServer(t, rc, queue.Config{Concurrency: 2}, func(s *queue.Server) {
		s.Handle("restart:work", jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
			var p struct{ I int }
			if err := j.Decode(&p); err != nil {
				return err
			}
			time.Sleep(20 * time.Millisecond) // a job that takes a while, so the second crash lands mid-queue
			mu.Lock()
			runs[p.I]++
			mu.Unlock()
			return nil
		}))
	})
	done := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(runs)
	}
	require.Eventually(t, func() bool { return done() >= n/4 }, waitFor, 10*time.Millisecond, "the worker starts on the queue")
	d.Crash()
	time.Sleep(300 * time.Millisecond) // Redis stays down for a moment while the worker polls
	d.Restart()
	require.Eventually(t, func() bool { return done() == n }, 3*waitFor, 25*time.Millisecond,
		"every acknowledged task runs after two Redis crashes")
	mu.Lock()
	defer mu.Unlock()
	for i := range n {
		assert.GreaterOrEqual(t, runs[i], 1, fmt.Sprint("task ", i))
	}
}
