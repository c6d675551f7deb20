package rediskv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/learnhub/analytics-service/platform/kv"
)

// unlockScript deletes the lock only if this holder still owns it.
var unlockScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// incrScript adds ARGV[1] to KEYS[1] and gives a key without an expiry
// ARGV[2] milliseconds to live, in one step.
var incrScript = redis.NewScript(`local v = redis.call("INCRBY", KEYS[1], ARGV[1]) if redis.call("PTTL", KEYS[1]) < 0 then redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return v`)

// Store is kv.Locker, kv.Cache and kv.Counter on a go-redis client.
type Store struct {
	client redis.UniversalClient
}

var (
	_ kv.Locker  = (*Store)(nil)
	_ kv.Cache   = (*Store)(nil)
	_ kv.Counter = (*Store)(nil)
)

// New returns a Store on client; the caller keeps closing the client.
func New(client redis.UniversalClient) *Store { return &Store{client: client} }

// TryLock implements kv.Locker with SET NX PX and a random token; unlock
// runs a script that deletes the key only while it still holds the token.
func (s *Store) TryLock(ctx context.Context, key string, ttl time.Duration) (func(), bool, error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	ok, err := s.client.SetNX(ctx, key, token, ttl).Result()
	if err != nil || !ok {
		return nil, false, err
	}
	return func() {
		_ = unlockScript.Run(context.WithoutCancel(ctx), s.client, []string{key}, token).Err()
	}, true, nil
}

// Get implements kv.Cache.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := s.client.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, kv.ErrMiss
	}
	return b, err
}

// GetMany implements kv.MultiGetter with one MGET.
func (s *Store) GetMany(ctx context.Context, keys ...string) ([][]byte, error) {
	vals, err := s.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(vals))
	for i, v := range vals {
		if str, ok := v.(string); ok {
			out[i] = []byte(str)
		}
	}
	return out, nil
}

// Set implements kv.Cache.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return s.client.Set(ctx, key, value, ttl).Err()
}

// SetNX implements kv.Cache.
func (s *Store) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return s.client.SetNX(ctx, key, value, ttl).Result()
}

// IncrBy implements kv.Counter with INCRBY and PEXPIRE in one script.
func (s *Store) IncrBy(ctx context.Context, key string, n int64, ttl time.Duration) (int64, error) {
	return incrScript.Run(ctx, s.client, []string{key}, n, ttl.Milliseconds()).Int64()
}
