package chembedded_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
	"github.com/learnhub/analytics-service/store/storetest"
)

// everyType is a table with each column type the binary insert encodes.
const everyType = `CREATE TABLE %s (
	id UInt32, s String, lc LowCardinality(String), ns Nullable(String),
	u8 UInt8, u16 UInt16, u64 UInt64, i8 Int8, i32 Int32, i64 Int64,
	f32 Float32, f64 Float64, nf Nullable(Float64), ok Bool,
	d Date, d32 Date32, dt DateTime, dt64 DateTime64(3, 'UTC'), dt6 DateTime64(6, 'Europe/Berlin'),
	ndt Nullable(DateTime64(3, 'UTC')), tags Array(String), m Map(String, String), mu Map(String, UInt64),
	total SimpleAggregateFunction(sum, UInt64), props JSON
) ENGINE = MergeTree ORDER BY id`

var everyColumn = []string{"id", "s", "lc", "ns", "u8", "u16", "u64", "i8", "i32", "i64", "f32", "f64", "nf", "ok",
	"d", "d32", "dt", "dt64", "dt6", "ndt", "tags", "m", "mu", "total", "props"}

// everyTypeRows are rows for everyType: hostile strings, unicode, NULLs,
// range ends, sub-second times in other zones, maps and JSON in each Go
// shape callers use.
func everyTypeRows(n int) [][]any {
	strs := []string{"plain", "", "it's", `say "hi"`, `back\slash`, "line\nbreak\ttab\r", "😀 ünïcødé 中文 עברית", "\x00nul", "{p0:String}"}
	at := time.Date(2026, 11, 30, 23, 59, 58, 987_654_321, time.FixedZone("X", -5*3600))
	rows := make([][]any, n)
	for i := range rows {
		s := strs[i%len(strs)]
		var ns, nf, ndt any
		if i%3 != 0 {
			ns, nf, ndt = s+"!", float64(i)/7, at.Add(time.Duration(i)*time.Second)
		}
		var props any
		switch i % 4 {
		case 0:
			props = map[string]any{"course_id": fmt.Sprintf("c-%d", i), "score": i, "quote": s, "nested": map[string]any{"ok": i%2 == 0}}
		case 1:
			quoted, _ := json.Marshal(s)
			props = json.RawMessage(fmt.Sprintf(`{"course_id":"c-%d","seconds":%d,"text":%s}`, i, i*3, quoted))
		case 2:
			props = store.ValidJSON(`{"list":[1,2,3],"f":1.5}`)
		default:
			props = map[string]any{}
		}
		f64 := []float64{math.Pi, math.Copysign(0, -1), 1e300, math.Inf(1), math.NaN()}[i%5]
		rows[i] = []any{
			uint32(i), s, strs[(i+1)%len(strs)], ns,
			i%2 == 0, uint16(math.MaxUint16 - i), uint64(math.MaxUint64 - uint64(i)), int8(-128 + i%256), int32(-i), int64(math.MinInt64 + i),
			float32(i) / 3, f64, nf, i%2 == 1,
			at.AddDate(0, 0, i), at.AddDate(-100, 0, i), at.Add(time.Duration(i) * time.Hour), at.Add(time.Duration(i) * time.Millisecond), at.Add(time.Duration(i) * time.Microsecond),
			ndt, []string{s, "b"}, map[string]any{"k": s, "k2": "v"}, map[string]any{"a": uint64(i), "b": i},
			uint64(i * 10), props,
		}
	}
	return rows
}

// TestBinaryInsertRoundTrips inserts the same rows in RowBinary and in the
// text format (the path every other test has held to the engine's reading
// for a long time) and compares every column as the engine prints it, then
// checks some values against what they must be.
func TestBinaryInsertRoundTrips(t *testing.T) {
	ctx := ctxT(t)
	bin := storetest.EmbeddedBackend(t, chembedded.Options{})
	text := storetest.EmbeddedBackend(t, chembedded.Options{Database: bin.Database(), TextInserts: true})
	dbBin, dbText := store.New(bin, store.Options{}), store.New(text, store.Options{})
	require.NoError(t, dbBin.Exec(ctx, fmt.Sprintf(everyType, "via_bin")))
	require.NoError(t, dbBin.Exec(ctx, fmt.Sprintf(everyType, "via_text")))

	rows := everyTypeRows(300)
	in := store.Insert{Table: "via_bin", Columns: everyColumn, Rows: rows}
	binary, err := chembedded.InsertsBinary(ctx, bin, in)
	require.NoError(t, err)
	require.True(t, binary, "the rows must take the binary path")
	binary, err = chembedded.InsertsBinary(ctx, text, in)
	require.NoError(t, err)
	require.False(t, binary, "TextInserts must take the text path")
	require.NoError(t, dbBin.Insert(ctx, in))
	require.NoError(t, dbText.Insert(ctx, store.Insert{Table: "via_text", Columns: everyColumn, Rows: rows}))

	dump := func(table string) []string {
		exprs := make([]string, len(everyColumn))
		for i, c := range everyColumn {
			if c == "m" || c == "mu" { // Go maps have no order to keep
				c = "mapSort(" + c + ")"
			}
			exprs[i] = "toString(" + c + ")"
		}
		return queryStrings(ctx, t, dbBin, "SELECT concat("+strings.Join(exprs, ", '|', ")+") FROM "+table+" ORDER BY id")
	}
	got, want := dump("via_bin"), dump("via_text")
	require.Len(t, got, len(rows))
	for i := range want {
		assert.Equal(t, want[i], got[i], "row %d", i)
	}

	var (
		s, props, dt64, dt6 string
		d                   time.Time
		u64                 uint64
		i64                 int64
		ns                  *string
	)
	require.NoError(t, dbBin.QueryRow(ctx, []any{&s, &props, &dt64, &dt6, &d, &u64, &i64, &ns},
		"SELECT s, toString(props), toString(dt64), toString(dt6), d, u64, i64, ns FROM via_bin WHERE id = 6"))
	assert.Equal(t, "😀 ünïcødé 中文 עברית", s)
	assert.JSONEq(t, `{"list":[1,2,3],"f":1.5}`, props)
	assert.Equal(t, "2026-12-01 04:59:58.993", dt64, "DateTime64(3) keeps milliseconds, truncated")
	assert.Equal(t, "2026-12-01 05:59:58.987660", dt6, "DateTime64(6, Berlin) is the same instant")
	assert.Equal(t, time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), d.UTC(), "a Date takes the UTC calendar day")
	assert.Equal(t, uint64(math.MaxUint64-6), u64)
	assert.Equal(t, int64(math.MinInt64+6), i64)
	assert.Nil(t, ns, "a nil stays NULL")
}

// TestBinaryInsertFallsBackToText: a value without a RowBinary layout in
// its column sends the whole insert as text, which still stores it as the
// text format always did.
func TestBinaryInsertFallsBackToText(t *testing.T) {
	ctx := ctxT(t)
	b := storetest.EmbeddedBackend(t, chembedded.Options{})
	db := store.New(b, store.Options{})
	require.NoError(t, db.Exec(ctx, "CREATE TABLE t (id UInt64, s String, at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY id"))
	at := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	cases := []struct {
		name string
		row  []any
		want string
	}{
		{"number into a String column", []any{uint64(1), 42, at}, "42"},
		{"NULL into a column that is not Nullable", []any{uint64(2), nil, at}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := store.Insert{Table: "t", Columns: []string{"id", "s", "at"}, Rows: [][]any{tc.row}}
			binary, err := chembedded.InsertsBinary(ctx, b, in)
			require.NoError(t, err)
			require.False(t, binary)
			require.NoError(t, db.Insert(ctx, in))
			var s string
			var got time.Time
			require.NoError(t, db.QueryRow(ctx, []any{&s, &got}, "SELECT s, at FROM t WHERE id = ?", tc.row[0]))
			assert.Equal(t, tc.want, s)
			assert.True(t, at.Equal(got), "at %v, want %v", got, at)
		})
	}
}

// queryStrings runs a query of one String column and returns its rows.
func queryStrings(ctx context.Context, t *testing.T, db *store.DB, sql string, args ...any) []string {
	t.Helper()
	r, err := db.Query(ctx, sql, args...)
	require.NoError(t, err)
	defer r.Close()
	var out []string
	for r.Next() {
		var s string
		require.NoError(t, r.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, r.Err())
	return out
}
