package chserver_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chserver"
)

// addrEnv names the ClickHouse server (native port) the wire tests use.
const addrEnv = "ANALYTICS_TEST_CLICKHOUSE_ADDR"

// serverAddr returns the test server's address. Without one the test
// fails in CI (which must run these tests) and is skipped loudly elsewhere.
func serverAddr(t *testing.T) string {
	t.Helper()
	if addr := os.Getenv(addrEnv); addr != "" {
		return addr
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not set but CI is: .ci/run must start the server with `bash .ci/clickhouse-server.sh` and export %s=127.0.0.1:9000", addrEnv, addrEnv)
	}
	t.Skipf("SKIPPING ClickHouse server wire test: run `sudo bash .ci/clickhouse-server.sh`, then `%s=127.0.0.1:9000 go test ./store/chserver/`", addrEnv)
	return ""
}

// openBackend connects to database on the test server, accepting servers
// older than store.MinServerVersion (Debian ships 18.16).
func openBackend(t *testing.T, database string) *chserver.Backend {
	t.Helper()
	b, err := chserver.Open(t.Context(), chserver.Options{
		URL:                       "clickhouse://" + serverAddr(t) + "/" + database + "?dial_timeout=5s",
		DangerousSkipVersionCheck: true,
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	return b
}

// freshDatabase creates an empty database t_<random> and drops it when the
// test ends.
func freshDatabase(t *testing.T) string {
	t.Helper()
	admin := openBackend(t, "default")
	var rnd [6]byte
	_, err := rand.Read(rnd[:])
	require.NoError(t, err)
	name := "t_" + hex.EncodeToString(rnd[:])
	require.NoError(t, admin.Exec(t.Context(), store.Statement{SQL: "CREATE DATABASE " + store.QuoteIdent(name)}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, admin.Exec(ctx, store.Statement{SQL: "DROP DATABASE IF EXISTS " + store.QuoteIdent(name)}))
	})
	return name
}

// openDB returns a store.DB on a fresh database of the test server.
func openDB(t *testing.T) *store.DB {
	t.Helper()
	return store.New(openBackend(t, freshDatabase(t)), store.Options{Mode: "server"})
}

// eventually polls cond every 50 ms until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("test ended while waiting: %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
