package rediskv_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/kv/kvtest"
	"github.com/learnhub/analytics-service/platform/kv/rediskv"
)

// TestIncrBy checks that two stores on two connections (two replicas)
// share one counter, that concurrent increments are not lost, and that the
// key gets its expiry once, when it is created.
func TestIncrBy(t *testing.T) {
	addr := kvtest.StartRedis(t)
	ctx := context.Background()
	var stores []*rediskv.Store
	for range 2 {
		c := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { _ = c.Close() })
		stores = append(stores, rediskv.New(c))
	}
	v, err := stores[0].IncrBy(ctx, "budget", 0, time.Hour)
	require.NoError(t, err)
	assert.Zero(t, v, "reading a new counter")
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := stores[i%2].IncrBy(ctx, "budget", 7, time.Hour)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	v, err = stores[1].IncrBy(ctx, "budget", 0, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, int64(700), v)
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ttl, err := c.PTTL(ctx, "budget").Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 59*time.Minute, "the first call's expiry stays; later ttls do not extend or shorten it")
}
