package chserver

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// Insert writes in.Rows as one native-protocol batch: the server sends the
// columns' types, each row is appended (values converted to what the
// column takes, see coerce) and the batch is sent as one INSERT, so a
// retried batch with the same in.DedupToken is deduplicated by the server.
// On any error the batch is aborted and nothing is written.
func (b *Backend) Insert(ctx context.Context, in store.Insert) error {
	const op = "chserver.Insert"
	if len(in.Columns) == 0 {
		return errs.E(op, errs.KindInternal, "insert names no columns")
	}
	if len(in.Rows) == 0 {
		return nil
	}
	settings := in.Settings
	if in.DedupToken != "" {
		if _, ok := settings["insert_deduplication_token"]; !ok {
			settings = store.Settings{"insert_deduplication_token": in.DedupToken, "insert_deduplicate": 1}
			for k, v := range in.Settings {
				settings[k] = v
			}
		}
	}
	batch, err := b.conn.PrepareBatch(withSettings(ctx, settings), insertSQL(in.Table, in.Columns))
	if err != nil {
		return classify(ctx, op, err)
	}
	if err := appendRows(batch, in); err != nil {
		_ = batch.Abort()
		return classify(ctx, op, err)
	}
	if err := batch.Send(); err != nil {
		_ = batch.Abort()
		return classify(ctx, op, err)
	}
	return nil
}

// insertSQL is "INSERT INTO `t` (`a`, `b`)": the driver adds the data.
func insertSQL(table string, columns []string) string {
	var sb strings.Builder
	sb.WriteString("INSERT INTO ")
	sb.WriteString(store.QuoteIdent(table))
	sb.WriteString(" (")
	for i, c := range columns {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(store.QuoteIdent(c))
	}
	sb.WriteString(")")
	return sb.String()
}

// appendRows converts and appends every row.
func appendRows(batch driver.Batch, in store.Insert) error {
	cols := batch.Columns()
	if len(cols) != len(in.Columns) {
		return fmt.Errorf("server expects %d columns, insert has %d", len(cols), len(in.Columns))
	}
	types := make([]reflect.Type, len(cols))
	for i, c := range cols {
		types[i] = c.ScanType()
	}
	vals := make([]any, len(cols))
	for r, row := range in.Rows {
		if len(row) != len(cols) {
			return fmt.Errorf("row %d has %d values for %d columns", r, len(row), len(cols))
		}
		for i, v := range row {
			c, err := coerce(v, types[i])
			if err != nil {
				return fmt.Errorf("row %d, column %q (%s): %w", r, in.Columns[i], cols[i].Type(), err)
			}
			vals[i] = c
		}
		if err := batch.Append(vals...); err != nil {
			return fmt.Errorf("row %d: %w", r, err)
		}
	}
	return nil
}

// coerce converts v to the Go type t the column scans into, where the
// driver would refuse v or convert it wrongly: integers of another width
// (range checked: the driver would wrap a negative into a UInt), numbers
// into String columns (as decimal text; the driver would make a rune of
// an int), text into DateTime, and element by element for arrays and
// maps. Values already of type t, NULLs and everything else pass
// unchanged for the driver to judge.
func coerce(v any, t reflect.Type) (any, error) {
	if v == nil || t == nil {
		return v, nil
	}
	if j, ok := v.(store.ValidJSON); ok {
		v = json.RawMessage(j)
	}
	rv := reflect.ValueOf(v)
	if rv.Type() == t {
		return v, nil
	}
	if t.Kind() == reflect.Pointer { // Nullable(T): the driver takes a T
		if rv.Kind() == reflect.Pointer {
			if rv.IsNil() {
				return nil, nil
			}
			return coerce(rv.Elem().Interface(), t)
		}
		return coerce(v, t.Elem())
	}
	switch {
	case isInt(t.Kind()) || isUint(t.Kind()) || isFloat(t.Kind()):
		return coerceNumber(rv, t)
	case t.Kind() == reflect.String:
		return coerceString(v)
	case t.Kind() == reflect.Bool && (isInt(rv.Kind()) || isUint(rv.Kind())):
		return !rv.IsZero(), nil
	case t == reflect.TypeOf(time.Time{}):
		if s, ok := v.(string); ok {
			tm, err := store.ParseTime(s)
			if err != nil {
				return nil, err
			}
			return tm, nil
		}
	case t.Kind() == reflect.Slice && (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array) && t.Elem().Kind() != reflect.Uint8:
		out := reflect.MakeSlice(t, rv.Len(), rv.Len())
		for i := range rv.Len() {
			e, err := coerce(rv.Index(i).Interface(), t.Elem())
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			if err := setValue(out.Index(i), e); err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
		}
		return out.Interface(), nil
	case t.Kind() == reflect.Map && rv.Kind() == reflect.Map:
		out := reflect.MakeMapWithSize(t, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			k, err := coerce(iter.Key().Interface(), t.Key())
			if err != nil {
				return nil, fmt.Errorf("key %v: %w", iter.Key(), err)
			}
			e, err := coerce(iter.Value().Interface(), t.Elem())
			if err != nil {
				return nil, fmt.Errorf("key %v: %w", iter.Key(), err)
			}
			kv, ev := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
			if err := setValue(kv, k); err != nil {
				return nil, err
			}
			if err := setValue(ev, e); err != nil {
				return nil, err
			}
			out.SetMapIndex(kv, ev)
		}
		return out.Interface(), nil
	}
	return v, nil
}

// setValue stores a coerced value into a slice element or map entry.
func setValue(dst reflect.Value, v any) error {
	if v == nil {
		return nil // zero value; NULL inside a container keeps the driver's zero
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.Type().AssignableTo(dst.Type()):
		dst.Set(rv)
	case dst.Kind() == reflect.Pointer && rv.Type().AssignableTo(dst.Type().Elem()):
		p := reflect.New(dst.Type().Elem())
		p.Elem().Set(rv)
		dst.Set(p)
	case dst.Kind() == reflect.Interface:
		dst.Set(rv)
	default:
		return fmt.Errorf("cannot use %T as %s", v, dst.Type())
	}
	return nil
}

// coerceNumber converts between numeric kinds with range checks; text is
// parsed. Booleans become 0 or 1 (ClickHouse's Bool is a UInt8 underneath).
func coerceNumber(rv reflect.Value, t reflect.Type) (any, error) {
	out := reflect.New(t).Elem()
	switch k := rv.Kind(); {
	case isInt(k):
		n := rv.Int()
		switch {
		case isInt(t.Kind()):
			if out.OverflowInt(n) {
				return nil, fmt.Errorf("%d does not fit %s", n, t)
			}
			out.SetInt(n)
		case isUint(t.Kind()):
			if n < 0 || out.OverflowUint(uint64(n)) {
				return nil, fmt.Errorf("%d does not fit %s", n, t)
			}
			out.SetUint(uint64(n))
		default:
			out.SetFloat(float64(n))
		}
	case isUint(k):
		n := rv.Uint()
		switch {
		case isInt(t.Kind()):
			if n > math.MaxInt64 || out.OverflowInt(int64(n)) {
				return nil, fmt.Errorf("%d does not fit %s", n, t)
			}
			out.SetInt(int64(n))
		case isUint(t.Kind()):
			if out.OverflowUint(n) {
				return nil, fmt.Errorf("%d does not fit %s", n, t)
			}
			out.SetUint(n)
		default:
			out.SetFloat(float64(n))
		}
	case isFloat(k):
		f := rv.Float()
		switch {
		case isFloat(t.Kind()):
			out.SetFloat(f)
		case f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f):
			return nil, fmt.Errorf("%v is not an integer", f)
		case isInt(t.Kind()):
			if f < math.MinInt64 || f >= math.MaxInt64 || out.OverflowInt(int64(f)) {
				return nil, fmt.Errorf("%v does not fit %s", f, t)
			}
			out.SetInt(int64(f))
		default:
			if f < 0 || f >= math.MaxUint64 || out.OverflowUint(uint64(f)) {
				return nil, fmt.Errorf("%v does not fit %s", f, t)
			}
			out.SetUint(uint64(f))
		}
	case k == reflect.Bool:
		var n int64
		if rv.Bool() {
			n = 1
		}
		return coerceNumber(reflect.ValueOf(n), t)
	case k == reflect.String:
		s := rv.String()
		switch {
		case isInt(t.Kind()):
			n, err := strconv.ParseInt(s, 10, t.Bits())
			if err != nil {
				return nil, fmt.Errorf("%q is not an integer that fits %s", s, t)
			}
			out.SetInt(n)
		case isUint(t.Kind()):
			n, err := strconv.ParseUint(s, 10, t.Bits())
			if err != nil {
				return nil, fmt.Errorf("%q is not an unsigned integer that fits %s", s, t)
			}
			out.SetUint(n)
		default:
			f, err := strconv.ParseFloat(s, t.Bits())
			if err != nil {
				return nil, fmt.Errorf("%q is not a number", s)
			}
			out.SetFloat(f)
		}
	default:
		return rv.Interface(), nil // let the driver judge (e.g. decimal types)
	}
	return out.Interface(), nil
}

// coerceString renders numbers and booleans as ClickHouse prints them;
// other values pass unchanged.
func coerceString(v any) (any, error) {
	rv := reflect.ValueOf(v)
	switch k := rv.Kind(); {
	case k == reflect.String:
		return rv.String(), nil
	case isInt(k):
		return strconv.FormatInt(rv.Int(), 10), nil
	case isUint(k):
		return strconv.FormatUint(rv.Uint(), 10), nil
	case k == reflect.Float32:
		return strconv.FormatFloat(rv.Float(), 'g', -1, 32), nil
	case k == reflect.Float64:
		return strconv.FormatFloat(rv.Float(), 'g', -1, 64), nil
	case k == reflect.Bool:
		return strconv.FormatBool(rv.Bool()), nil
	}
	return v, nil
}

func isInt(k reflect.Kind) bool {
	return k == reflect.Int || k == reflect.Int8 || k == reflect.Int16 || k == reflect.Int32 || k == reflect.Int64
}

func isUint(k reflect.Kind) bool {
	return k == reflect.Uint || k == reflect.Uint8 || k == reflect.Uint16 || k == reflect.Uint32 || k == reflect.Uint64
}

func isFloat(k reflect.Kind) bool { return k == reflect.Float32 || k == reflect.Float64 }
