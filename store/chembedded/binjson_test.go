package chembedded_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
	"github.com/learnhub/analytics-service/store/storetest"
)

// jsonSamples are property objects with the decision binjson.go must take
// for each: binary when every value's type is certain, text otherwise.
var jsonSamples = []struct {
	json    string
	binary  bool
	refused bool // by the engine, whichever way it is sent
}{
	{`{"course_id":"c-12","lesson_id":"l-3","score":87,"seconds":1200}`, true, false},
	{`{}`, true, false},
	{` { "a" : "x" , "b" : { "c" : true , "d" : false } } `, true, false},
	{`{"a":null,"b":{},"c":{"d":null},"e":1}`, true, false},
	{`{"max":9223372036854775807,"min":-9223372036854775808,"u":18446744073709551615,"z":-0}`, true, false},
	{`{"unicode":"😀 ünïcødé 中文","empty":"","slash":"a/b","ws":" 1"}`, true, false},
	{`{"deep":{"er":{"est":{"x":"y"}}}}`, true, false},
	{`{"plainish":"1","plus":"+1","hex":"0x1F","inf":"inf","t":"true","n":"null","year":"2020"}`, true, false},
	// The engine reads these strings as dates or times: the insert goes as
	// text, so they keep the type the engine gives them.
	{`{"due":"2026-01-01"}`, false, false},
	{`{"at":"2026-01-01T10:00:00Z"}`, false, false},
	{`{"when":"Dec 5 2025"}`, false, false},
	{`{"f":1.5}`, false, false},
	{`{"e":1e5}`, false, false},
	{`{"list":[1,2]}`, false, false},
	{`{"list":[]}`, false, false},
	{`{"esc":"say \"hi\""}`, false, false},
	{`{"esc":"\u00e9"}`, false, false},
	{`{"a.b":1}`, false, false},
	{`{"a":1,"a":2}`, false, true},
	{`{"a":{"b":1},"a":{"c":2}}`, false, true},
	{`{"big":18446744073709551616}`, false, true},
	{`{"small":-9223372036854775809}`, false, true},
	{`[1]`, false, true},
	{`"x"`, false, true},
}

// TestBinaryJSONStoresWhatTextStores inserts each sample through the
// default backend (binary JSON where binjson.go allows it) and through a
// TextInserts backend, and compares what the engine stores: every path,
// its type and the value. Random objects mixing every kind of value follow.
func TestBinaryJSONStoresWhatTextStores(t *testing.T) {
	ctx := ctxT(t)
	bin := storetest.EmbeddedBackend(t, chembedded.Options{})
	text := storetest.EmbeddedBackend(t, chembedded.Options{Database: bin.Database(), TextInserts: true})
	dbBin, dbText := store.New(bin, store.Options{}), store.New(text, store.Options{})
	require.NoError(t, dbBin.Exec(ctx, "CREATE TABLE j (k UInt32, via String, v JSON) ENGINE = MergeTree ORDER BY (via, k)"))
	cols := []string{"k", "via", "v"}
	// Each object is an insert of its own (one that does not fit makes its
	// whole insert text), of enough rows to take the binary layout at all.
	const copies = 512 // jsonBinaryMinRows
	insert := func(k int, obj string, refused bool) (jsonBinary bool) {
		t.Helper()
		rows := func(via string) [][]any {
			out := make([][]any, copies)
			for i := range out {
				out[i] = []any{uint32(k*copies + i), via, store.ValidJSON(obj)}
			}
			return out
		}
		in := store.Insert{Table: "j", Columns: cols, Rows: rows("bin")}
		binary, jsonBinary, err := chembedded.InsertEncoding(ctx, bin, in)
		require.NoError(t, err)
		require.True(t, binary, obj)
		if refused {
			require.Error(t, dbBin.Insert(ctx, in), obj)
			return jsonBinary
		}
		require.NoError(t, dbBin.Insert(ctx, in), obj)
		require.NoError(t, dbText.Insert(ctx, store.Insert{Table: "j", Columns: cols, Rows: rows("text")}), obj)
		return jsonBinary
	}
	for k, s := range jsonSamples {
		assert.Equal(t, s.binary, insert(k, s.json, s.refused), "binary layout for %s", s.json)
	}
	rnd := rand.New(rand.NewPCG(25, 4))
	binaries := 0
	const randoms = 120
	for k := range randoms {
		if insert(1000+k, randomObject(rnd, 0), false) {
			binaries++
		}
	}
	assert.Greater(t, binaries, randoms/10, "random objects that took the binary layout")

	dump := func(via string) []string {
		return queryStrings(ctx, t, dbBin, "SELECT concat(toString(k), ' ', toJSONString(v), ' ', toString(JSONAllPathsWithTypes(v))) FROM j WHERE via = ? ORDER BY k", via)
	}
	got, want := dump("bin"), dump("text")
	require.Len(t, got, len(want))
	for i := range want {
		assert.Equal(t, want[i], got[i])
	}
	assert.Contains(t, strings.Join(got, "\n"), `'score':'Int64'`)
}

// randomObject is a JSON object of random keys and values: the kinds the
// binary layout takes (plain and date-like strings, integers at their
// limits, booleans, nulls, nested and empty objects) and a few it leaves
// to the text (floats, arrays, escapes).
func randomObject(rnd *rand.Rand, depth int) string {
	keys := []string{"a", "b", "course_id", "score", "x_y", "Ü", "n1"}
	strs := []string{`"c-12"`, `"l-400"`, `"user-5"`, `""`, `"2026-12-05"`, `"12/05/2026"`, `"5 Dec"`, `"10:00"`, `"Mon"`,
		`"550e8400-e29b-41d4-a716-446655440000"`, `"v1.2.3"`, `"1 2 3"`, `"x\ty"`}
	var b strings.Builder
	b.WriteByte('{')
	n := rnd.IntN(5)
	used := map[string]bool{}
	for i := 0; i < n; i++ {
		k := keys[rnd.IntN(len(keys))]
		if used[k] {
			continue
		}
		used[k] = true
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:", k)
		switch r := rnd.IntN(20); {
		case r < 8:
			b.WriteString(strs[rnd.IntN(len(strs))])
		case r < 12:
			b.WriteString([]string{"0", "-1", "42", "9223372036854775807", "9223372036854775808", "-9223372036854775808"}[rnd.IntN(6)])
		case r < 14:
			b.WriteString([]string{"true", "false", "null"}[rnd.IntN(3)])
		case r < 17 && depth < 3:
			b.WriteString(randomObject(rnd, depth+1))
		case r < 18:
			b.WriteString("2.5")
		case r < 19:
			b.WriteString(`["a"]`)
		default:
			b.WriteString(`"q\"uote"`)
		}
	}
	b.WriteByte('}')
	return b.String()
}

// TestBinaryJSONLeavesUniqueStringsAsText: strings unique to their events
// would cost a classifying query per insert, so such an insert, and a
// small one, keep the JSON text.
func TestBinaryJSONLeavesUniqueStringsAsText(t *testing.T) {
	ctx := ctxT(t)
	b := storetest.EmbeddedBackend(t, chembedded.Options{})
	db := store.New(b, store.Options{})
	require.NoError(t, db.Exec(ctx, "CREATE TABLE j (k UInt32, v JSON) ENGINE = MergeTree ORDER BY k"))
	rows := func(n int, unique bool) [][]any {
		out := make([][]any, n)
		for i := range out {
			id := "shared"
			if unique {
				id = fmt.Sprintf("id-%d", i)
			}
			out[i] = []any{uint32(i), store.ValidJSON(`{"id":"` + id + `","n":1}`)}
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		rows   [][]any
		binary bool
	}{
		{"repeated strings", rows(1000, false), true},
		{"a string per event", rows(1000, true), false},
		{"a small insert", rows(100, false), false},
	} {
		_, jsonBinary, err := chembedded.InsertEncoding(ctx, b, store.Insert{Table: "j", Columns: []string{"k", "v"}, Rows: tc.rows})
		require.NoError(t, err)
		assert.Equal(t, tc.binary, jsonBinary, tc.name)
	}
}
