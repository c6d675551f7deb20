package metrics

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/learnhub/analytics-service/platform/errs"
)

// DefaultLockTTL bounds how long a command may hold an entity lock when
// Config.LockTTL is zero.
const DefaultLockTTL = 5 * time.Second

// unlockScript deletes the lock only if this holder still owns it.
var unlockScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// Locker takes short per-entity locks in Redis so two commands on one
// metadata entity (a metric, a dashboard) never interleave their
// read-check-write. Without a client it is a no-op (one instance; version
// checks still catch stale writers). Dashboards share it with the registry.
type Locker struct {
	client redis.UniversalClient
	ttl    time.Duration
}

// NewLocker returns a Locker on client (nil means no locking) whose locks
// expire after ttl (zero means DefaultLockTTL).
func NewLocker(client redis.UniversalClient, ttl time.Duration) Locker {
	if ttl <= 0 {
		ttl = DefaultLockTTL
	}
	return Locker{client: client, ttl: ttl}
}

// Lock takes the lock named key or fails with KindConflict when another
// command holds it; the returned func releases it.
func (l Locker) Lock(ctx context.Context, key string) (func(), error) {
	if l.client == nil {
		return func() {}, nil
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	ok, err := l.client.SetNX(ctx, key, token, l.ttl).Result()
	if err != nil {
		return nil, errs.Wrap("metrics.lock", errs.KindUnavailable, err, "the lock service is unavailable; retry later")
	}
	if !ok {
		return nil, errs.E("metrics.lock", errs.KindConflict, "this item is being changed by another request; reload and retry")
	}
	return func() {
		_ = unlockScript.Run(context.WithoutCancel(ctx), l.client, []string{key}, token).Err()
	}, nil
}
