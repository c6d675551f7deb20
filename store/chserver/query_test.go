package chserver_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

func TestSettingsReachServer(t *testing.T) {
	db := openDB(t)

	t.Run("setting value is visible to the query", func(t *testing.T) {
		ctx := store.WithSettings(t.Context(), store.Settings{"max_block_size": 1234})
		var value string
		require.NoError(t, db.QueryRow(ctx, []any{&value}, "SELECT value FROM system.settings WHERE name = ?", "max_block_size"))
		assert.Equal(t, "1234", value)
	})

	t.Run("max_result_rows is enforced", func(t *testing.T) {
		// Control: without the limit the query returns all its rows.
		assert.Equal(t, 100, countRows(t, db, t.Context()))

		ctx := store.WithSettings(t.Context(), store.Settings{"max_result_rows": 10})
		rows, err := db.Query(ctx, "SELECT number FROM system.numbers LIMIT 100")
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			_ = rows.Close() // repeats the stream's error
		}
		require.Error(t, err)
		assert.Equal(t, errs.KindInvalid, errs.KindOf(err))
		var ex *store.Exception
		require.ErrorAs(t, err, &ex)
		assert.Contains(t, []int{store.CodeTooManyRows, store.CodeTooManyRowsBytes}, ex.Code)
	})
}

func countRows(t *testing.T, db *store.DB, ctx context.Context) int {
	t.Helper()
	rows, err := db.Query(ctx, "SELECT number FROM system.numbers LIMIT 100")
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		n++
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	return n
}

// runningQueries counts server queries whose text contains marker.
func runningQueries(t *testing.T, db *store.DB, marker string) uint64 {
	t.Helper()
	var n uint64
	require.NoError(t, db.QueryRow(t.Context(), []any{&n},
		"SELECT count() FROM system.processes WHERE position(query, ?) > 0 AND position(query, 'system.processes') = 0", marker))
	return n
}

func TestContextCancellation(t *testing.T) {
	db := openDB(t)
	marker := randomMarker(t)

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	// count() over an endless table never returns on its own.
	rows, err := db.Query(ctx, "SELECT count() FROM system.numbers WHERE number != 0 /* "+marker+" */")
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		_ = rows.Close()
	}
	require.Error(t, err)
	assert.Less(t, time.Since(start), 10*time.Second, "the deadline stops the query")
	assert.Equal(t, errs.KindUnavailable, errs.KindOf(err))
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	eventually(t, 15*time.Second, "the server still runs the cancelled query", func() bool {
		return runningQueries(t, db, marker) == 0
	})

	t.Run("a cancelled ctx fails fast", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := db.Exec(ctx, "SELECT 1")
		require.Error(t, err)
		assert.Equal(t, errs.KindUnavailable, errs.KindOf(err))
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestRowsCloseEarlyStopsQuery(t *testing.T) {
	db := openDB(t)
	marker := randomMarker(t)

	rows, err := db.Query(t.Context(), "SELECT number FROM system.numbers /* "+marker+" */")
	require.NoError(t, err)
	require.True(t, rows.Next())
	var first uint64
	require.NoError(t, rows.Scan(&first))
	assert.Equal(t, uint64(0), first)

	closed := make(chan error, 1)
	go func() { closed <- rows.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
		assert.NoError(t, rows.Err(), "our own cancellation is not an error")
		assert.False(t, rows.Next(), "no rows after Close")
	case <-time.After(10 * time.Second):
		t.Fatal("Close of an endless result did not return: it drains instead of cancelling")
	}
	eventually(t, 15*time.Second, "the server still runs the abandoned query", func() bool {
		return runningQueries(t, db, marker) == 0
	})
	// The pool is still usable.
	var one uint8
	require.NoError(t, db.QueryRow(t.Context(), []any{&one}, "SELECT 1"))
	assert.Equal(t, uint8(1), one)
}

func TestErrorMapping(t *testing.T) {
	db := openDB(t)
	tests := []struct {
		name     string
		sql      string
		wantCode int
		wantKind errs.Kind
	}{
		{"syntax error", "SELEC 1", store.CodeSyntaxError, errs.KindInternal},
		{"unknown table", "SELECT * FROM no_such_table", store.CodeUnknownTable, errs.KindInternal},
		{"unknown identifier", "SELECT no_such_column FROM system.one", store.CodeUnknownIdentifier, errs.KindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := db.Query(t.Context(), tt.sql)
			if err == nil {
				_ = rows.Close()
			}
			require.Error(t, err)
			assert.Equal(t, tt.wantKind, errs.KindOf(err))
			var ex *store.Exception
			require.ErrorAs(t, err, &ex)
			assert.Equal(t, tt.wantCode, ex.Code)
			assert.NotEmpty(t, ex.Message)
			assert.NotContains(t, errs.PublicMessage(err), tt.sql, "the client never sees SQL")
		})
	}

	t.Run("readonly is forbidden", func(t *testing.T) {
		ctx := store.WithSettings(t.Context(), store.Settings{"readonly": 1})
		err := db.Exec(ctx, "CREATE TABLE ro (x UInt8) ENGINE = Memory")
		require.Error(t, err)
		assert.Equal(t, errs.KindForbidden, errs.KindOf(err))
	})

	t.Run("exec reports engine errors too", func(t *testing.T) {
		err := db.Exec(t.Context(), "DROP TABLE no_such_table")
		var ex *store.Exception
		require.ErrorAs(t, err, &ex)
		assert.Equal(t, store.CodeUnknownTable, ex.Code)
	})
}

func TestBindingIsLiteral(t *testing.T) {
	db := openDB(t)
	hostile := "x' OR 1 = 1 --\\"
	var got string
	var n uint64
	require.NoError(t, db.QueryRow(t.Context(), []any{&got, &n}, "SELECT ?, ?", hostile, uint64(18446744073709551615)))
	assert.Equal(t, hostile, got)
	assert.Equal(t, uint64(18446744073709551615), n)

	at := time.Date(2024, 3, 1, 12, 34, 56, 0, time.FixedZone("CET", 3600))
	var ts time.Time
	require.NoError(t, db.QueryRow(t.Context(), []any{&ts}, "SELECT toDateTime(?, 'UTC')", at))
	assert.True(t, at.Equal(ts), "want %v, got %v", at, ts)
	assert.Equal(t, time.UTC, ts.Location())
}

func TestBindSubSecondTime(t *testing.T) {
	db := openDB(t)
	raw, err := db.ServerVersion(t.Context())
	require.NoError(t, err)
	v, err := store.ParseVersion(raw)
	require.NoError(t, err)
	at := time.Date(2024, 3, 1, 12, 34, 56, 250_000_000, time.FixedZone("CET", 3600))

	var got time.Time
	var s string
	err = db.QueryRow(t.Context(), []any{&got, &s}, "SELECT ?, ?", at, "it's")
	if v.Less(store.MinServerVersion) {
		// 18.16 has no DateTime64: the millisecond form reaches the server
		// and is refused rather than silently truncated to the second.
		var ex *store.Exception
		require.ErrorAs(t, err, &ex, "ClickHouse %s", raw)
		assert.Equal(t, 46, ex.Code, "UNKNOWN_FUNCTION toDateTime64: %v", ex)
		return
	}
	require.NoError(t, err)
	assert.True(t, at.Equal(got), "want %v, got %v", at, got)
	assert.Equal(t, "it's", s)
}

func randomMarker(t *testing.T) string {
	t.Helper()
	var b [8]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return "marker_" + hex.EncodeToString(b[:])
}

func TestClosedBackendIsUnavailable(t *testing.T) {
	b := openBackend(t, "default")
	require.NoError(t, b.Close())
	_, err := b.Query(t.Context(), store.Statement{SQL: "SELECT 1"})
	require.Error(t, err)
	assert.Equal(t, errs.KindUnavailable, errs.KindOf(err), "got %v", err)
	assert.False(t, errors.Is(err, context.Canceled))
}
