// Package storetest is the conformance suite every store.Backend passes,
// plus a helper that gives other packages' tests a real embedded ClickHouse.
//
// RunTransport holds to SQL that the oldest server the wire tests run
// against (Debian's ClickHouse 18.16) understands: no DateTime64, Bool,
// JSON or server-side parameters. RunFull adds what needs ClickHouse 26.7.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/store"
)

// OpenFunc returns a DB whose backend sits on a fresh, empty database (so
// tables created by one test are invisible to another). It registers its
// own cleanup with t.Cleanup.
type OpenFunc func(t *testing.T) *store.DB

// testTimeout bounds every conformance step; a hung backend fails instead
// of stalling the test binary.
const testTimeout = 2 * time.Minute

// RunTransport checks what any ClickHouse transport must do: connect, ping,
// report a version, insert a batch with an explicit column list, bind `?`
// arguments safely, round-trip extreme numbers and map engine errors.
func RunTransport(t *testing.T, open OpenFunc) {
	t.Run("PingAndVersion", func(t *testing.T) { testPingAndVersion(t, open(t)) })
	t.Run("BatchInsertColumnOrder", func(t *testing.T) { testBatchInsert(t, open(t)) })
	t.Run("BindSelect", func(t *testing.T) { testBindSelect(t, open(t)) })
	t.Run("BindWhere", func(t *testing.T) { testBindWhere(t, open(t)) })
	t.Run("ExtremeNumbers", func(t *testing.T) { testExtremeNumbers(t, open(t)) })
	t.Run("ErrorMapping", func(t *testing.T) { testErrorMapping(t, open(t)) })
}

// RunFull runs RunTransport and then the checks that need ClickHouse 26.7:
// modern types, dedup tokens, per-statement settings, streaming of large
// results, concurrency and cancellation.
func RunFull(t *testing.T, open OpenFunc) {
	RunTransport(t, open)
	t.Run("DateTime64", func(t *testing.T) { testDateTime64(t, open(t)) })
	t.Run("Nullable", func(t *testing.T) { testNullable(t, open(t)) })
	t.Run("ArrayAndMap", func(t *testing.T) { testArrayAndMap(t, open(t)) })
	t.Run("LowCardinality", func(t *testing.T) { testLowCardinality(t, open(t)) })
	t.Run("JSONColumn", func(t *testing.T) { testJSONColumn(t, open(t)) })
	t.Run("HostileStringsFull", func(t *testing.T) { testHostileFull(t, open(t)) })
	t.Run("DedupToken", func(t *testing.T) { testDedupToken(t, open(t)) })
	t.Run("SettingsApplyAndDoNotLeak", func(t *testing.T) { testSettings(t, open(t)) })
	t.Run("StreamLargeResult", func(t *testing.T) { testStreamLarge(t, open(t)) })
	t.Run("StreamEarlyClose", func(t *testing.T) { testStreamEarlyClose(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("Cancellation", func(t *testing.T) { testCancellation(t, open(t)) })
}

// testCtx is a context bounded by testTimeout and the test's own deadline.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// exec runs sql and fails the test on error.
func exec(t *testing.T, db *store.DB, sql string, args ...any) {
	t.Helper()
	require.NoError(t, db.Exec(testCtx(t), sql, args...), sql)
}

// scanAll runs sql and scans every row with newDest, which returns fresh
// destinations for one row; it returns the rows' destinations.
func scanAll(t *testing.T, db *store.DB, newDest func() []any, sql string, args ...any) [][]any {
	t.Helper()
	rows, err := db.Query(testCtx(t), sql, args...)
	require.NoError(t, err, sql)
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		d := newDest()
		require.NoError(t, rows.Scan(d...), sql)
		out = append(out, d)
	}
	require.NoError(t, rows.Err(), sql)
	require.NoError(t, rows.Close())
	return out
}

// countRows drains a query and returns how many rows it produced and the
// error that ended it (from Query or from iteration).
func countRows(ctx context.Context, db *store.DB, sql string, args ...any) (int, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}
