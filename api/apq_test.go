package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/api"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/kv/kvtest"
)

// countGets counts the GET commands a Redis client sends.
type countGets struct{ n atomic.Int64 }

func (c *countGets) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *countGets) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "get" {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (c *countGets) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

var _ redis.Hook = (*countGets)(nil)

// TestPersistedQueryKnownLocallyCostsNoRedisRoundTrip: a replica that
// registered a query, or fetched it from Redis once, answers its hash
// without asking Redis again; another replica finds a hash registered
// elsewhere in Redis.
func TestPersistedQueryKnownLocallyCostsNoRedisRoundTrip(t *testing.T) {
	addr := kvtest.StartRedis(t)
	replica := func() (*edge, *countGets) {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { _ = rdb.Close() })
		gets := &countGets{}
		rdb.AddHook(gets)
		return newEdge(t, edgeOpts{graphql: func(c *api.GraphQLConfig) { c.Redis = rdb }}), gets
	}
	a, getsA := replica()
	b, getsB := replica()
	q := `{ viewer { tenant } }`
	sum := sha256.Sum256([]byte(q))
	ext := fmt.Sprintf(`"extensions":{"persistedQuery":{"version":1,"sha256Hash":%q}}`, hex.EncodeToString(sum[:]))
	hashOnly := `{` + ext + `}`
	tok := a.token("demo", auth.RoleViewer)

	res := a.postJSON(tok, hashOnly)
	assert.Contains(t, res.body, "PERSISTED_QUERY_NOT_FOUND")
	require.EqualValues(t, 1, getsA.n.Load(), "an unknown hash is looked up in Redis")

	res = a.postJSON(tok, `{"query":`+fmt.Sprintf("%q", q)+`,`+ext+`}`)
	require.JSONEq(t, `{"data":{"viewer":{"tenant":"demo"}}}`, res.body)
	for range 3 {
		res = a.postJSON(tok, hashOnly)
		require.JSONEq(t, `{"data":{"viewer":{"tenant":"demo"}}}`, res.body)
	}
	assert.EqualValues(t, 1, getsA.n.Load(), "the replica that registered the query answers its hash without Redis")

	for range 3 {
		res = b.postJSON(b.token("other", auth.RoleViewer), hashOnly)
		require.JSONEq(t, `{"data":{"viewer":{"tenant":"other"}}}`, res.body, "another replica finds the hash in Redis; the answer is the caller's tenant")
	}
	assert.EqualValues(t, 1, getsB.n.Load(), "another replica asks Redis once, then remembers")
}
