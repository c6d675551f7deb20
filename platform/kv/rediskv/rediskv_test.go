package rediskv_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/kv/kvtest"
	"github.com/learnhub/analytics-service/platform/kv/rediskv"
)

func TestOpenEmbedded(t *testing.T) {
	ctx := context.Background()
	k, err := rediskv.Open(ctx, rediskv.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = k.Close() })

	assert.True(t, k.Embedded())
	require.NoError(t, k.Ping(ctx))
	require.NoError(t, k.Client().Set(ctx, "greeting", "hello", 0).Err())
	got, err := k.Client().Get(ctx, "greeting").Result()
	require.NoError(t, err)
	assert.Equal(t, "hello", got)

	t.Run("keys expire with the clock", func(t *testing.T) {
		require.NoError(t, k.Client().Set(ctx, "lock", "owner", 50*time.Millisecond).Err())
		require.Eventually(t, func() bool {
			n, err := k.Client().Exists(ctx, "lock").Result()
			return err == nil && n == 0
		}, 5*time.Second, 20*time.Millisecond, "a key with a TTL must expire in the embedded Redis")
	})

	t.Run("asynq uses the same server", func(t *testing.T) {
		c := asynq.NewClient(k.AsynqOpt())
		t.Cleanup(func() { _ = c.Close() })
		_, err := c.EnqueueContext(ctx, asynq.NewTask("test:embedded", nil), asynq.TaskID("t1"))
		require.NoError(t, err)
		insp := asynq.NewInspectorFromRedisClient(k.Client())
		info, err := insp.GetTaskInfo("default", "t1")
		require.NoError(t, err)
		assert.Equal(t, asynq.TaskStatePending, info.State)
	})
}

func TestOpenServer(t *testing.T) {
	ctx := context.Background()
	addr := kvtest.StartRedis(t)
	k, err := rediskv.Open(ctx, rediskv.Config{URL: "redis://" + addr + "/2"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = k.Close() })

	assert.False(t, k.Embedded())
	assert.Equal(t, addr, k.Addr())
	require.NoError(t, k.Client().Set(ctx, "k", "v", 0).Err())

	// Asynq's connection option must reach the same server and database.
	ac, ok := k.AsynqOpt().MakeRedisClient().(redis.UniversalClient)
	require.True(t, ok)
	t.Cleanup(func() { _ = ac.Close() })
	got, err := ac.Get(ctx, "k").Result()
	require.NoError(t, err)
	assert.Equal(t, "v", got)

	// And database 2 it is, not 0.
	db0 := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = db0.Close() })
	assert.ErrorIs(t, db0.Get(ctx, "k").Err(), redis.Nil)
}

func TestOpenTLS(t *testing.T) {
	ctx := context.Background()
	m := miniredis.NewMiniRedis()
	require.NoError(t, m.StartTLS(selfSigned(t)))
	t.Cleanup(m.Close)

	k, err := rediskv.Open(ctx, rediskv.Config{URL: "rediss://" + m.Addr() + "?skip_verify=true"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = k.Close() })
	require.NoError(t, k.Client().Set(ctx, "k", "tls", 0).Err())

	opt, ok := k.AsynqOpt().(asynq.RedisClientOpt)
	require.True(t, ok)
	require.NotNil(t, opt.TLSConfig, "asynq must use TLS too")
	ac := opt.MakeRedisClient().(redis.UniversalClient)
	t.Cleanup(func() { _ = ac.Close() })
	got, err := ac.Get(ctx, "k").Result()
	require.NoError(t, err)
	assert.Equal(t, "tls", got)

	t.Run("plain redis:// against a TLS server is unavailable", func(t *testing.T) {
		_, err := rediskv.Open(ctx, rediskv.Config{URL: "redis://" + m.Addr()})
		require.Error(t, err)
		assert.True(t, errs.Is(err, errs.KindUnavailable), "got %v", err)
	})
}

func TestOpenBadURL(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{"no scheme", "localhost:6379", `scheme "localhost"`},
		{"http", "http://user:s3cret@localhost:6379", `scheme "http"`},
		{"sentinel without a master name", "redis-sentinel://user:s3cret@localhost:26379", "/master-name"},
		{"sentinel with a bad address", "redis-sentinel://user:s3cret@localhost:26379,:26380/mymaster", `":26380" is not host:port`},
		{"sentinel with a bad db", "redis-sentinel://user:s3cret@localhost:26379/mymaster/x", `database "x"`},
		{"sentinel with an unknown option", "redis-sentinel://localhost:26379/mymaster?colour=blue", `"colour"`},
		{"cluster", "redis+cluster://localhost:7000", "not supported (Redis Cluster)"},
		{"bad db", "redis://user:s3cret@localhost:6379/abc", "invalid database number"},
		{"unknown option", "redis://localhost:6379?colour=blue", "colour"},
		{"not a url", "redis://user:s3cret@local host:%zz", "not a URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rediskv.Open(context.Background(), rediskv.Config{URL: tc.url})
			require.Error(t, err)
			assert.True(t, errs.Is(err, errs.KindInvalid), "kind: %v", err)
			msg := errs.PublicMessage(err)
			assert.Contains(t, msg, "ANALYTICS_REDIS_URL")
			assert.Contains(t, msg, "expected redis://")
			assert.Contains(t, msg, tc.want)
			assert.NotContains(t, err.Error(), "s3cret", "the password must never appear in an error")
			assert.Equal(t, "ANALYTICS_REDIS_URL", errs.PublicFields(err)["field"])
		})
	}
}

func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = rediskv.Open(ctx, rediskv.Config{URL: "redis://" + addr})
	require.Error(t, err)
	assert.True(t, errs.Is(err, errs.KindUnavailable), "got %v", err)
	assert.Contains(t, errs.PublicMessage(err), addr)
}

// selfSigned makes a throwaway certificate for 127.0.0.1.
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "kv-test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}
