package kvtest_test

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/kv/kvtest"
)

// TestStartRedis: a Redis answers with redis-server on the PATH (the real
// one) and without it (the in-process one), keys expire with the clock in
// both, and each call gets its own server.
func TestStartRedis(t *testing.T) {
	for _, tc := range []struct {
		name string
		path func(t *testing.T) string
	}{
		{"as found", func(t *testing.T) string { return "" }},
		{"no redis-server on PATH", func(t *testing.T) string { return t.TempDir() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p := tc.path(t); p != "" {
				t.Setenv("PATH", p)
				t.Setenv("CI", "")
				_, err := exec.LookPath("redis-server")
				require.Error(t, err, "redis-server must be hidden")
			}
			ctx := context.Background()
			a := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
			b := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
			t.Cleanup(func() { _, _ = a.Close(), b.Close() })
			require.NoError(t, a.Set(ctx, "k", "v", 200*time.Millisecond).Err())
			got, err := a.Get(ctx, "k").Result()
			require.NoError(t, err)
			assert.Equal(t, "v", got)
			assert.Equal(t, redis.Nil, b.Get(ctx, "k").Err(), "servers are separate")
			deadline := time.Now().Add(5 * time.Second)
			for a.Exists(ctx, "k").Val() == 1 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond) // polling for expiry, bounded by the deadline
			}
			assert.Zero(t, a.Exists(ctx, "k").Val(), "the key expired with the clock")
		})
	}
}
