package api

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"

	"github.com/learnhub/analytics-service/platform/kv/rediskv"
)

// TestKeptResponseHoldsWhileItsDependenciesDo checks the hit path's test
// of a kept response: it expires when its window moves, and when any value
// it rests on in Redis changed or is gone (embedded Redis, one MGET).
func TestKeptResponseHoldsWhileItsDependenciesDo(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	now := time.Date(2026, 12, 5, 23, 59, 0, 0, time.UTC)
	rc := responseCache{defs: rediskv.New(rdb), now: func() time.Time { return now }}
	ctx := context.Background()
	mr.Set("dash:ver:t:1", "4")
	mr.Set("metrics:gen:t", "g1")
	k := &keptResponse{until: now.Add(time.Minute), keys: []string{"dash:ver:t:1", "metrics:gen:t"}, wants: []string{"4", "g1"}}
	assert.True(t, rc.holds(ctx, k))

	now = now.Add(time.Minute)
	assert.False(t, rc.holds(ctx, k), "the window moved at midnight")
	now = now.Add(-time.Minute)

	mr.Set("metrics:gen:t", "g2")
	assert.False(t, rc.holds(ctx, k), "the definitions changed")
	mr.Set("metrics:gen:t", "g1")
	assert.True(t, rc.holds(ctx, k))
	mr.Del("dash:ver:t:1")
	assert.False(t, rc.holds(ctx, k), "a version Redis no longer holds proves nothing")
}
