// Package kv is what domain packages see of the shared key-value store: a
// Locker for short named locks and a Cache for values every replica shares.
// It names no driver; platform/kv/rediskv implements both on Redis (embedded
// miniredis or a server) and the composition root hands them in.
package kv

import (
	"context"
	"errors"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
)

// ErrMiss is what Cache.Get returns for a key that holds nothing.
var ErrMiss = errors.New("kv: cache miss")

// Cache holds byte values under string keys, shared by every replica.
// Failures other than ErrMiss mean the cache is unavailable: callers treat
// them as a miss and read the source.
type Cache interface {
	// Get returns the value of key, or ErrMiss.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl (zero keeps it until replaced).
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// SetNX stores value under key for ttl only when key holds nothing and
	// reports whether it did.
	SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
}

// MultiGetter reads several keys in one round trip; a Cache may
// implement it.
type MultiGetter interface {
	// GetMany returns the values of keys in their order; a key holding
	// nothing gives nil.
	GetMany(ctx context.Context, keys ...string) ([][]byte, error)
}

// Counter keeps integer counters every replica shares (per-tenant budgets).
type Counter interface {
	// IncrBy adds n (may be 0 to read) to the counter key and returns its new
	// value; a key it creates expires after ttl, so a budget per period
	// cleans itself up.
	IncrBy(ctx context.Context, key string, n int64, ttl time.Duration) (int64, error)
}

// Locker takes short named locks shared by every replica.
type Locker interface {
	// TryLock takes the lock named key for at most ttl. ok is false when
	// another holder has it; err is set when the store cannot be reached.
	// unlock releases the lock only if this holder still owns it.
	TryLock(ctx context.Context, key string, ttl time.Duration) (unlock func(), ok bool, err error)
}

// DefaultLockTTL bounds how long a command may hold a lock when Locks is
// given no TTL.
const DefaultLockTTL = 5 * time.Second

// Locks takes per-entity locks with one TTL, so two commands on one entity
// (a metric, a dashboard, a tenant's export admission) never interleave
// their read-check-write. Without a Locker it takes no locks (one instance;
// version checks still catch stale writers).
type Locks struct {
	l   Locker
	ttl time.Duration
}

// NewLocks returns Locks on l (nil means no locking) whose locks expire after
// ttl (zero means DefaultLockTTL).
func NewLocks(l Locker, ttl time.Duration) Locks {
	if ttl <= 0 {
		ttl = DefaultLockTTL
	}
	return Locks{l: l, ttl: ttl}
}

// Lock takes the lock named key or fails with KindConflict when another
// command holds it (KindUnavailable when the store does not answer); the
// returned func releases it.
func (x Locks) Lock(ctx context.Context, key string) (func(), error) {
	if x.l == nil {
		return func() {}, nil
	}
	unlock, ok, err := x.l.TryLock(ctx, key, x.ttl)
	if err != nil {
		return nil, errs.Wrap("kv.lock", errs.KindUnavailable, err, "the lock service is unavailable; retry later")
	}
	if !ok {
		return nil, errs.E("kv.lock", errs.KindConflict, "this item is being changed by another request; reload and retry")
	}
	return unlock, nil
}
