package adhoc

import (
	"math"
	"time"
)

// Column names and types one result column.
type Column struct {
	Name string
	Type string // ClickHouse type, e.g. "UInt64", "Nullable(String)"
}

// Result is an ad-hoc query's answer, ready to encode as JSON.
type Result struct {
	Columns []Column
	// Rows hold JSON-friendly values: nil, string, bool, int64, uint64,
	// float64 (non-finite ones as the strings "NaN", "Infinity",
	// "-Infinity"), []any and map[string]any; times are RFC 3339 strings
	// in UTC.
	Rows [][]any
	// Truncated is set when the query had more rows than Limit.
	Truncated bool
	// Limit is the row cap that applied (the caller's, within the maximum).
	Limit int
	// Elapsed is the time from receiving the query to the last row.
	Elapsed time.Duration
}

// jsonValue converts a decoded engine value into a JSON-friendly one.
func jsonValue(v any) any {
	switch x := v.(type) {
	case float64:
		switch {
		case math.IsNaN(x):
			return "NaN"
		case math.IsInf(x, 1):
			return "Infinity"
		case math.IsInf(x, -1):
			return "-Infinity"
		}
		return x
	case float32:
		return jsonValue(float64(x))
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e)
		}
		return out
	}
	return v
}

// valueSize approximates the bytes a JSON-friendly value holds once
// decoded: the text of strings and map keys, 8 per number or flag, and
// the sum over arrays and maps. Run counts it against MaxResultBytes.
func valueSize(v any) int64 {
	switch x := v.(type) {
	case string:
		return int64(len(x))
	case []any:
		var n int64
		for _, e := range x {
			n += valueSize(e)
		}
		return n + 8
	case map[string]any:
		var n int64
		for k, e := range x {
			n += int64(len(k)) + valueSize(e)
		}
		return n + 8
	case []byte:
		return int64(len(x))
	}
	return 8
}
