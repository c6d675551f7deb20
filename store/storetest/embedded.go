package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
)

// sharedEngine is the embedded engine's data directory for this test
// process. The engine is process-wide (chembedded can run one data
// directory per process), so every test shares it and isolates itself in
// its own database. The directory lives under os.TempDir and outlives the
// process: the engine holds it open until exit.
var sharedEngine struct {
	once sync.Once
	dir  string
	err  error
}

// Embedded returns a DB on a fresh database of the embedded engine (started
// once per test process at a temporary directory, with the library from
// chembedded.DefaultLibPath). The database is dropped when the test ends.
// Without the library the test fails with the `make chdb` hint; it is never
// skipped.
func Embedded(t *testing.T) *store.DB {
	t.Helper()
	return store.New(EmbeddedBackend(t, chembedded.Options{}), store.Options{Mode: "embedded"})
}

// EmbeddedBackend is Embedded for tests and benchmarks that need the
// backend itself or non-default options. opts.Path is always the shared test directory;
// an empty opts.Database gets a fresh name for this test.
func EmbeddedBackend(t testing.TB, opts chembedded.Options) *chembedded.Backend {
	t.Helper()
	sharedEngine.once.Do(func() {
		sharedEngine.dir, sharedEngine.err = os.MkdirTemp("", "analyticsd-storetest-")
	})
	if sharedEngine.err != nil {
		t.Fatalf("storetest: cannot make the embedded engine directory: %v", sharedEngine.err)
	}
	opts.Path = sharedEngine.dir
	if opts.Database == "" {
		opts.Database = FreshDatabaseName(t)
	}
	b, err := chembedded.Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("storetest: the embedded ClickHouse engine is unavailable (run `make chdb` or set %s): %v",
			chembedded.LibPathEnv, err)
	}
	t.Cleanup(func() {
		_ = b.Close()
		dropDatabase(t, opts)
	})
	return b
}

// FreshDatabaseName derives a database name unique to this test run from
// the test's name.
func FreshDatabaseName(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(t.Name()) {
		if b.Len() >= 40 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	b.WriteByte('_')
	b.WriteString(hex.EncodeToString(suffix[:]))
	return b.String()
}

// dropDatabase removes a test's database through a short-lived backend on
// "default" (the test's own backend may be closed already).
func dropDatabase(t testing.TB, opts chembedded.Options) {
	t.Helper()
	name := opts.Database
	opts.Database, opts.PoolSize = "default", 1
	admin, err := chembedded.Open(context.Background(), opts)
	if err != nil {
		t.Errorf("storetest: dropping test database %s: %v", name, err)
		return
	}
	defer admin.Close()
	err = admin.Exec(context.Background(), store.Statement{SQL: "DROP DATABASE IF EXISTS " + store.QuoteIdent(name) + " SYNC"})
	if err != nil {
		t.Errorf("storetest: dropping test database %s: %v", name, err)
	}
}
