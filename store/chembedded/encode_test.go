package chembedded

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/store"
)

func TestAppendValue(t *testing.T) {
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"nil", nil, `null`},
		{"string", "a\"b\\c\nd\te\x01", `"a\"b\\c\nd\te\u0001"`},
		{"bytes", []byte("x"), `"x"`},
		{"bool", true, `true`},
		{"int", -7, `-7`},
		{"int64 min", int64(math.MinInt64), `-9223372036854775808`},
		{"uint64 max", uint64(math.MaxUint64), `18446744073709551615`},
		{"uint8", uint8(200), `200`},
		{"float", 0.1, `0.1`},
		{"float32", float32(0.1), `0.1`},
		{"nan", math.NaN(), `"nan"`},
		{"-inf", math.Inf(-1), `"-inf"`},
		{"time", time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.FixedZone("x", 3600)), `"2024-01-02 02:04:05.678Z"`},
		{"whole second", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), `"2024-01-02 03:04:05Z"`},
		{"strings", []string{"a", "b'"}, `["a","b'"]`},
		{"anys", []any{uint64(1), nil, "x"}, `[1,null,"x"]`},
		{"map", map[string]any{"k": []any{true}}, `{"k":[true]}`},
		{"raw json", json.RawMessage(`{"a":1}`), `{"a":1}`},
		{"valid json, appended unchecked", store.ValidJSON(`{"a":[1,"b"]}`), `{"a":[1,"b"]}`},
		{"fallback", []int32{1, 2}, `[1,2]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := appendValue(nil, c.v)
			require.NoError(t, err)
			assert.Equal(t, c.want, string(got))
		})
	}
}

func TestAppendValueErrors(t *testing.T) {
	for _, v := range []any{make(chan int), json.RawMessage(`{`), []any{func() {}}} {
		_, err := appendValue(nil, v)
		assert.Error(t, err, "%T", v)
	}
}

func TestAppendRowDates(t *testing.T) {
	day := time.Date(2024, 1, 2, 23, 0, 0, 0, time.FixedZone("minus2", -2*3600))
	got, col, err := appendRow(nil, []any{day, day}, []bool{true, false})
	require.NoError(t, err)
	assert.Equal(t, 0, col)
	assert.Equal(t, "[\"2024-01-03\",\"2024-01-03 01:00:00Z\"]\n", string(got))

	_, col, err = appendRow(nil, []any{1, make(chan int)}, nil)
	require.Error(t, err)
	assert.Equal(t, 1, col)
}
