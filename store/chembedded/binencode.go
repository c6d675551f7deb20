package chembedded

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/learnhub/analytics-service/store"
)

// Inserts whose columns and values all have a binary layout here travel as
// RowBinary: each value in its column type's layout, no text to print or
// parse. The engine read JSONCompactEachRow at 0.66× of its own
// INSERT … SELECT; most of the difference was its text parser. JSON
// columns are still sent as their JSON text (read with
// input_format_binary_read_json_as_string), since the engine has to build
// the paths from it either way. A column type or a value without a layout
// here (UUID, Decimal, enums, tuples, a NULL for a column that is not
// Nullable, a time out of the column's range, …) sends the whole insert in
// the text format (encode.go) instead, so the choice is invisible to
// callers.

// binaryInsertFormat is the data format of inserts that fit binEncode.
const binaryInsertFormat = "RowBinary"

// errNotBinary reports a column type or value binEncode has no layout for.
var errNotBinary = errors.New("no RowBinary layout")

// minDateTime64 and maxDateTime64 bound DateTime64 in Unix seconds.
const (
	minDateTime64 = -2208988800 // 1900-01-01 00:00:00 UTC
	maxDateTime64 = 10413791999 // 2299-12-31 23:59:59 UTC
)

// nanosPerTick[p] is how many nanoseconds one tick of DateTime64(p) is.
var nanosPerTick = [10]int64{1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2, 1e1, 1}

// binEncodable reports whether every column type has a layout here.
func binEncodable(types []*binType) bool {
	for _, t := range types {
		if !binTypeEncodable(t) {
			return false
		}
	}
	return true
}

func binTypeEncodable(t *binType) bool {
	if t == nil {
		return false
	}
	switch t.code {
	case binInt, binUint, binFloat32, binFloat64, binBool, binString,
		binDate, binDate32, binDateTime, binDateTime64, binJSON:
		return true
	case binArray:
		return binTypeEncodable(t.elem)
	case binMap:
		return binTypeEncodable(t.key) && binTypeEncodable(t.elem)
	}
	return false
}

// binEncodeRow appends row in RowBinary. JSON columns go as their text,
// or, when jw is not nil, in the engine's binary JSON layout
// (binjson.go). On error it also returns the offending column's index;
// errNotBinary means the text format can still send the row.
func binEncodeRow(b []byte, types []*binType, row []any, jw *jsonWalker) ([]byte, int, error) {
	for i, v := range row {
		var err error
		if jw != nil && types[i].code == binJSON {
			b, err = binJSONPaths(b, jw, v)
		} else {
			b, err = binEncode(b, types[i], v)
		}
		if err != nil {
			return b, i, err
		}
	}
	return b, 0, nil
}

// binEncode appends v in t's RowBinary layout.
func binEncode(b []byte, t *binType, v any) ([]byte, error) {
	if t.nullable {
		if v == nil {
			return append(b, 1), nil
		}
		b = append(b, 0)
	} else if v == nil {
		return b, errNotBinary
	}
	switch t.code {
	case binString:
		switch x := v.(type) {
		case string:
			return binStr(b, x), nil
		case []byte:
			return binBytes(b, x), nil
		}
	case binJSON:
		return binJSONText(b, v)
	case binInt:
		n, ok := asInt(v)
		if !ok || !fitsInt(n, t.size) {
			return b, errNotBinary
		}
		return binLE(b, uint64(n), t.size), nil
	case binUint:
		n, ok := asUint(v)
		if !ok || (t.size < 8 && n >= 1<<(8*t.size)) {
			return b, errNotBinary
		}
		return binLE(b, n, t.size), nil
	case binBool:
		if x, ok := v.(bool); ok {
			if x {
				return append(b, 1), nil
			}
			return append(b, 0), nil
		}
	case binFloat32, binFloat64:
		f, ok := asFloat(v)
		if !ok {
			return b, errNotBinary
		}
		if t.code == binFloat32 {
			return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(f))), nil
		}
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(f)), nil
	case binDate, binDate32, binDateTime, binDateTime64:
		if x, ok := v.(time.Time); ok {
			return binTime(b, t, x)
		}
	case binArray:
		return binArrayOf(b, t, v)
	case binMap:
		return binMapOf(b, t, v)
	}
	return b, errNotBinary
}

// binBytes appends a length-prefixed string.
func binBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// binStr appends a length-prefixed string.
func binStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// binJSONText appends a JSON column's value as the JSON text encode.go
// would write for it. A string is text to the text format, not JSON, so it
// is left to it (and its error).
func binJSONText(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string, []byte:
		return b, errNotBinary
	case store.ValidJSON:
		return binBytes(b, x), nil
	case json.RawMessage:
		if !json.Valid(x) {
			return b, errNotBinary
		}
		return binBytes(b, x), nil
	}
	text, err := appendValue(nil, v)
	if err != nil {
		return b, errNotBinary
	}
	return binBytes(b, text), nil
}

// binTime appends a time as t's day or tick count; a time outside the
// column's range is left to the text format's rules.
func binTime(b []byte, t *binType, x time.Time) ([]byte, error) {
	switch t.code {
	case binDate, binDate32:
		y, m, d := x.UTC().Date()
		days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
		if t.code == binDate {
			if days < 0 || days > math.MaxUint16 {
				return b, errNotBinary
			}
			return binary.LittleEndian.AppendUint16(b, uint16(days)), nil
		}
		if days < math.MinInt32 || days > math.MaxInt32 {
			return b, errNotBinary
		}
		return binary.LittleEndian.AppendUint32(b, uint32(int32(days))), nil
	case binDateTime:
		s := x.Unix()
		if s < 0 || s > math.MaxUint32 {
			return b, errNotBinary
		}
		return binary.LittleEndian.AppendUint32(b, uint32(s)), nil
	}
	// DateTime64(p): ticks since the epoch, rounded down as the engine
	// truncates surplus digits; only within the type's range (1900-01-01 to
	// 2299-12-31), which also keeps the multiplication from overflowing.
	s := x.Unix()
	if s < minDateTime64 || s > maxDateTime64 {
		return b, errNotBinary
	}
	per := nanosPerTick[t.scale]
	ticks := s*(1e9/per) + int64(x.Nanosecond())/per
	return binary.LittleEndian.AppendUint64(b, uint64(ticks)), nil
}

func binArrayOf(b []byte, t *binType, v any) ([]byte, error) {
	switch x := v.(type) {
	case []string:
		return binList(b, t, x)
	case []any:
		return binList(b, t, x)
	}
	return b, errNotBinary
}

func binList[E any](b []byte, t *binType, list []E) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(len(list)))
	var err error
	for _, e := range list {
		if b, err = binEncode(b, t.elem, e); err != nil {
			return b, err
		}
	}
	return b, nil
}

func binMapOf(b []byte, t *binType, v any) ([]byte, error) {
	switch x := v.(type) {
	case map[string]string:
		return binEntries(b, t, x)
	case map[string]any:
		return binEntries(b, t, x)
	}
	return b, errNotBinary
}

// binEntries appends a map in Go's iteration order; a Map column keeps
// the order it is given, as with the text format.
func binEntries[V any](b []byte, t *binType, m map[string]V) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(len(m)))
	var err error
	for k, e := range m {
		if b, err = binEncode(b, t.key, k); err != nil {
			return b, err
		}
		if b, err = binEncode(b, t.elem, e); err != nil {
			return b, err
		}
	}
	return b, nil
}

// binLE appends the low size bytes of n, little-endian.
func binLE(b []byte, n uint64, size int) []byte {
	for i := 0; i < size; i++ {
		b = append(b, byte(n>>(8*i)))
	}
	return b
}

func fitsInt(n int64, size int) bool {
	if size >= 8 {
		return true
	}
	lim := int64(1) << (8*size - 1)
	return n >= -lim && n < lim
}

// asInt is v as an int64 when it is a Go integer or bool that fits.
func asInt(v any) (int64, bool) {
	if n, ok := store.AsInt64(v); ok {
		return n, true
	}
	if n, ok := store.AsUint64(v); ok {
		return int64(n), n <= math.MaxInt64
	}
	if x, ok := v.(bool); ok {
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// asUint is v as a uint64 when it is a non-negative Go integer or a bool.
func asUint(v any) (uint64, bool) {
	if n, ok := store.AsUint64(v); ok {
		return n, true
	}
	n, ok := asInt(v)
	return uint64(n), ok && n >= 0
}

// asFloat is v as a float64 when it is a Go float or integer.
func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case bool:
		return 0, false
	}
	if n, ok := asInt(v); ok {
		return float64(n), true
	}
	if n, ok := asUint(v); ok {
		return float64(n), true
	}
	return 0, false
}
