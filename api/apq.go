package api

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/redis/go-redis/v9"
)

// apqTTL is how long a persisted query's text is remembered after its last
// registration.
const apqTTL = 24 * time.Hour

// apqLocalSize bounds the persisted queries a replica remembers itself.
const apqLocalSize = 1000

// apqCache stores automatic persisted queries in Redis so every API replica
// knows a hash once any replica has seen its query, and remembers the ones
// this replica served in process: a hash-only request for a known document
// costs no Redis round trip. Entries are content-addressed (gqlgen checks
// a registered text against its SHA-256 before storing it), so a local
// entry never goes stale; only Redis forgets, apqTTL after registration.
type apqCache struct {
	rdb   redis.UniversalClient
	local *lru.LRU[string]
}

func newAPQCache(rdb redis.UniversalClient) apqCache {
	return apqCache{rdb: rdb, local: lru.New[string](apqLocalSize)}
}

func (c apqCache) Get(ctx context.Context, hash string) (string, bool) {
	if q, ok := c.local.Get(ctx, hash); ok {
		return q, true
	}
	q, err := c.rdb.Get(ctx, "apq:"+hash).Result()
	if err != nil {
		return "", false
	}
	c.local.Add(ctx, hash, q)
	return q, true
}

func (c apqCache) Add(ctx context.Context, hash, query string) {
	c.local.Add(ctx, hash, query)
	_ = c.rdb.Set(ctx, "apq:"+hash, query, apqTTL).Err() // a lost entry only costs another replica's client one retry with the full text
}
