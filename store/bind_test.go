package store

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNamedParams(t *testing.T) {
	ts := time.Date(2026, 3, 1, 12, 30, 0, 123_000_000, time.FixedZone("x", 3600))
	for _, tc := range []struct {
		name     string
		sql      string
		args     []any
		wantSQL  string
		wantVals []string
		wantType []string
	}{
		{"plain", "SELECT ? + ?", []any{1, uint64(2)}, "SELECT {p0:Int64} + {p1:UInt64}", []string{"1", "2"}, []string{"Int64", "UInt64"}},
		{"string escapes", "SELECT ?", []any{"a\\b\tc\nd'e"}, "SELECT {p0:String}", []string{`a\\b\tc\nd'e`}, []string{"String"}},
		{"placeholder in literal", "SELECT '?', \"?\", `?`, ?", []any{"x"}, "SELECT '?', \"?\", `?`, {p0:String}", []string{"x"}, []string{"String"}},
		{"escaped quote in literal", `SELECT 'it\'s ?', ?`, []any{true}, `SELECT 'it\'s ?', {p0:Bool}`, []string{"true"}, []string{"Bool"}},
		{"doubled quote", `SELECT 'a''?', ?`, []any{1.5}, `SELECT 'a''?', {p0:Float64}`, []string{"1.5"}, []string{"Float64"}},
		{"comments", "SELECT ? -- ?\n/* ? */ + ?", []any{1, 2}, "SELECT {p0:Int64} -- ?\n/* ? */ + {p1:Int64}", []string{"1", "2"}, []string{"Int64", "Int64"}},
		{"time in UTC", "SELECT ?", []any{ts}, "SELECT {p0:DateTime64(3, 'UTC')}", []string{"2026-03-01 11:30:00.123"}, []string{"DateTime64(3, 'UTC')"}},
		{"string array", "SELECT ?", []any{[]string{"a'b", `c\d`}}, "SELECT {p0:Array(String)}", []string{`['a\'b','c\\d']`}, []string{"Array(String)"}},
		{"null", "SELECT ?", []any{nil}, "SELECT {p0:Nullable(String)}", []string{`\N`}, []string{"Nullable(String)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sql, ps, err := NamedParams(tc.sql, tc.args)
			require.NoError(t, err)
			assert.Equal(t, tc.wantSQL, sql)
			require.Len(t, ps, len(tc.wantVals))
			for i := range ps {
				assert.Equal(t, tc.wantVals[i], ps[i].Value)
				assert.Equal(t, tc.wantType[i], ps[i].Type)
			}
		})
	}
}

func TestNamedParamsCountMismatch(t *testing.T) {
	_, _, err := NamedParams("SELECT ?, ?", []any{1})
	require.Error(t, err)
	_, _, err = NamedParams("SELECT ?", []any{1, 2})
	require.Error(t, err)
	_, _, err = NamedParams("SELECT ?", []any{struct{}{}})
	require.Error(t, err)
}

// FuzzNamedParams: whatever the text, the rewrite never panics, and a string
// value never carries a raw tab or newline (which would end the engine's
// escaped-text read early) nor a lone backslash.
func FuzzNamedParams(f *testing.F) {
	f.Add("SELECT ? WHERE x = '?' -- ?", "a'b\\c\n")
	f.Add("/* ? */ ?", "\x00")
	f.Fuzz(func(t *testing.T, sql, val string) {
		n := strings.Count(sql, "?")
		args := make([]any, n)
		for i := range args {
			args[i] = val
		}
		_, ps, err := NamedParams(sql, args)
		if err != nil {
			return
		}
		for _, p := range ps {
			if strings.ContainsAny(p.Value, "\t\n\r\x00") {
				t.Fatalf("raw control character in %q", p.Value)
			}
			if strings.Count(p.Value, `\`)%2 != 0 && !strings.HasSuffix(p.Value, `\N`) {
				// every backslash must be part of an escape pair
				unescaped := strings.NewReplacer(`\\`, "", `\n`, "", `\t`, "", `\r`, "", `\0`, "").Replace(p.Value)
				if strings.Contains(unescaped, `\`) {
					t.Fatalf("lone backslash in %q", p.Value)
				}
			}
		}
	})
}

func TestQuoteIdent(t *testing.T) {
	assert.Equal(t, "`events`", QuoteIdent("events"))
	assert.Equal(t, "`a\\`b\\\\c`", QuoteIdent("a`b\\c"))
	assert.Equal(t, `'it\'s\n'`, QuoteString("it's\n"))
}

func TestAssign(t *testing.T) {
	var (
		s   string
		i   int64
		u   uint64
		f   float64
		b   bool
		tm  time.Time
		ss  []string
		ps  *string
		i32 int32
	)
	require.NoError(t, Assign(&s, uint64(18446744073709551615)))
	assert.Equal(t, "18446744073709551615", s)
	require.NoError(t, Assign(&i, "-9223372036854775808"))
	assert.Equal(t, int64(-9223372036854775808), i)
	require.NoError(t, Assign(&u, "18446744073709551615"))
	assert.Equal(t, uint64(18446744073709551615), u)
	require.NoError(t, Assign(&f, int64(3)))
	assert.Equal(t, 3.0, f)
	require.NoError(t, Assign(&b, uint64(1)))
	assert.True(t, b)
	require.NoError(t, Assign(&tm, "2026-01-02 03:04:05.678"))
	assert.Equal(t, time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC), tm)
	require.NoError(t, Assign(&ss, []any{"a", "b"}))
	assert.Equal(t, []string{"a", "b"}, ss)
	require.NoError(t, Assign(&ps, nil))
	assert.Nil(t, ps)
	require.NoError(t, Assign(&ps, "x"))
	require.NotNil(t, ps)
	assert.Equal(t, "x", *ps)
	assert.Error(t, Assign(&i, uint64(18446744073709551615)), "overflow must fail")
	assert.Error(t, Assign(&i32, int64(1)<<40), "overflow must fail")
	assert.Error(t, Assign(&u, int64(-1)), "negative into unsigned must fail")
	assert.Error(t, Assign(&b, "yes"))
}

func TestVersion(t *testing.T) {
	v, err := ParseVersion("26.7.3.1")
	require.NoError(t, err)
	assert.Equal(t, Version{26, 7, 3}, v)
	require.NoError(t, CheckServerVersion("25.3.1.2"))
	err = CheckServerVersion("18.16.1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "18.16.1")
	assert.Contains(t, err.Error(), "25.3.0")
	_, err = ParseVersion("abc")
	assert.Error(t, err)
}

func TestParseException(t *testing.T) {
	ex := ParseException("Code: 62. DB::Exception: Syntax error: failed at position 1 ('SELEC'). (SYNTAX_ERROR) (version 26.7.3.1)")
	assert.Equal(t, 62, ex.Code)
	assert.Equal(t, "SYNTAX_ERROR", ex.Name)
	assert.Contains(t, ex.Message, "Syntax error")
	assert.Equal(t, 0, ParseException("something else").Code)
}
