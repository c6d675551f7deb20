package store

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store/sqltext"
)

// Param is one server-side query parameter: the statement refers to it as
// {Name:Type} and the engine parses Value (ClickHouse's escaped text form)
// after the statement was parsed, so a value can never change the statement.
type Param struct {
	Name  string
	Type  string
	Value string
}

// NamedParams rewrites the `?` placeholders of sql into typed server-side
// parameters {p0:Type}, {p1:Type}, … and returns their values. `?` inside
// string literals, quoted identifiers and comments is left alone.
func NamedParams(sql string, args []any) (string, []Param, error) {
	const op = "store.NamedParams"
	var (
		b      strings.Builder
		params = make([]Param, 0, len(args))
	)
	b.Grow(len(sql) + 16*len(args))
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			end := sqltext.QuotedEnd(sql, i)
			b.WriteString(sql[i:end])
			i = end - 1
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-', c == '#':
			end := strings.IndexByte(sql[i:], '\n')
			if end < 0 {
				end = len(sql) - i
			}
			b.WriteString(sql[i : i+end])
			i += end - 1
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return "", nil, errs.E(op, errs.KindInternal, "unterminated comment in statement")
			}
			b.WriteString(sql[i : i+2+end+2])
			i += 2 + end + 1
		case c == '?':
			n := len(params)
			if n >= len(args) {
				return "", nil, errs.E(op, errs.KindInternal, fmt.Sprintf("statement has more placeholders than the %d arguments", len(args)))
			}
			p, err := paramFor(fmt.Sprintf("p%d", n), args[n])
			if err != nil {
				return "", nil, errs.Wrap(op, errs.KindInternal, err, "")
			}
			params = append(params, p)
			fmt.Fprintf(&b, "{%s:%s}", p.Name, p.Type)
		default:
			b.WriteByte(c)
		}
	}
	if len(params) != len(args) {
		return "", nil, errs.E(op, errs.KindInternal, fmt.Sprintf("statement has %d placeholders but %d arguments", len(params), len(args)))
	}
	return b.String(), params, nil
}

// paramFor types one argument. Times travel as DateTime64(3, 'UTC').
func paramFor(name string, v any) (Param, error) {
	p := Param{Name: name}
	var b strings.Builder
	switch x := v.(type) {
	case nil:
		p.Type, p.Value = "Nullable(String)", `\N`
		return p, nil
	case string:
		p.Type = "String"
		sqltext.WriteEscaped(&b, x, false)
		p.Value = b.String()
		return p, nil
	case []byte:
		p.Type = "String"
		sqltext.WriteEscaped(&b, string(x), false)
		p.Value = b.String()
		return p, nil
	case bool:
		p.Type, p.Value = "Bool", strconv.FormatBool(x)
		return p, nil
	case time.Time:
		p.Type, p.Value = "DateTime64(3, 'UTC')", formatTime(x)
		return p, nil
	case []string:
		p.Type = "Array(String)"
		b.WriteByte('[')
		for i, s := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('\'')
			sqltext.WriteEscaped(&b, s, true)
			b.WriteByte('\'')
		}
		b.WriteByte(']')
		p.Value = b.String()
		return p, nil
	case []int64:
		p.Type, p.Value = "Array(Int64)", joinNums(x, func(n int64) string { return strconv.FormatInt(n, 10) })
		return p, nil
	case []uint64:
		p.Type, p.Value = "Array(UInt64)", joinNums(x, func(n uint64) string { return strconv.FormatUint(n, 10) })
		return p, nil
	case []float64:
		p.Type, p.Value = "Array(Float64)", joinNums(x, formatFloat)
		return p, nil
	}
	if n, ok := AsInt64(v); ok {
		p.Type, p.Value = "Int64", strconv.FormatInt(n, 10)
		return p, nil
	}
	if n, ok := AsUint64(v); ok {
		p.Type, p.Value = "UInt64", strconv.FormatUint(n, 10)
		return p, nil
	}
	switch x := v.(type) {
	case float64:
		p.Type, p.Value = "Float64", formatFloat(x)
		return p, nil
	case float32:
		p.Type, p.Value = "Float64", formatFloat(float64(x))
		return p, nil
	}
	return Param{}, fmt.Errorf("argument %s has unsupported type %T", name, v)
}

func joinNums[T any](xs []T, f func(T) string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = f(x)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// formatTime renders t in UTC with millisecond precision, the form
// DateTime64(3, 'UTC') reads.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.000")
}

// AsInt64 is v as an int64 when it is a Go signed integer; backends use
// it to encode insert values.
func AsInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

// AsUint64 is v as a uint64 when it is a Go unsigned integer.
func AsUint64(v any) (uint64, bool) {
	switch x := v.(type) {
	case uint:
		return uint64(x), true
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	}
	return 0, false
}
