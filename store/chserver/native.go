package chserver

import (
	"fmt"
	"math/big"
	"net"
	"reflect"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/chcol"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// native normalises a value as the driver scanned it into the forms
// store.Assign reads: nil, string, int64, uint64, float64, bool, time.Time
// (UTC), []any or map[string]any. Pointers (Nullable) are dereferenced;
// []byte is Array(UInt8) (String columns scan as string), so it reads as
// numbers like any other array;
// integers of every width widen to int64/uint64; Float32 is read at its
// own precision (0.1, not 0.10000000149); Decimal, UUID, IP addresses,
// big integers and enums become their ClickHouse text.
func native(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return x, nil
	case bool:
		return x, nil
	case int64:
		return x, nil
	case uint64:
		return x, nil
	case float64:
		return x, nil
	case float32:
		return float32To64(x), nil
	case time.Time:
		return x.UTC(), nil
	case time.Duration:
		return clockText(x), nil
	case decimal.Decimal:
		return x.String(), nil
	case uuid.UUID:
		return x.String(), nil
	case net.IP:
		return ipText(x), nil
	case *big.Int:
		if x == nil {
			return nil, nil
		}
		return x.String(), nil
	case big.Int:
		return x.String(), nil
	case chcol.JSON:
		return native(x.NestedMap())
	case *chcol.JSON:
		if x == nil {
			return nil, nil
		}
		return native(x.NestedMap())
	case chcol.Variant: // also chcol.Dynamic, an alias
		return native(x.Any())
	}
	return nativeReflect(reflect.ValueOf(v))
}

// nativeReflect handles the shapes without a fixed Go type: pointers,
// named scalar types, slices, arrays and maps.
func nativeReflect(rv reflect.Value) (any, error) {
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		return native(rv.Elem().Interface())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv.Uint(), nil
	case reflect.Float32:
		return float32To64(float32(rv.Float())), nil
	case reflect.Float64:
		return rv.Float(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return []any{}, nil
		}
		out := make([]any, rv.Len())
		for i := range out {
			e, err := native(rv.Index(i).Interface())
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	case reflect.Map:
		out := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			k, err := mapKey(iter.Key().Interface())
			if err != nil {
				return nil, err
			}
			e, err := native(iter.Value().Interface())
			if err != nil {
				return nil, err
			}
			out[k] = e
		}
		return out, nil
	}
	if s, ok := rv.Interface().(fmt.Stringer); ok {
		return s.String(), nil
	}
	return nil, fmt.Errorf("chserver: no native form for %s", rv.Type())
}

// mapKey renders a Map key as text, the way JSON output keys a map.
func mapKey(k any) (string, error) {
	v, err := native(k)
	if err != nil {
		return "", err
	}
	switch x := v.(type) {
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
		return x.Format("2006-01-02 15:04:05.999999999"), nil
	}
	return "", fmt.Errorf("chserver: map key of type %T", k)
}

// float32To64 widens through the shortest decimal form, so a Float32 0.1
// reads as 0.1 (what ClickHouse prints) rather than 0.10000000149011612.
func float32To64(f float32) float64 {
	d, err := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	if err != nil { // NaN and ±Inf format as words ParseFloat also reads
		return float64(f)
	}
	return d
}

// ipText prints IPv4 addresses in dotted form even when the driver holds
// them in 16 bytes.
func ipText(ip net.IP) string {
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.String()
}

// clockText prints a Time/Time64 value as ClickHouse does: [-]HHH:MM:SS[.f].
func clockText(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	h, m, s := d/time.Hour, d%time.Hour/time.Minute, d%time.Minute/time.Second
	out := fmt.Sprintf("%s%02d:%02d:%02d", sign, h, m, s)
	if ns := d % time.Second; ns != 0 {
		frac := strconv.FormatFloat(float64(ns)/float64(time.Second), 'f', -1, 64)
		out += frac[1:] // drop the leading "0"
	}
	return out
}
