package chembedded_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
	"github.com/learnhub/analytics-service/store/storetest"
)

// readAll returns every row of sql decoded from the binary or the text
// result format.
func readAll(t *testing.T, b *chembedded.Backend, sql string, binary bool) ([]store.Column, [][]any) {
	t.Helper()
	rows, err := chembedded.QueryAs(ctxT(t), b, sql, binary)
	require.NoError(t, err)
	defer rows.Close()
	require.False(t, chembedded.Unsupported(rows), "a type in %s is not read by the binary decoder", sql)
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(rows.Columns()))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		out = append(out, vals)
	}
	require.NoError(t, rows.Err())
	return rows.Columns(), out
}

// TestBinaryMatchesText proves the RowBinary decoder yields exactly what
// the JSON text decoder yields for the same values, type by type, so the
// format a query streams in is invisible to callers.
func TestBinaryMatchesText(t *testing.T) {
	b := storetest.EmbeddedBackend(t, chembedded.Options{})
	cases := []struct{ name, sql string }{
		{"integers", `SELECT toInt8(-128), toInt16(-32768), toInt32(-2147483648), toInt64('-9223372036854775808'),
			toUInt8(255), toUInt16(65535), toUInt32(4294967295), toUInt64('18446744073709551615'),
			toInt128('-170141183460469231731687303715884105728'), toUInt256('115792089237316195423570985008687907853269984665640564039457584007913129639935'),
			toInt256(-5), toUInt128(7)`},
		{"floats", `SELECT toFloat64(1.5e300), toFloat64(-0.), toFloat64(5), toFloat32(0.1), toFloat32(-3.25), inf, -inf, toFloat64(1e-7)`},
		{"decimals", `SELECT toDecimal32(-1.50, 2), toDecimal64(0, 4), toDecimal128('12345678901234567890.0123456789', 10),
			toDecimal256('-0.001', 3), toDecimal64(100, 2), CAST(-12.5 AS Decimal(9, 3))`},
		{"text", `SELECT 'héllo, "世界"' || char(10) || '🙂', '', toFixedString('ab', 4), toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0'),
			toIPv4('192.168.1.20'), CAST('b' AS Enum8('a' = -1, 'b' = 2)), CAST('z' AS Enum16('y' = 1000, 'z' = -1000)),
			toLowCardinality('lc'), true, false, unhex('FF00FE')`},
		{"times", `SELECT toDate('2026-03-29'), toDate32('1900-01-01'), toDateTime('2026-10-25 01:30:00', 'Europe/Berlin'),
			toDateTime64('1969-12-31 23:59:59.123456', 6, 'UTC'), toDateTime64('2026-03-29 01:30:00.123', 3, 'Asia/Tokyo'),
			toDateTime64('2026-01-01 00:00:00', 0), toDateTime64('2026-01-01 00:00:00.000000001', 9)`},
		{"nulls", `SELECT CAST(NULL AS Nullable(String)), CAST(7 AS Nullable(UInt8)), NULL, CAST(NULL AS LowCardinality(Nullable(String))),
			CAST('x' AS LowCardinality(Nullable(String))), [NULL, 1]`},
		{"nested", `SELECT [1, 2, 3]::Array(UInt64), [[toDate('2026-01-01')], []], map('a', 1, 'b', -2)::Map(String, Int64),
			map(1, 'x', 18446744073709551615, 'y')::Map(UInt64, String), map(toDate('2026-01-02'), [1.5])::Map(Date, Array(Float64)),
			tuple(1, 'x', [NULL, 'y']), CAST((1, 'y'), 'Tuple(a Int8, b Nullable(String))'), [(1, 'a')]::Array(Tuple(n UInt8, s String)),
			[]::Array(String), map()::Map(String, String)`},
		{"json", `SELECT '{"a":{"b":5.0,"c":[1,2,"x"],"d":"2026-01-02","e":"2026-01-02 03:04:05","f":18446744073709551615,"g":null,
			"h":[{"x":1,"y":{"z":[true]}}],"i":true,"j":1e300,"k":0.1,"l":-7,"m":"","n":1e20,"o":[],"p":{}},"q":"é\\"\\u0001"}'::JSON,
			'{}'::JSON, CAST(NULL AS Nullable(JSON)), '{"score":87,"course":"c-1","tags":["a","b"],"when":"2026-01-02T03:04:05Z"}'::JSON`},
		{"json as a table column", `SELECT properties FROM (SELECT toJSONString(map('course_id', concat('c-', toString(number)), 'score', toString(number))) ::JSON AS properties FROM numbers(3))`},
		{"dynamic and variant", `SELECT toInt32(42)::Dynamic, toUInt64('18446744073709551615')::Dynamic, toFloat64(3)::Dynamic, nan::Dynamic, 'x'::Dynamic, [1.5, 2]::Dynamic, NULL::Dynamic, toDate('2026-01-01')::Dynamic,
			toDecimal64(2.50, 2)::Dynamic, map('k', toUInt64(9))::Dynamic,
			CAST(toUInt64(5) AS Variant(String, UInt64)), CAST('s' AS Variant(String, UInt64)), CAST(NULL AS Variant(String, UInt64))`},
		{"many rows", `SELECT number, toString(number), toDateTime64(number, 3), [number] FROM numbers(200000)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			textCols, text := readAll(t, b, c.sql, false)
			binCols, bin := readAll(t, b, c.sql, true)
			assert.Equal(t, textCols, binCols)
			require.Len(t, bin, len(text))
			for r := range text {
				for i := range text[r] {
					if f, ok := text[r][i].(float64); ok && math.IsNaN(f) {
						continue
					}
					assert.Equal(t, text[r][i], bin[r][i], "row %d column %d (%s)", r, i, textCols[i].Type)
				}
			}
		})
	}
}

// TestBinaryFallsBackToText: a column type the binary decoder does not read
// is served through the text format instead, with the same values.
func TestBinaryFallsBackToText(t *testing.T) {
	db := store.New(storetest.EmbeddedBackend(t, chembedded.Options{PoolSize: 1}), store.Options{Mode: "embedded"})
	var day string
	var ip string
	var n uint64
	require.NoError(t, db.QueryRow(ctxT(t), []any{&day, &ip, &n}, "SELECT toString(INTERVAL 1 DAY), toIPv6('::ffff:1.2.3.4'), 7"))
	assert.Equal(t, "1", day)
	assert.Equal(t, "::ffff:1.2.3.4", ip)
	assert.Equal(t, uint64(7), n)
	rows, err := db.Query(ctxT(t), "SELECT INTERVAL 2 DAY, toIPv6('::1') FROM numbers(3)")
	require.NoError(t, err)
	count := 0
	for rows.Next() {
		var iv, addr string
		require.NoError(t, rows.Scan(&iv, &addr))
		assert.Equal(t, "2", iv)
		assert.Equal(t, "::1", addr)
		count++
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, 3, count)
	// the connection is clean for the next statement
	require.NoError(t, db.QueryRow(ctxT(t), []any{&n}, "SELECT 8"))
	assert.Equal(t, uint64(8), n)
}
