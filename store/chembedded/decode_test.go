package chembedded

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseType(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	cases := []struct {
		typ  string
		kind kind
		loc  *time.Location
	}{
		{"UInt64", kindUint, nil},
		{"Int8", kindInt, nil},
		{"Nullable(Int64)", kindInt, nil},
		{"LowCardinality(Nullable(String))", kindText, nil},
		{"Float32", kindFloat, nil},
		{"Bool", kindBool, nil},
		{"Decimal(18, 3)", kindText, nil},
		{"UInt256", kindText, nil},
		{"Enum8('a' = 1, 'b' = 2)", kindText, nil},
		{"FixedString(3)", kindText, nil},
		{"Date32", kindDate, nil},
		{"DateTime", kindDateTime, time.UTC},
		{`DateTime('Asia\/Tokyo')`, kindDateTime, tokyo},
		{"DateTime64(3, 'Asia/Tokyo')", kindDateTime, tokyo},
		{"DateTime64(6)", kindDateTime, time.UTC},
		{"Array(String)", kindArray, nil},
		{"Map(String, Array(UInt64))", kindMap, nil},
		{"Tuple(a String, `b c` UInt8)", kindTuple, nil},
		{"SimpleAggregateFunction(sum, UInt64)", kindUint, nil},
		{"JSON", kindGeneric, nil},
		{"Dynamic", kindGeneric, nil},
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			got := parseType(c.typ)
			assert.Equal(t, c.kind, got.kind)
			if c.loc != nil {
				assert.Equal(t, c.loc.String(), got.loc.String())
			}
		})
	}
	m := parseType("Map(String, Array(UInt64))")
	require.NotNil(t, m.elem)
	assert.Equal(t, kindArray, m.elem.kind)
	assert.Equal(t, kindUint, m.elem.elem.kind)
	tup := parseType("Tuple(a String, `b c` UInt8)")
	assert.Equal(t, []string{"a", "b c"}, tup.names)
	assert.Equal(t, kindUint, tup.elems[1].kind)
}

func TestDecodeRow(t *testing.T) {
	cases := []struct {
		name  string
		types []string
		line  string
		want  []any
	}{
		{"ints exact", []string{"UInt64", "Int64", "Int64"}, `[18446744073709551615, -9223372036854775808, "42"]`,
			[]any{uint64(math.MaxUint64), int64(math.MinInt64), int64(42)}},
		{"floats", []string{"Float64", "Float64", "Float64", "Float32"}, `[1.5e300, "inf", "-inf", 0.1]`,
			[]any{1.5e300, math.Inf(1), math.Inf(-1), 0.1}},
		{"null and bool", []string{"Nullable(String)", "Bool", "Bool"}, `[null, true, false]`,
			[]any{nil, true, false}},
		{"escapes", []string{"String"}, `["a\"b\\c\/d\n\t\r\b\f\u0000\u00e9\ud83d\ude00"]`,
			[]any{"a\"b\\c/d\n\t\r\b\f\x00é😀"}},
		{"raw bytes", []string{"String"}, "[\"\xff\xfe\"]", []any{"\xff\xfe"}},
		{"decimal kept exact", []string{"Decimal(38, 10)"}, `[12345678901234567890.0123456789]`,
			[]any{"12345678901234567890.0123456789"}},
		{"times", []string{"DateTime", "DateTime64(3, 'Asia/Tokyo')", "Date"}, `["2024-01-02 03:04:05", "2024-01-02 12:04:05.678", "2024-05-06"]`,
			[]any{time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC), time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)}},
		{"nested", []string{"Array(Nullable(UInt64))", "Map(String, Int64)", "Tuple(UInt8, String)"}, `[[1,null,18446744073709551615], {"a":-1}, [7,"x"]]`,
			[]any{[]any{uint64(1), nil, uint64(math.MaxUint64)}, map[string]any{"a": int64(-1)}, []any{uint64(7), "x"}}},
		{"named tuple", []string{"Tuple(a UInt8, b String)"}, `[{"a":1,"b":"x"}]`,
			[]any{map[string]any{"a": uint64(1), "b": "x"}}},
		{"json generic", []string{"JSON"}, `[{"i":-3,"u":18446744073709551615,"f":0.5,"s":"x","a":[true,null],"o":{}}]`,
			[]any{map[string]any{"i": int64(-3), "u": uint64(math.MaxUint64), "f": 0.5, "s": "x", "a": []any{true, nil}, "o": map[string]any{}}}},
		{"blanks", []string{"UInt8", "String"}, ` [ 1 , "x" ] `, []any{uint64(1), "x"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			types := make([]*colType, len(c.types))
			for i, s := range c.types {
				types[i] = parseType(s)
			}
			got := make([]any, len(types))
			require.NoError(t, decodeRow([]byte(c.line), types, got))
			assert.Equal(t, c.want, got)
		})
	}
}

func TestDecodeRowNaN(t *testing.T) {
	got := make([]any, 1)
	require.NoError(t, decodeRow([]byte(`["nan"]`), []*colType{parseType("Float64")}, got))
	f, ok := got[0].(float64)
	require.True(t, ok)
	assert.True(t, math.IsNaN(f))
}

func TestDecodeRowErrors(t *testing.T) {
	cases := []struct {
		name, typ, line string
	}{
		{"uint overflow", "UInt64", `[18446744073709551616]`},
		{"negative uint", "UInt64", `[-1]`},
		{"int overflow", "Int64", `[9223372036854775808]`},
		{"too few", "UInt8", `[]`},
		{"too many", "UInt8", `[1, 2]`},
		{"unterminated string", "String", `["abc`},
		{"bad escape", "String", `["\x"]`},
		{"bad time", "DateTime", `["yesterday"]`},
		{"bad bool", "Bool", `[maybe]`},
		{"not an array", "UInt8", `{"a":1}`},
		{"empty", "UInt8", ``},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := decodeRow([]byte(c.line), []*colType{parseType(c.typ)}, make([]any, 1))
			assert.ErrorIs(t, err, errSyntax)
		})
	}
}

// FuzzDecodeRow feeds arbitrary lines to the decoder: it may reject them
// but must never panic.
func FuzzDecodeRow(f *testing.F) {
	for _, s := range []string{`[1, "x", null]`, `[[1,2], {"a":"b"}, "2024-01-01 00:00:00"]`, `["\ud83d\ude00", 1e5, -0]`, `[`, `["\u12`} {
		f.Add(s)
	}
	types := []*colType{parseType("Nullable(UInt64)"), parseType("Map(String, String)"), parseType("DateTime")}
	generic := []*colType{{}, {}, {}}
	f.Fuzz(func(t *testing.T, line string) {
		_ = decodeRow([]byte(line), types, make([]any, 3))
		_ = decodeRow([]byte(line), generic, make([]any, 3))
		_, _ = decodeStrings([]byte(line))
	})
}

// FuzzStringRoundTrip checks that what the insert encoder writes for a
// string, the result decoder reads back byte for byte.
func FuzzStringRoundTrip(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"uote\\", "\x00\x01\x1f", "\xff\xfe", "😀", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		line, _, err := appendRow(nil, []any{s}, nil)
		require.NoError(t, err)
		got := make([]any, 1)
		require.NoError(t, decodeRow(line[:len(line)-1], []*colType{{kind: kindText}}, got))
		require.Equal(t, s, got[0])
	})
}
