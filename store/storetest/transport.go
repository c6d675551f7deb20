package storetest

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// hostileStrings are values that break naive quoting: quotes, backslashes,
// control characters, placeholders and comment markers, multi-byte text.
func hostileStrings() []string {
	return []string{
		"plain",
		"",
		"it's",
		`say "hi"`,
		`back\slash`,
		`\\`,
		`\'`,
		`\"`,
		"trailing backslash\\",
		"line\nbreak",
		"tab\there",
		"carriage\rreturn",
		"what?",
		"? ? ?",
		"-- not a comment",
		"/* not a comment */",
		"'; DROP TABLE t; --",
		"{p0:String}",
		"`backquoted`",
		"😀 ünïcødé 中文 עברית",
	}
}

func testPingAndVersion(t *testing.T, db *store.DB) {
	ctx := testCtx(t)
	require.NoError(t, db.Ping(ctx))
	raw, err := db.ServerVersion(ctx)
	require.NoError(t, err)
	v, err := store.ParseVersion(raw)
	require.NoError(t, err, "version %q", raw)
	assert.GreaterOrEqual(t, v.Major, 18, "version %q", raw)
}

func testBatchInsert(t *testing.T, db *store.DB) {
	exec(t, db, `CREATE TABLE batch (name String, n UInt64, score Float64, at DateTime) ENGINE = MergeTree() ORDER BY n`)
	at := time.Date(2024, 3, 10, 12, 30, 45, 0, time.UTC)
	// Columns deliberately not in declaration order.
	in := store.Insert{
		Table:   "batch",
		Columns: []string{"at", "score", "name", "n"},
		Rows: [][]any{
			{at, 1.5, "first", uint64(1)},
			{at.Add(time.Hour).In(time.FixedZone("X", 3*3600)), -0.25, "second", uint64(2)},
			{at.Add(48 * time.Hour), 1e10, "third", uint64(3)},
		},
	}
	require.NoError(t, db.Insert(testCtx(t), in))

	rows, err := db.Query(testCtx(t), "SELECT name, n, score, at FROM batch ORDER BY n")
	require.NoError(t, err)
	defer rows.Close()
	cols := rows.Columns()
	require.Len(t, cols, 4)
	assert.Equal(t, []string{"name", "n", "score", "at"}, []string{cols[0].Name, cols[1].Name, cols[2].Name, cols[3].Name})
	assert.Equal(t, []string{"String", "UInt64", "Float64", "DateTime"}, []string{cols[0].Type, cols[1].Type, cols[2].Type, cols[3].Type})
	type row struct {
		name  string
		n     uint64
		score float64
		at    time.Time
	}
	var got []row
	for rows.Next() {
		var r row
		require.NoError(t, rows.Scan(&r.name, &r.n, &r.score, &r.at))
		got = append(got, r)
	}
	require.NoError(t, rows.Err())
	want := []row{
		{"first", 1, 1.5, at},
		{"second", 2, -0.25, at.Add(time.Hour)},
		{"third", 3, 1e10, at.Add(48 * time.Hour)},
	}
	require.Len(t, got, len(want))
	for i := range want {
		assert.Equal(t, want[i].name, got[i].name)
		assert.Equal(t, want[i].n, got[i].n)
		assert.Equal(t, want[i].score, got[i].score)
		assert.True(t, want[i].at.Equal(got[i].at), "row %d: time %v, want %v", i, got[i].at, want[i].at)
		assert.Equal(t, time.UTC, got[i].at.Location(), "times are read as UTC")
	}

	// Other destination types read the same columns.
	var (
		asInt   int
		asF32   float32
		asAny   any
		asCount int64
	)
	require.NoError(t, db.QueryRow(testCtx(t), []any{&asInt, &asF32, &asAny}, "SELECT n, score, name FROM batch WHERE n = ?", 2))
	assert.Equal(t, 2, asInt)
	assert.Equal(t, float32(-0.25), asF32)
	assert.Equal(t, "second", asAny)
	require.NoError(t, db.QueryRow(testCtx(t), []any{&asCount}, "SELECT count() FROM batch"))
	assert.Equal(t, int64(3), asCount)
}

func testBindSelect(t *testing.T, db *store.DB) {
	for i, s := range hostileStrings() {
		t.Run(fmt.Sprintf("%02d", i), func(t *testing.T) {
			var got string
			require.NoError(t, db.QueryRow(testCtx(t), []any{&got}, "SELECT ?", s))
			assert.Equal(t, s, got)
			// The same value twice, with a literal '?' in between that is not
			// a placeholder.
			var a, lit, b string
			require.NoError(t, db.QueryRow(testCtx(t), []any{&a, &lit, &b}, "SELECT ?, '?', ?", s, s+"!"))
			assert.Equal(t, s, a)
			assert.Equal(t, "?", lit)
			assert.Equal(t, s+"!", b)
		})
	}
}

func testBindWhere(t *testing.T, db *store.DB) {
	exec(t, db, `CREATE TABLE hostile (id UInt64, s String) ENGINE = MergeTree() ORDER BY id`)
	strs := hostileStrings()
	in := store.Insert{Table: "hostile", Columns: []string{"id", "s"}}
	for i, s := range strs {
		in.Rows = append(in.Rows, []any{uint64(i), s})
	}
	require.NoError(t, db.Insert(testCtx(t), in))
	for i, s := range strs {
		var id, n uint64
		require.NoError(t, db.QueryRow(testCtx(t), []any{&id}, "SELECT id FROM hostile WHERE s = ?", s), "value %q", s)
		assert.Equal(t, uint64(i), id, "value %q", s)
		require.NoError(t, db.QueryRow(testCtx(t), []any{&n}, "SELECT count() FROM hostile WHERE s = ? AND id = ?", s, uint64(i)))
		assert.Equal(t, uint64(1), n, "value %q", s)
		var back string
		require.NoError(t, db.QueryRow(testCtx(t), []any{&back}, "SELECT s FROM hostile WHERE id = ?", i))
		assert.Equal(t, s, back)
	}
	var none uint64
	require.NoError(t, db.QueryRow(testCtx(t), []any{&none}, "SELECT count() FROM hostile WHERE s = ?", "' OR 1=1 --"))
	assert.Equal(t, uint64(0), none, "a bound value never becomes SQL")
}

func testExtremeNumbers(t *testing.T, db *store.DB) {
	exec(t, db, `CREATE TABLE nums (id UInt8, u UInt64, i Int64, f Float64) ENGINE = MergeTree() ORDER BY id`)
	want := []struct {
		u uint64
		i int64
		f float64
	}{
		{math.MaxUint64, math.MinInt64, -1.5e300},
		{0, math.MaxInt64, 5e-324},
		{1<<53 + 1, -1, 0.1},
	}
	in := store.Insert{Table: "nums", Columns: []string{"id", "u", "i", "f"}}
	for k, w := range want {
		in.Rows = append(in.Rows, []any{uint8(k), w.u, w.i, w.f})
	}
	require.NoError(t, db.Insert(testCtx(t), in))
	got := scanAll(t, db, func() []any { return []any{new(uint64), new(int64), new(float64)} }, "SELECT u, i, f FROM nums ORDER BY id")
	require.Len(t, got, len(want))
	for k, w := range want {
		assert.Equal(t, w.u, *got[k][0].(*uint64), "row %d u", k)
		assert.Equal(t, w.i, *got[k][1].(*int64), "row %d i", k)
		assert.Equal(t, w.f, *got[k][2].(*float64), "row %d f", k)
	}

	var id uint8
	require.NoError(t, db.QueryRow(testCtx(t), []any{&id}, "SELECT id FROM nums WHERE u = ?", uint64(math.MaxUint64)))
	assert.Equal(t, uint8(0), id)
	require.NoError(t, db.QueryRow(testCtx(t), []any{&id}, "SELECT id FROM nums WHERE i = ?", int64(math.MinInt64)))
	assert.Equal(t, uint8(0), id)
	require.NoError(t, db.QueryRow(testCtx(t), []any{&id}, "SELECT id FROM nums WHERE u = ?", uint64(1<<53+1)))
	assert.Equal(t, uint8(2), id, "2^53+1 must not be rounded through a float")

	var u uint64
	require.NoError(t, db.QueryRow(testCtx(t), []any{&u}, "SELECT ?", uint64(math.MaxUint64)))
	assert.Equal(t, uint64(math.MaxUint64), u)
	var f float64
	require.NoError(t, db.QueryRow(testCtx(t), []any{&f}, "SELECT ?", 0.1))
	assert.Equal(t, 0.1, f)

	// A value out of the destination's range is an error, not a wrap.
	var small int64
	err := db.QueryRow(testCtx(t), []any{&small}, "SELECT u FROM nums WHERE id = 0")
	assert.Error(t, err, "max uint64 does not fit int64")
}

func testErrorMapping(t *testing.T, db *store.DB) {
	cases := []struct {
		name string
		sql  string
		code int
	}{
		{"syntax error", "SELEC 1", store.CodeSyntaxError},
		{"unknown table", "SELECT * FROM no_such_table_anywhere", store.CodeUnknownTable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := db.Query(testCtx(t), c.sql)
			requireException(t, err, c.code)
			err = db.Exec(testCtx(t), c.sql)
			requireException(t, err, c.code)
		})
	}
	// The DB keeps working after errors.
	var one uint64
	require.NoError(t, db.QueryRow(testCtx(t), []any{&one}, "SELECT 1"))
	assert.Equal(t, uint64(1), one)
}

// requireException checks err is an engine exception with code, classified
// as internal (its text is never shown to clients).
func requireException(t *testing.T, err error, code int) {
	t.Helper()
	require.Error(t, err)
	var ex *store.Exception
	require.True(t, errors.As(err, &ex), "want a *store.Exception in %v", err)
	assert.Equal(t, code, ex.Code, "exception %v", ex)
	assert.Equal(t, errs.KindInternal, errs.KindOf(err))
	assert.NotContains(t, errs.PublicMessage(err), "SELECT", "engine text must not reach clients")
}
