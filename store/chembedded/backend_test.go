package chembedded_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
	"github.com/learnhub/analytics-service/store/storetest"
)

// oneConn is a DB on a single-connection backend: every statement runs on
// the same engine session, so anything a statement leaves behind shows.
func oneConn(t *testing.T) *store.DB {
	t.Helper()
	return store.New(storetest.EmbeddedBackend(t, chembedded.Options{PoolSize: 1}), store.Options{Mode: "embedded"})
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

//go:noinline
func nilPointer() *int { return nil }

// TestGoPanicsSurviveTheEngine proves chdb_set_signal_handlers_enabled(0)
// is in effect: with the engine up and having answered, a nil dereference
// is an ordinary recoverable Go panic. Without it the engine's SIGSEGV
// handler kills this test binary (exit 139) instead.
func TestGoPanicsSurviveTheEngine(t *testing.T) {
	db := storetest.Embedded(t)
	var n uint64
	require.NoError(t, db.QueryRow(ctxT(t), []any{&n}, "SELECT count() FROM numbers(1000)"))
	require.Equal(t, uint64(1000), n)

	recovered := make(chan any, 1)
	go func() {
		defer func() { recovered <- recover() }()
		p := nilPointer()
		*p = 1
	}()
	r := <-recovered
	require.NotNil(t, r, "the nil dereference did not panic")
	rerr, ok := r.(runtime.Error)
	require.True(t, ok, "recovered %T, want runtime.Error", r)
	assert.Contains(t, rerr.Error(), "nil pointer dereference")

	require.NoError(t, db.QueryRow(ctxT(t), []any{&n}, "SELECT 7"))
	assert.Equal(t, uint64(7), n, "the engine still answers after the recovered panic")
}

func TestOpenOtherPathFails(t *testing.T) {
	storetest.Embedded(t) // the process engine runs on the shared test directory
	other := t.TempDir()
	_, err := chembedded.Open(ctxT(t), chembedded.Options{Path: other, Database: "x"})
	require.Error(t, err)
	assert.Equal(t, errs.KindUnavailable, errs.KindOf(err))
	assert.Contains(t, errs.PublicMessage(err), other)
	assert.Contains(t, errs.PublicMessage(err), "one data directory per process")
}

func TestDatabasesAreIsolated(t *testing.T) {
	a, b := storetest.EmbeddedBackend(t, chembedded.Options{}), storetest.EmbeddedBackend(t, chembedded.Options{})
	require.NotEqual(t, a.Database(), b.Database())
	require.Equal(t, a.DataPath(), b.DataPath())
	dbA, dbB := store.New(a, store.Options{}), store.New(b, store.Options{})
	for _, db := range []*store.DB{dbA, dbB} {
		require.NoError(t, db.Exec(ctxT(t), "CREATE TABLE same_name (x UInt64) ENGINE = MergeTree() ORDER BY x"))
	}
	require.NoError(t, dbA.Insert(ctxT(t), store.Insert{Table: "same_name", Columns: []string{"x"}, Rows: [][]any{{1}, {2}}}))
	var na, nb uint64
	require.NoError(t, dbA.QueryRow(ctxT(t), []any{&na}, "SELECT count() FROM same_name"))
	require.NoError(t, dbB.QueryRow(ctxT(t), []any{&nb}, "SELECT count() FROM same_name"))
	assert.Equal(t, uint64(2), na)
	assert.Equal(t, uint64(0), nb)
	var cur string
	require.NoError(t, dbB.QueryRow(ctxT(t), []any{&cur}, "SELECT currentDatabase()"))
	assert.Equal(t, b.Database(), cur)
}

// TestSettingsOneConnection checks each way settings reach a statement on a
// single session: SELECT clause, SET and restore for DDL and for queries
// without a clause, INSERT clause, and the failed-limit case.
func TestSettingsOneConnection(t *testing.T) {
	db := oneConn(t)
	probe := func() (string, string, string) {
		t.Helper()
		var tz, rows, threads string
		require.NoError(t, db.QueryRow(ctxT(t), []any{&tz, &rows, &threads},
			"SELECT timezone(), toString(getSetting('max_result_rows')), toString(getSetting('max_threads'))"))
		return tz, rows, threads
	}
	tz0, rows0, threads0 := probe()
	require.Equal(t, "UTC", tz0)
	require.Equal(t, "0", rows0)

	odd := store.WithSettings(ctxT(t), store.Settings{"session_timezone": "Asia/Tokyo", "max_result_rows": 999, "max_threads": 1})

	var tz string
	require.NoError(t, db.QueryRow(odd, []any{&tz}, "SELECT timezone()"))
	assert.Equal(t, "Asia/Tokyo", tz, "a SELECT sees its settings")
	tz1, rows1, threads1 := probe()
	assert.Equal(t, [3]string{tz0, rows0, threads0}, [3]string{tz1, rows1, threads1}, "after SELECT with settings")

	require.NoError(t, db.Exec(odd, "CREATE TABLE probe (at DateTime, x UInt8) ENGINE = MergeTree() ORDER BY x"))
	tz2, rows2, threads2 := probe()
	assert.Equal(t, [3]string{tz0, rows0, threads0}, [3]string{tz2, rows2, threads2}, "after DDL with settings")

	rows, err := db.Query(odd, "SHOW SETTING max_result_rows")
	require.NoError(t, err)
	var shown string
	require.True(t, rows.Next())
	require.NoError(t, rows.Scan(&shown))
	require.NoError(t, rows.Close())
	assert.Equal(t, "999", shown, "a statement without a SETTINGS clause sees its settings through SET")
	tz3, rows3, threads3 := probe()
	assert.Equal(t, [3]string{tz0, rows0, threads0}, [3]string{tz3, rows3, threads3}, "after SHOW with settings")

	require.NoError(t, db.Insert(odd, store.Insert{Table: "probe", Columns: []string{"at", "x"}, Rows: [][]any{{time.Unix(0, 0), 1}}}))
	tz4, rows4, threads4 := probe()
	assert.Equal(t, [3]string{tz0, rows0, threads0}, [3]string{tz4, rows4, threads4}, "after INSERT with settings")

	limited := store.WithSettings(ctxT(t), store.Settings{"max_result_rows": 5, "result_overflow_mode": "throw"})
	_, err = db.Query(limited, "SELECT number FROM numbers(100)")
	require.Error(t, err)
	assert.Equal(t, errs.KindInvalid, errs.KindOf(err))
	var ex *store.Exception
	require.True(t, errors.As(err, &ex))
	assert.Equal(t, store.CodeTooManyRowsBytes, ex.Code)
	var count uint64
	require.NoError(t, db.QueryRow(ctxT(t), []any{&count}, "SELECT count() FROM (SELECT number FROM numbers(100))"))
	assert.Equal(t, uint64(100), count)
	n := 0
	rs, err := db.Query(ctxT(t), "SELECT number FROM numbers(100)")
	require.NoError(t, err)
	for rs.Next() {
		n++
	}
	require.NoError(t, rs.Err())
	assert.Equal(t, 100, n, "the session after the limited statement returns more than 5 rows")
}

func TestEarlyCloseOneConnection(t *testing.T) {
	db := oneConn(t)
	for i := range 5 {
		rows, err := db.Query(ctxT(t), "SELECT number, toString(number) FROM numbers(10000000)")
		require.NoError(t, err)
		require.True(t, rows.Next())
		require.NoError(t, rows.Close())
		var got uint64
		require.NoError(t, db.QueryRow(ctxT(t), []any{&got}, "SELECT ?", i*10))
		assert.Equal(t, uint64(i*10), got)
	}
}

func TestPoolExhaustionWaitsOnContext(t *testing.T) {
	db := oneConn(t)
	held, err := db.Query(ctxT(t), "SELECT number FROM numbers(1000000000)")
	require.NoError(t, err)
	require.True(t, held.Next())

	ctx, cancel := context.WithTimeout(ctxT(t), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = db.Query(ctx, "SELECT 1")
	require.Error(t, err)
	assert.Equal(t, errs.KindUnavailable, errs.KindOf(err))
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond, "it waited for the connection")

	// The waiter gets the connection as soon as it is returned.
	got := make(chan error, 1)
	go func() {
		var v uint64
		got <- db.QueryRow(ctxT(t), []any{&v}, "SELECT 1")
	}()
	require.NoError(t, held.Close())
	select {
	case err := <-got:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("the waiting query never got the returned connection")
	}
}

func TestInsertErrors(t *testing.T) {
	db := oneConn(t)
	require.NoError(t, db.Exec(ctxT(t), "CREATE TABLE ins (n UInt64, s String) ENGINE = MergeTree() ORDER BY n"))

	err := db.Insert(ctxT(t), store.Insert{Table: "ins", Columns: []string{"n", "s"}, Rows: [][]any{{1, "a"}, {2, make(chan int)}}})
	require.Error(t, err)
	assert.Equal(t, errs.KindInternal, errs.KindOf(err))
	assert.Contains(t, err.Error(), `row 1 column "s"`)

	err = db.Insert(ctxT(t), store.Insert{Table: "ins", Columns: []string{"n", "s"}, Rows: [][]any{{"not a number", "a"}}})
	var ex *store.Exception
	require.True(t, errors.As(err, &ex), "got %v", err)
	assert.NotZero(t, ex.Code, "the engine's multi-line parse error keeps its code: %v", ex)
	assert.NotContains(t, errs.PublicMessage(err), "not a number")

	err = db.Insert(ctxT(t), store.Insert{Table: "no_such", Columns: []string{"n"}, Rows: [][]any{{1}}})
	require.True(t, errors.As(err, &ex), "got %v", err)
	assert.Equal(t, store.CodeUnknownTable, ex.Code)

	// Nothing half-written, and the single connection still works.
	var n uint64
	require.NoError(t, db.QueryRow(ctxT(t), []any{&n}, "SELECT count() FROM ins"))
	assert.Equal(t, uint64(0), n)
	require.NoError(t, db.Insert(ctxT(t), store.Insert{Table: "ins", Columns: []string{"s", "n"}, Rows: [][]any{{"ok", 3}}}))
	require.NoError(t, db.QueryRow(ctxT(t), []any{&n}, "SELECT count() FROM ins"))
	assert.Equal(t, uint64(1), n)
}

// TestInsertLargeBatch sends several chunks' worth of rows in one insert.
func TestInsertLargeBatch(t *testing.T) {
	db := storetest.Embedded(t)
	require.NoError(t, db.Exec(ctxT(t), "CREATE TABLE big (n UInt64, s String, at DateTime64(3, 'UTC')) ENGINE = MergeTree() ORDER BY n"))
	const total = 200_000
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	in := store.Insert{Table: "big", Columns: []string{"n", "s", "at"}, Rows: make([][]any, total)}
	for i := range total {
		in.Rows[i] = []any{uint64(i), strings.Repeat("x", i%20), at.Add(time.Duration(i) * time.Millisecond)}
	}
	require.NoError(t, db.Insert(ctxT(t), in))
	var n, sum uint64
	var last time.Time
	require.NoError(t, db.QueryRow(ctxT(t), []any{&n, &sum, &last}, "SELECT count(), sum(n), max(at) FROM big"))
	assert.Equal(t, uint64(total), n)
	assert.Equal(t, uint64(total*(total-1)/2), sum)
	assert.True(t, at.Add((total-1)*time.Millisecond).Equal(last), "got %v", last)
}

func TestClosedBackend(t *testing.T) {
	b := storetest.EmbeddedBackend(t, chembedded.Options{PoolSize: 2})
	require.NoError(t, b.Ping(ctxT(t)))
	require.NoError(t, b.Close())
	require.NoError(t, b.Close(), "Close is idempotent")
	err := b.Ping(ctxT(t))
	require.Error(t, err)
	assert.Equal(t, errs.KindUnavailable, errs.KindOf(err))
	// Other backends on the engine are unaffected.
	require.NoError(t, storetest.Embedded(t).Ping(ctxT(t)))
}

func TestServerVersion(t *testing.T) {
	v, err := storetest.Embedded(t).ServerVersion(ctxT(t))
	require.NoError(t, err)
	parsed, err := store.ParseVersion(v)
	require.NoError(t, err)
	assert.Equal(t, 26, parsed.Major, "version %q", v)
}

// BenchmarkInsert measures Insert of event-shaped rows (the raw-insert
// baseline the ingest pipeline is compared with).
func BenchmarkInsert(b *testing.B) {
	db := store.New(storetest.EmbeddedBackend(b, chembedded.Options{}), store.Options{})
	ctx := context.Background()
	require.NoError(b, db.Exec(ctx, `CREATE TABLE ev (tenant_id LowCardinality(String), event_id String, type LowCardinality(String),
		user_id String, occurred_at DateTime64(3, 'UTC'), properties JSON) ENGINE = MergeTree() ORDER BY (tenant_id, type, event_id)`))
	const batch = 10_000
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := make([][]any, batch)
	for i := range rows {
		rows[i] = []any{"demo", "evt-" + strings.Repeat("0", 8), "lesson.completed", "user-42", at.Add(time.Duration(i) * time.Second),
			map[string]any{"course_id": "c-1", "score": int64(i % 100)}}
	}
	b.ResetTimer()
	for b.Loop() {
		require.NoError(b, db.Insert(ctx, store.Insert{Table: "ev", Columns: []string{"tenant_id", "event_id", "type", "user_id", "occurred_at", "properties"}, Rows: rows}))
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkQueryStream measures decoding and scanning a streamed result.
func BenchmarkQueryStream(b *testing.B) {
	db := store.New(storetest.EmbeddedBackend(b, chembedded.Options{}), store.Options{})
	ctx := context.Background()
	const n = 1_000_000
	for b.Loop() {
		rows, err := db.Query(ctx, "SELECT number, toString(number), toDateTime64(number, 3, 'UTC') FROM numbers(?)", n)
		require.NoError(b, err)
		var (
			u  uint64
			s  string
			at time.Time
		)
		for rows.Next() {
			if err := rows.Scan(&u, &s, &at); err != nil {
				b.Fatal(err)
			}
		}
		require.NoError(b, rows.Err())
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func TestClosedBackendDoesNotHang(t *testing.T) {
	b := storetest.EmbeddedBackend(t, chembedded.Options{PoolSize: 1})
	require.NoError(t, b.Close())
	for range 3 {
		err := b.Ping(ctxT(t))
		require.Error(t, err)
		assert.Equal(t, errs.KindUnavailable, errs.KindOf(err))
		assert.False(t, errors.Is(err, context.DeadlineExceeded), "a closed backend answers at once: %v", err)
	}
}
