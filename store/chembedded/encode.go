package chembedded

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/learnhub/analytics-service/store"
)

// Inserts are sent as JSONCompactEachRow: one JSON array per row, values in
// the insert's column order. The common value types are written by hand
// (no reflection); anything else goes through encoding/json.

// Times are sent as UTC text with an explicit zone, read with
// date_time_input_format = 'best_effort' so a column declared in another
// zone stores the same instant; sub-second digits are sent as far as they
// go (DateTime drops them, DateTime64(p) keeps p). Date and Date32 columns
// take the UTC calendar day.
const (
	insertTimeLayout = "2006-01-02 15:04:05.999999999Z"
	insertDateLayout = "2006-01-02"
)

const hexDigits = "0123456789abcdef"

// appendRow appends one row as a JSON array and a newline. dateCols, when
// not nil, marks the Date columns, whose time.Time values are sent as days.
// On error it also returns the offending column's index.
func appendRow(b []byte, row []any, dateCols []bool) ([]byte, int, error) {
	b = append(b, '[')
	for i, v := range row {
		if i > 0 {
			b = append(b, ',')
		}
		if t, ok := v.(time.Time); ok && dateCols != nil && dateCols[i] {
			b = append(b, '"')
			b = t.UTC().AppendFormat(b, insertDateLayout)
			b = append(b, '"')
			continue
		}
		var err error
		if b, err = appendValue(b, v); err != nil {
			return b, i, err
		}
	}
	return append(b, ']', '\n'), 0, nil
}

// appendValue appends v as a JSON value the engine reads into the column.
func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, x), nil
	case []byte:
		return appendString(b, string(x)), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case float32:
		return appendFloat(b, float64(x), 32), nil
	case float64:
		return appendFloat(b, x, 64), nil
	case time.Time:
		b = append(b, '"')
		b = x.UTC().AppendFormat(b, insertTimeLayout)
		return append(b, '"'), nil
	case store.ValidJSON:
		return append(b, x...), nil
	case json.RawMessage:
		if !json.Valid(x) {
			return b, fmt.Errorf("json.RawMessage is not valid JSON")
		}
		return append(b, x...), nil
	case []string:
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		return append(b, ']'), nil
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendValue(b, e); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		b = append(b, '{')
		first := true
		for k, e := range x {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendValue(b, e); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return b, fmt.Errorf("cannot send %T: %w", v, err)
	}
	return append(b, enc...), nil
}

// appendFloat writes finite floats as JSON numbers and nan/inf as the
// quoted words the engine reads.
func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"nan"`...)
	case math.IsInf(f, 1):
		return append(b, `"inf"`...)
	case math.IsInf(f, -1):
		return append(b, `"-inf"`...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

// appendString writes s as a JSON string. Bytes of s that are not valid
// UTF-8 are sent unchanged: String columns hold bytes, and the engine reads
// them back as they were.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
