package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// poolCycle is how many sequential statements a check runs so that every
// connection of a pool of up to this size is used at least twice over.
const poolCycle = 16

func testDateTime64(t *testing.T, db *store.DB) {
	exec(t, db, `CREATE TABLE dt64 (id UInt8, at DateTime64(3, 'UTC'), tokyo DateTime64(3, 'Asia/Tokyo'), plain DateTime, day Date) ENGINE = MergeTree() ORDER BY id`)
	at := time.Date(2025, 12, 31, 23, 59, 58, 123_000_000, time.FixedZone("minus5", -5*3600))
	require.NoError(t, db.Insert(testCtx(t), store.Insert{
		Table: "dt64", Columns: []string{"id", "at", "tokyo", "plain", "day"},
		Rows: [][]any{{uint8(1), at, at, at, at}},
	}))
	var gotAt, gotTokyo, gotPlain, gotDay time.Time
	require.NoError(t, db.QueryRow(testCtx(t), []any{&gotAt, &gotTokyo, &gotPlain, &gotDay}, "SELECT at, tokyo, plain, day FROM dt64"))
	assert.True(t, at.Equal(gotAt), "DateTime64(3, 'UTC'): got %v want %v", gotAt, at)
	assert.True(t, at.Equal(gotTokyo), "DateTime64(3, 'Asia/Tokyo') is the same instant: got %v want %v", gotTokyo, at)
	assert.True(t, at.Truncate(time.Second).Equal(gotPlain), "DateTime keeps whole seconds: got %v", gotPlain)
	assert.Equal(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), gotDay, "Date keeps the UTC day")
	assert.Equal(t, time.UTC, gotAt.Location())
	assert.Equal(t, time.UTC, gotTokyo.Location())

	var back time.Time
	require.NoError(t, db.QueryRow(testCtx(t), []any{&back}, "SELECT ?", at))
	assert.True(t, at.Equal(back), "bound time: got %v want %v", back, at)
	var n uint64
	require.NoError(t, db.QueryRow(testCtx(t), []any{&n}, "SELECT count() FROM dt64 WHERE at = ?", at))
	assert.Equal(t, uint64(1), n)
}

func testNullable(t *testing.T, db *store.DB) {
	exec(t, db, `CREATE TABLE nulls (id UInt8, s Nullable(String), n Nullable(Int64)) ENGINE = MergeTree() ORDER BY id`)
	require.NoError(t, db.Insert(testCtx(t), store.Insert{
		Table: "nulls", Columns: []string{"id", "s", "n"},
		Rows: [][]any{{uint8(1), nil, nil}, {uint8(2), "x", int64(-5)}},
	}))
	got := scanAll(t, db, func() []any { return []any{new(*string), new(*int64), new(any)} }, "SELECT s, n, s FROM nulls ORDER BY id")
	require.Len(t, got, 2)
	assert.Nil(t, *got[0][0].(**string))
	assert.Nil(t, *got[0][1].(**int64))
	assert.Nil(t, *got[0][2].(*any))
	require.NotNil(t, *got[1][0].(**string))
	assert.Equal(t, "x", **got[1][0].(**string))
	require.NotNil(t, *got[1][1].(**int64))
	assert.Equal(t, int64(-5), **got[1][1].(**int64))
	assert.Equal(t, "x", *got[1][2].(*any))

	var isNull uint8
	require.NoError(t, db.QueryRow(testCtx(t), []any{&isNull}, "SELECT isNull(?)", nil))
	assert.Equal(t, uint8(1), isNull)
}

func testArrayAndMap(t *testing.T, db *store.DB) {
	exec(t, db, `CREATE TABLE arrs (id UInt8, tags Array(String), nums Array(UInt64), m Map(String, Int64)) ENGINE = MergeTree() ORDER BY id`)
	tags := []string{"a", "b'c", "", `d"e\f`}
	require.NoError(t, db.Insert(testCtx(t), store.Insert{
		Table: "arrs", Columns: []string{"id", "tags", "nums", "m"},
		Rows: [][]any{
			{uint8(1), tags, []any{uint64(1), uint64(math.MaxUint64)}, map[string]any{"k": int64(math.MinInt64), "x y": int64(7)}},
			{uint8(2), []string{}, []any{}, map[string]any{}},
		},
	}))
	got := scanAll(t, db, func() []any { return []any{new([]string), new(any), new(map[string]any)} }, "SELECT tags, nums, m FROM arrs ORDER BY id")
	require.Len(t, got, 2)
	assert.Equal(t, tags, *got[0][0].(*[]string))
	assert.Equal(t, []any{uint64(1), uint64(math.MaxUint64)}, *got[0][1].(*any))
	assert.Equal(t, map[string]any{"k": int64(math.MinInt64), "x y": int64(7)}, *got[0][2].(*map[string]any))
	assert.Empty(t, *got[1][0].(*[]string))
	assert.Empty(t, *got[1][2].(*map[string]any))

	var n uint64
	require.NoError(t, db.QueryRow(testCtx(t), []any{&n}, "SELECT count() FROM arrs WHERE hasAny(tags, ?)", []string{"zzz", "b'c"}))
	assert.Equal(t, uint64(1), n)
	var back []string
	require.NoError(t, db.QueryRow(testCtx(t), []any{&back}, "SELECT ?", tags))
	assert.Equal(t, tags, back)
}

func testLowCardinality(t *testing.T, db *store.DB) {
	exec(t, db, `CREATE TABLE lc (id UInt8, kind LowCardinality(String), maybe LowCardinality(Nullable(String))) ENGINE = MergeTree() ORDER BY id`)
	require.NoError(t, db.Insert(testCtx(t), store.Insert{
		Table: "lc", Columns: []string{"id", "kind", "maybe"},
		Rows: [][]any{{uint8(1), "lesson.completed", nil}, {uint8(2), "quiz.submitted", "x"}},
	}))
	rows, err := db.Query(testCtx(t), "SELECT kind, maybe FROM lc ORDER BY id")
	require.NoError(t, err)
	defer rows.Close()
	require.Len(t, rows.Columns(), 2)
	assert.Equal(t, "LowCardinality(String)", rows.Columns()[0].Type)
	assert.Equal(t, "LowCardinality(Nullable(String))", rows.Columns()[1].Type)
	var kinds []string
	var maybes []*string
	for rows.Next() {
		var k string
		var m *string
		require.NoError(t, rows.Scan(&k, &m))
		kinds = append(kinds, k)
		maybes = append(maybes, m)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []string{"lesson.completed", "quiz.submitted"}, kinds)
	require.Len(t, maybes, 2)
	assert.Nil(t, maybes[0])
	require.NotNil(t, maybes[1])
	assert.Equal(t, "x", *maybes[1])
}

func testJSONColumn(t *testing.T, db *store.DB) {
	exec(t, db, `CREATE TABLE props (id UInt8, p JSON) ENGINE = MergeTree() ORDER BY id`)
	in := map[string]any{
		"course": "c-1",
		"score":  int64(87),
		"ratio":  0.5,
		"tags":   []any{"a", "b"},
		"nested": map[string]any{"ok": true, "quote": `it's "q"`},
	}
	require.NoError(t, db.Insert(testCtx(t), store.Insert{
		Table: "props", Columns: []string{"id", "p"},
		Rows: [][]any{{uint8(1), in}, {uint8(2), map[string]any{}}},
	}))
	got := scanAll(t, db, func() []any { return []any{new(map[string]any)} }, "SELECT p FROM props ORDER BY id")
	require.Len(t, got, 2)
	p := *got[0][0].(*map[string]any)
	assert.Equal(t, "c-1", p["course"])
	assert.EqualValues(t, 87, p["score"])
	assert.EqualValues(t, 0.5, p["ratio"])
	assert.Equal(t, []any{"a", "b"}, p["tags"])
	nested, ok := p["nested"].(map[string]any)
	require.True(t, ok, "nested object decoded as map, got %T", p["nested"])
	assert.Equal(t, true, nested["ok"])
	assert.Equal(t, `it's "q"`, nested["quote"])
	assert.Empty(t, *got[1][0].(*map[string]any))

	var course string
	require.NoError(t, db.QueryRow(testCtx(t), []any{&course}, "SELECT p.course::String FROM props WHERE p.score::Int64 = ?", 87))
	assert.Equal(t, "c-1", course)
}

func testHostileFull(t *testing.T, db *store.DB) {
	strs := append(hostileStrings(), "nul\x00byte", "\x01\x1f control", "invalid utf8 \xff\xfe")
	exec(t, db, `CREATE TABLE hostile_full (id UInt64, s String) ENGINE = MergeTree() ORDER BY id`)
	in := store.Insert{Table: "hostile_full", Columns: []string{"id", "s"}}
	for i, s := range strs {
		in.Rows = append(in.Rows, []any{uint64(i), s})
	}
	require.NoError(t, db.Insert(testCtx(t), in))
	for i, s := range strs {
		var back, bound string
		require.NoError(t, db.QueryRow(testCtx(t), []any{&back}, "SELECT s FROM hostile_full WHERE id = ?", uint64(i)))
		assert.Equal(t, s, back, "stored value %d", i)
		require.NoError(t, db.QueryRow(testCtx(t), []any{&bound}, "SELECT ?", s))
		assert.Equal(t, s, bound, "bound value %d", i)
	}
}

func testDedupToken(t *testing.T, db *store.DB) {
	exec(t, db, `CREATE TABLE dedup (id UInt64, s String) ENGINE = MergeTree() ORDER BY id SETTINGS non_replicated_deduplication_window = 100`)
	batch := store.Insert{Table: "dedup", Columns: []string{"id", "s"}, DedupToken: "topic-0-100-102"}
	for i := range 3 {
		batch.Rows = append(batch.Rows, []any{uint64(i), fmt.Sprintf("row %d", i)})
	}
	count := func() uint64 {
		var n uint64
		require.NoError(t, db.QueryRow(testCtx(t), []any{&n}, "SELECT count() FROM dedup"))
		return n
	}
	require.NoError(t, db.Insert(testCtx(t), batch))
	require.NoError(t, db.Insert(testCtx(t), batch))
	assert.Equal(t, uint64(3), count(), "a retried batch with the same token is written once")

	batch.DedupToken = "topic-0-103-105"
	require.NoError(t, db.Insert(testCtx(t), batch))
	assert.Equal(t, uint64(6), count(), "another token is another batch")

	// The token belonged to the insert alone.
	for range poolCycle {
		var tok string
		require.NoError(t, db.QueryRow(testCtx(t), []any{&tok}, "SELECT toString(getSetting('insert_deduplication_token'))"))
		require.Empty(t, tok, "insert_deduplication_token leaked into a later statement")
	}
}

func testSettings(t *testing.T, db *store.DB) {
	limited := store.WithSettings(testCtx(t), store.Settings{"max_result_rows": 5, "result_overflow_mode": "throw"})
	n, err := countRows(limited, db, "SELECT number FROM numbers(100)")
	require.Error(t, err, "max_result_rows=5 must stop a 100-row result (read %d rows)", n)
	assert.Equal(t, errs.KindInvalid, errs.KindOf(err), "limit errors are the caller's to fix: %v", err)

	for i := range poolCycle {
		n, err := countRows(testCtx(t), db, "SELECT number FROM numbers(100)")
		require.NoError(t, err, "statement %d after the limited one", i)
		require.Equal(t, 100, n, "statement %d after the limited one", i)
	}

	// Alternate statements with and without a setting: each sees its own.
	probe := "SELECT toString(getSetting('max_result_rows'))"
	for i := range poolCycle {
		var v string
		ctx := testCtx(t)
		want := "0"
		if i%2 == 0 {
			ctx = store.WithSettings(ctx, store.Settings{"max_result_rows": 1234, "result_overflow_mode": "break"})
			want = "1234"
		}
		require.NoError(t, db.QueryRow(ctx, []any{&v}, probe))
		require.Equal(t, want, v, "statement %d", i)
	}

	// Settings given to DDL do not outlive it either.
	ddl := store.WithSettings(testCtx(t), store.Settings{"max_result_rows": 4321})
	require.NoError(t, db.Exec(ddl, `CREATE TABLE settings_probe (x UInt8) ENGINE = MergeTree() ORDER BY x`))
	require.NoError(t, db.Exec(ddl, `INSERT INTO settings_probe SELECT number FROM numbers(3)`))
	for i := range poolCycle {
		var v string
		require.NoError(t, db.QueryRow(testCtx(t), []any{&v}, probe))
		require.Equal(t, "0", v, "statement %d after DDL with settings", i)
	}
	var rows uint64
	require.NoError(t, db.QueryRow(testCtx(t), []any{&rows}, "SELECT count() FROM settings_probe"))
	assert.Equal(t, uint64(3), rows)
}

func testStreamLarge(t *testing.T, db *store.DB) {
	const total = 5_000_000
	rows, err := db.Query(testCtx(t), "SELECT number FROM numbers(?)", total)
	require.NoError(t, err)
	defer rows.Close()
	var (
		n, sum   uint64
		maxHeap  uint64
		memStats runtime.MemStats
	)
	for rows.Next() {
		var v uint64
		require.NoError(t, rows.Scan(&v))
		require.Equal(t, n, v, "rows arrive in order")
		sum += v
		n++
		if n%500_000 == 0 {
			runtime.ReadMemStats(&memStats)
			maxHeap = max(maxHeap, memStats.HeapAlloc)
		}
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, uint64(total), n)
	assert.Equal(t, uint64(total)*(total-1)/2, sum)
	// Materialising 5 M boxed rows takes hundreds of MB; a stream needs a
	// few chunks.
	assert.Less(t, maxHeap, uint64(128<<20), "heap while streaming: %d bytes", maxHeap)
}

func testStreamEarlyClose(t *testing.T, db *store.DB) {
	for range 3 {
		rows, err := db.Query(testCtx(t), "SELECT number FROM numbers(5000000)")
		require.NoError(t, err)
		for i := range 10 {
			require.True(t, rows.Next(), "row %d", i)
			var v uint64
			require.NoError(t, rows.Scan(&v))
			require.Equal(t, uint64(i), v)
		}
		require.NoError(t, rows.Close())
		assert.False(t, rows.Next(), "no rows after Close")
	}
	// Every connection is clean afterwards.
	for i := range poolCycle {
		var got uint64
		require.NoError(t, db.QueryRow(testCtx(t), []any{&got}, "SELECT ? + 1", i), "statement %d", i)
		require.Equal(t, uint64(i+1), got, "statement %d", i)
	}
}

func testConcurrent(t *testing.T, db *store.DB) {
	const goroutines, each = 8, 10
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for k := range each {
				n := uint64(1000*(g+1) + k)
				var sum, count uint64
				err := db.QueryRow(testCtx(t), []any{&sum, &count}, "SELECT sum(number), count() FROM numbers(?)", n)
				if !assert.NoError(t, err, "goroutine %d query %d", g, k) {
					return
				}
				assert.Equal(t, n*(n-1)/2, sum, "goroutine %d query %d", g, k)
				assert.Equal(t, n, count, "goroutine %d query %d", g, k)
			}
		})
	}
	wg.Wait()
}

func testCancellation(t *testing.T, db *store.DB) {
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(testCtx(t))
		cancel()
		_, err := db.Query(ctx, "SELECT 1")
		require.Error(t, err)
		assert.True(t, errors.Is(err, context.Canceled), "got %v", err)
	})
	t.Run("mid stream", func(t *testing.T) {
		ctx, cancel := context.WithCancel(testCtx(t))
		defer cancel()
		rows, err := db.Query(ctx, "SELECT number FROM numbers(1000000000)")
		require.NoError(t, err)
		defer rows.Close()
		for i := range 10 {
			require.True(t, rows.Next(), "row %d", i)
		}
		cancel()
		read := 0
		for rows.Next() {
			read++
			require.Less(t, read, 50_000_000, "the stream did not stop after cancel")
		}
		require.Error(t, rows.Err())
		assert.True(t, errors.Is(rows.Err(), context.Canceled), "got %v", rows.Err())
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(testCtx(t), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		var v uint64
		err := db.QueryRow(ctx, []any{&v}, "SELECT sum(cityHash64(number)) FROM numbers(100000000000)")
		require.Error(t, err)
		assert.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
		assert.Less(t, time.Since(start), 15*time.Second, "the query outlived its deadline by far")
	})
	// The DB is usable afterwards on every connection.
	for i := range poolCycle {
		var got uint64
		require.NoError(t, db.QueryRow(testCtx(t), []any{&got}, "SELECT ?", i), "statement %d", i)
		require.Equal(t, uint64(i), got)
	}
}
