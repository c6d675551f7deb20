// Package rediskv opens the Redis connection the service uses for queues
// (Asynq), caches and short locks, and implements kv.Locker and kv.Cache on
// it. With no URL configured it runs an in-process Redis (miniredis) so
// `make run` needs nothing installed; with a URL it connects to a Redis
// server. Both sides of a deployment — the go-redis client and Asynq — always
// talk to the same server. Only the composition root (and the queue runtime)
// use this package; domain packages see kv.Locker and kv.Cache.
package rediskv

import (
	"context"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/learnhub/analytics-service/platform/errs"
)

// DefaultPingTimeout bounds the connectivity check in Open when the caller's
// context has no earlier deadline.
const DefaultPingTimeout = 5 * time.Second

// Config says which Redis to use.
type Config struct {
	// URL is ANALYTICS_REDIS_URL: redis://[user:password@]host:port[/db] or
	// rediss://… for TLS. Empty (the default) runs an embedded in-process
	// Redis (miniredis) that lives as long as the KV and keeps nothing on
	// disk. redis-sentinel://[user:password@]host:port[,host:port…]/master[/db]
	// follows a Sentinel-watched master through failovers; Redis Cluster
	// is not supported (Open says so).
	URL string
}

// KV is an open Redis connection; its Store methods make it a kv.Locker and
// a kv.Cache. It is safe for concurrent use.
type KV struct {
	*Store
	client   redis.UniversalClient
	asynqOpt asynq.RedisConnOpt
	embedded *miniredis.Miniredis
	addr     string
}

// Open connects to the Redis named by cfg.URL, or starts the embedded one
// when the URL is empty, and checks that it answers. A malformed URL is a
// KindInvalid error naming ANALYTICS_REDIS_URL; a server that does not answer
// is KindUnavailable.
func Open(ctx context.Context, cfg Config) (*KV, error) {
	const op = "rediskv.Open"
	var k *KV
	if cfg.URL == "" {
		m := miniredis.NewMiniRedis()
		// miniredis only expires keys on FastForward unless told to follow the
		// clock; locks and Asynq's leases rely on expiry.
		m.ClockTTL(true)
		if err := m.Start(); err != nil {
			return nil, errs.Wrap(op, errs.KindUnavailable, err, "cannot start the embedded Redis")
		}
		k = &KV{
			client:   redis.NewClient(&redis.Options{Addr: m.Addr()}),
			asynqOpt: asynq.RedisClientOpt{Addr: m.Addr()},
			embedded: m,
			addr:     m.Addr(),
		}
	} else {
		t, err := parseURL(cfg.URL)
		if err != nil {
			return nil, err
		}
		k = &KV{client: t.client(), asynqOpt: t.asynqOpt(), addr: t.addr()}
	}
	k.Store = New(k.client)
	pctx, cancel := context.WithTimeout(ctx, DefaultPingTimeout)
	defer cancel()
	if err := k.Ping(pctx); err != nil {
		_ = k.Close()
		return nil, err
	}
	return k, nil
}

// Client is the go-redis client for caches, locks and rate limits.
func (k *KV) Client() redis.UniversalClient { return k.client }

// AsynqOpt is the connection option for Asynq clients, servers, schedulers and
// inspectors; it points at the same server as Client.
func (k *KV) AsynqOpt() asynq.RedisConnOpt { return k.asynqOpt }

// Embedded reports whether the Redis runs in-process (no URL configured).
func (k *KV) Embedded() bool { return k.embedded != nil }

// Addr is the server's host:port (never the password), for logs and health.
func (k *KV) Addr() string { return k.addr }

// Ping checks that the server answers; failure is KindUnavailable.
func (k *KV) Ping(ctx context.Context) error {
	if err := k.client.Ping(ctx).Err(); err != nil {
		return errs.Wrap("rediskv.Ping", errs.KindUnavailable, err, "Redis at "+k.addr+" does not answer")
	}
	return nil
}

// Close closes the client and stops the embedded server, if any.
func (k *KV) Close() error {
	err := k.client.Close()
	if k.embedded != nil {
		k.embedded.Close()
	}
	if err != nil {
		return errs.Wrap("rediskv.Close", errs.KindInternal, err, "")
	}
	return nil
}
