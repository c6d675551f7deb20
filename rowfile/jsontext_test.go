package rowfile

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendJSONMatchesMarshal(t *testing.T) {
	cases := []any{
		nil, "", "plain", "q\"uote\\ <b>&amp;</b>", "héllo 世界 🙂", "\x00\x1f\u2028\u2029", "\xff\xfe",
		int64(math.MinInt64), uint64(math.MaxUint64), true, false, 1.5, math.Copysign(0, -1), 1e21, 1e-7, 5.0,
		[]any{}, []any{int64(1), nil, "x", []any{true}},
		map[string]any{}, map[string]any{"z": int64(1), "a": map[string]any{"<k>": []any{1.25, "v"}}, "é": nil},
		time.Date(2026, 3, 29, 1, 30, 0, 123e6, time.UTC), []any(nil), map[string]any(nil),
	}
	for _, v := range cases {
		want, err := json.Marshal(v)
		require.NoError(t, err)
		got, err := appendJSON([]byte("prefix"), v)
		require.NoError(t, err)
		assert.Equal(t, "prefix"+string(want), string(got), "%#v", v)
	}
	_, err := appendJSON(nil, []any{math.NaN()})
	assert.Error(t, err, "NaN has no JSON form, as with json.Marshal")
}

// FuzzAppendJSON checks appendJSON against json.Marshal on strings and the
// objects and arrays built from them.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{"", "a", "<&>", "\u2028", "\xff", "\"\\", "é"} {
		f.Add(s, int64(7))
	}
	f.Fuzz(func(t *testing.T, s string, n int64) {
		v := map[string]any{s: []any{s, n, map[string]any{"k" + s: s}}, "n": n}
		want, err := json.Marshal(v)
		require.NoError(t, err)
		got, err := appendJSON(nil, v)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	})
}
