package exports_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/exports"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/kv/kvtest"
	"github.com/learnhub/analytics-service/platform/kv/rediskv"
	"github.com/learnhub/analytics-service/store"
)

// TestCapAcrossReplicas runs concurrent requests of one tenant through two
// Services on one database and one Redis (two replicas): exactly the cap
// is admitted.
func TestCapAcrossReplicas(t *testing.T) {
	rc := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
	t.Cleanup(func() { _ = rc.Close() })
	h := newHarness(t, func(_ *store.DB, d *exports.Deps, _ *exports.Config) { d.Locks = rediskv.New(rc) })
	other, err := exports.NewService(exports.Deps{DB: h.db, Blobs: h.blobs, Jobs: h.q, Bus: h.bus, Locks: rediskv.New(rc)}, exports.Config{})
	require.NoError(t, err)
	replicas := []*exports.Service{h.svc, other}

	const n = 6
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, results[i] = replicas[i%2].Request(tenantCtx("a"), eventsSpec(exports.FormatCSV))
		})
	}
	wg.Wait()
	admitted := 0
	for _, err := range results {
		if err == nil {
			admitted++
			continue
		}
		assert.True(t, errs.Is(err, errs.KindRateLimited), "%v", err)
	}
	assert.Equal(t, exports.DefaultMaxConcurrentPerTenant, admitted)
	page, err := h.svc.List(tenantCtx("a"), 0, "")
	require.NoError(t, err)
	assert.Len(t, page.Jobs, exports.DefaultMaxConcurrentPerTenant, "stored jobs")

	t.Run("a held lock makes the request wait, then UNAVAILABLE", func(t *testing.T) {
		require.NoError(t, rc.Set(context.Background(), "exports:admit:b", "another-replica", time.Minute).Err())
		start := time.Now()
		_, err := other.Request(tenantCtx("b"), eventsSpec(exports.FormatCSV))
		assert.True(t, errs.Is(err, errs.KindUnavailable), "%v", err)
		assert.GreaterOrEqual(t, time.Since(start), time.Second, "it waited for the holder")
		require.NoError(t, rc.Del(context.Background(), "exports:admit:b").Err())
		_, err = other.Request(tenantCtx("b"), eventsSpec(exports.FormatCSV))
		assert.NoError(t, err, "admitted once the lock is free")
	})
}
