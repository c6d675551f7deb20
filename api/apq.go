package api

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// apqTTL is how long a persisted query's text is remembered after its last
// registration.
const apqTTL = 24 * time.Hour

// apqCache stores automatic persisted queries in Redis so every API replica
// knows a hash once any replica has seen its query.
type apqCache struct {
	rdb redis.UniversalClient
}

func (c apqCache) Get(ctx context.Context, hash string) (string, bool) {
	s, err := c.rdb.Get(ctx, "apq:"+hash).Result()
	return s, err == nil
}

func (c apqCache) Add(ctx context.Context, hash, query string) {
	_ = c.rdb.Set(ctx, "apq:"+hash, query, apqTTL).Err() // a lost entry only costs the client one retry with the full text
}
