package store

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"
)

// Assign stores src, a value as a backend decoded it, into dest, a pointer.
// Both backends scan through it so a column reads the same everywhere.
//
// src is one of: nil, string, int64, uint64, float64, bool, time.Time,
// []any (arrays, tuples) or map[string]any (maps, JSON). dest may be a
// pointer to string, the signed and unsigned integers, float64, float32,
// bool, time.Time, []string, map[string]any or any; a pointer to a pointer
// of those reads NULL as nil.
func Assign(dest, src any) error {
	switch d := dest.(type) {
	case *any:
		*d = src
		return nil
	case *string:
		s, err := toString(src)
		*d = s
		return err
	case *int64:
		n, err := toInt64(src, 64)
		*d = n
		return err
	case *int:
		n, err := toInt64(src, strconv.IntSize)
		*d = int(n)
		return err
	case *int32:
		n, err := toInt64(src, 32)
		*d = int32(n)
		return err
	case *uint64:
		n, err := toUint64(src, 64)
		*d = n
		return err
	case *uint32:
		n, err := toUint64(src, 32)
		*d = uint32(n)
		return err
	case *uint8:
		n, err := toUint64(src, 8)
		*d = uint8(n)
		return err
	case *float64:
		f, err := toFloat64(src)
		*d = f
		return err
	case *float32:
		f, err := toFloat64(src)
		*d = float32(f)
		return err
	case *bool:
		switch x := src.(type) {
		case bool:
			*d = x
			return nil
		case int64, uint64:
			n, _ := toInt64(x, 64)
			*d = n != 0
			return nil
		}
		return mismatch(dest, src)
	case *time.Time:
		switch x := src.(type) {
		case time.Time:
			*d = x
			return nil
		case string:
			t, err := ParseTime(x)
			*d = t
			return err
		}
		return mismatch(dest, src)
	case *[]string:
		arr, ok := src.([]any)
		if !ok {
			return mismatch(dest, src)
		}
		out := make([]string, len(arr))
		for i, v := range arr {
			s, err := toString(v)
			if err != nil {
				return err
			}
			out[i] = s
		}
		*d = out
		return nil
	case *map[string]any:
		m, ok := src.(map[string]any)
		if !ok {
			return mismatch(dest, src)
		}
		*d = m
		return nil
	}
	// **T: NULL becomes nil, anything else is assigned to a fresh T.
	rv := reflect.ValueOf(dest)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Kind() == reflect.Pointer {
		if src == nil {
			rv.Elem().Set(reflect.Zero(rv.Elem().Type()))
			return nil
		}
		fresh := reflect.New(rv.Elem().Type().Elem())
		if err := Assign(fresh.Interface(), src); err != nil {
			return err
		}
		rv.Elem().Set(fresh)
		return nil
	}
	return mismatch(dest, src)
}

// ParseTime reads the text forms ClickHouse prints for DateTime and
// DateTime64 ("2006-01-02 15:04:05[.fff…]") as UTC, and RFC 3339.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05", time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("store: cannot read %q as a time", s)
}

func mismatch(dest, src any) error {
	return fmt.Errorf("store: cannot scan %T into %T", src, dest)
}

func toString(src any) (string, error) {
	switch x := src.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), nil
	}
	return "", fmt.Errorf("store: cannot scan %T into a string", src)
}

func toInt64(src any, bits int) (int64, error) {
	var n int64
	switch x := src.(type) {
	case int64:
		n = x
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("store: %d overflows int%d", x, bits)
		}
		n = int64(x)
	case float64:
		if x != math.Trunc(x) || x > math.MaxInt64 || x < math.MinInt64 {
			return 0, fmt.Errorf("store: %v is not an integer", x)
		}
		n = int64(x)
	case string:
		v, err := strconv.ParseInt(x, 10, bits)
		if err != nil {
			return 0, fmt.Errorf("store: cannot scan %q into int%d", x, bits)
		}
		return v, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	default:
		return 0, fmt.Errorf("store: cannot scan %T into int%d", src, bits)
	}
	if bits < 64 && (n > 1<<(bits-1)-1 || n < -(1<<(bits-1))) {
		return 0, fmt.Errorf("store: %d overflows int%d", n, bits)
	}
	return n, nil
}

func toUint64(src any, bits int) (uint64, error) {
	var n uint64
	switch x := src.(type) {
	case uint64:
		n = x
	case int64:
		if x < 0 {
			return 0, fmt.Errorf("store: %d is negative", x)
		}
		n = uint64(x)
	case float64:
		if x != math.Trunc(x) || x < 0 || x > math.MaxUint64 {
			return 0, fmt.Errorf("store: %v is not an unsigned integer", x)
		}
		n = uint64(x)
	case string:
		v, err := strconv.ParseUint(x, 10, bits)
		if err != nil {
			return 0, fmt.Errorf("store: cannot scan %q into uint%d", x, bits)
		}
		return v, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	default:
		return 0, fmt.Errorf("store: cannot scan %T into uint%d", src, bits)
	}
	if bits < 64 && n > 1<<bits-1 {
		return 0, fmt.Errorf("store: %d overflows uint%d", n, bits)
	}
	return n, nil
}

func toFloat64(src any) (float64, error) {
	switch x := src.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case string:
		switch x {
		case "nan":
			return math.NaN(), nil
		case "inf", "+inf":
			return math.Inf(1), nil
		case "-inf":
			return math.Inf(-1), nil
		}
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 0, fmt.Errorf("store: cannot scan %q into float64", x)
		}
		return f, nil
	}
	return 0, fmt.Errorf("store: cannot scan %T into float64", src)
}
