package chserver_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/store"
)

// TestScanNormalises reads one value of each type through Rows.Scan into
// *any, which shows the native form handed to store.Assign. SQL valid on
// ClickHouse 18.16.
func TestScanNormalises(t *testing.T) {
	db := openDB(t)
	tests := []struct {
		expr     string
		wantType string
		want     any
	}{
		{"toInt8(-8)", "Int8", int64(-8)},
		{"toInt16(-16)", "Int16", int64(-16)},
		{"toInt32(-32)", "Int32", int64(-32)},
		{"toInt64(-64)", "Int64", int64(-64)},
		{"toUInt8(200)", "UInt8", uint64(200)},
		{"toUInt16(65535)", "UInt16", uint64(65535)},
		{"toUInt32(4294967295)", "UInt32", uint64(4294967295)},
		{"toUInt64(18446744073709551615)", "UInt64", uint64(18446744073709551615)},
		{"toFloat32(0.1)", "Float32", 0.1},
		{"toFloat64(2.5)", "Float64", 2.5},
		{"'héllo'", "String", "héllo"},
		{"toFixedString('ab', 2)", "FixedString(2)", "ab"},
		{"toDate('2024-03-01')", "Date", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"toDateTime('2024-03-01 12:34:56', 'UTC')", "DateTime('UTC')", time.Date(2024, 3, 1, 12, 34, 56, 0, time.UTC)},
		{"NULL", "Nullable(Nothing)", nil},
		{"CAST(NULL AS Nullable(Int32))", "Nullable(Int32)", nil},
		{"toNullable(toInt32(7))", "Nullable(Int32)", int64(7)},
		{"[1, 2, 3]", "Array(UInt8)", []any{uint64(1), uint64(2), uint64(3)}},
		{"['a', 'b']", "Array(String)", []any{"a", "b"}},
		{"CAST('b' AS Enum8('a' = 1, 'b' = 2))", "Enum8('a' = 1, 'b' = 2)", "b"},
		{"toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0')", "UUID", "61f0c404-5cb3-11e7-907b-a6006ad3dba0"},
		{"toDecimal64(12.345, 3)", "Decimal(18, 3)", "12.345"},
		{"tuple(toUInt8(1), 'x')", "Tuple(UInt8, String)", []any{uint64(1), "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			rows, err := db.Query(t.Context(), "SELECT "+tt.expr+" AS v")
			require.NoError(t, err)
			defer rows.Close()
			assert.Equal(t, []store.Column{{Name: "v", Type: tt.wantType}}, rows.Columns())
			require.True(t, rows.Next())
			var got any
			require.NoError(t, rows.Scan(&got))
			if want, ok := tt.want.(time.Time); ok {
				tm, isTime := got.(time.Time)
				require.True(t, isTime, "got %T", got)
				assert.True(t, want.Equal(tm), "want %v, got %v", want, tm)
				assert.Equal(t, time.UTC, tm.Location())
			} else {
				assert.Equal(t, tt.want, got)
			}
			assert.False(t, rows.Next())
			require.NoError(t, rows.Err())
		})
	}
}

// TestScanIntoTypedDestinations checks that the usual destinations work
// and that Assign's rules (range checks, NULL into **T) apply.
func TestScanIntoTypedDestinations(t *testing.T) {
	db := openDB(t)
	var (
		s      string
		i      int
		u8     uint8
		f      float64
		tm     time.Time
		tags   []string
		null   *string
		filled *int64
	)
	require.NoError(t, db.QueryRow(t.Context(), []any{&s, &i, &u8, &f, &tm, &tags, &null, &filled},
		"SELECT 'x', toInt32(-5), toUInt8(255), toFloat32(1.5), toDateTime('2024-01-02 03:04:05', 'UTC'), ['a', 'b'], CAST(NULL AS Nullable(String)), toNullable(toInt64(9))"))
	assert.Equal(t, "x", s)
	assert.Equal(t, -5, i)
	assert.Equal(t, uint8(255), u8)
	assert.Equal(t, 1.5, f)
	assert.Equal(t, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), tm)
	assert.Equal(t, []string{"a", "b"}, tags)
	assert.Nil(t, null)
	require.NotNil(t, filled)
	assert.Equal(t, int64(9), *filled)

	t.Run("out of range is an error", func(t *testing.T) {
		var small uint8
		err := db.QueryRow(t.Context(), []any{&small}, "SELECT toUInt16(300)")
		require.Error(t, err)
	})
	t.Run("wrong number of destinations", func(t *testing.T) {
		var a, b string
		err := db.QueryRow(t.Context(), []any{&a, &b}, "SELECT 'only one'")
		require.Error(t, err)
	})
}
