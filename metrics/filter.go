package metrics

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Op is a filter operator.
type Op string

// The filter operators.
const (
	OpEq         Op = "eq"
	OpNeq        Op = "neq"
	OpIn         Op = "in"
	OpNotIn      Op = "not_in"
	OpGt         Op = "gt"
	OpGte        Op = "gte"
	OpLt         Op = "lt"
	OpLte        Op = "lte"
	OpContains   Op = "contains"
	OpStartsWith Op = "starts_with"
)

// opsByType are the operators each value type allows.
var opsByType = map[ValueType][]Op{
	TypeString:  {OpEq, OpNeq, OpIn, OpNotIn, OpContains, OpStartsWith},
	TypeInt64:   {OpEq, OpNeq, OpIn, OpNotIn, OpGt, OpGte, OpLt, OpLte},
	TypeFloat64: {OpEq, OpNeq, OpIn, OpNotIn, OpGt, OpGte, OpLt, OpLte},
	TypeBool:    {OpEq, OpNeq},
}

// opSQL is the comparison each scalar operator prints, with the dimension
// expression as %[1]s and the bound value as ?.
var opSQL = map[Op]string{
	OpEq: "%s = ?", OpNeq: "%s != ?", OpGt: "%s > ?", OpGte: "%s >= ?", OpLt: "%s < ?", OpLte: "%s <= ?",
	OpIn: "has(?, %s)", OpNotIn: "NOT has(?, %s)",
	OpContains: "position(%s, ?) > 0", OpStartsWith: "startsWith(%s, ?)",
}

// boundFilter is a checked filter with typed arguments.
type boundFilter struct {
	dim  Dimension
	op   Op
	arg  any    // scalar or slice, typed by the dimension
	text string // canonical JSON of the filter, for grouping
}

// bindFilter checks f against the allowed dimensions of def and types its
// values. field names the filter in errors, e.g. "filters[1]".
func bindFilter(op string, field string, f Filter, allowed func(string) (Dimension, bool), allowedNames []string) (boundFilter, error) {
	dim, ok := allowed(f.Dimension)
	if !ok {
		return boundFilter{}, invalid(op, field+".dimension", "%s.dimension %q is not allowed for this metric; use one of %v",
			field, f.Dimension, allowedNames)
	}
	t := dimensionType(dim)
	ops := opsByType[t]
	if !slices.Contains(ops, f.Op) {
		return boundFilter{}, invalid(op, field+".op", "filter %q: operator %q is not allowed for %s; use one of %v",
			f.Dimension, f.Op, t, ops)
	}
	multi := f.Op == OpIn || f.Op == OpNotIn
	switch {
	case multi && len(f.Values) == 0:
		return boundFilter{}, invalid(op, field+".values", "filter %q: %s needs at least one value", f.Dimension, f.Op)
	case !multi && len(f.Values) != 1:
		return boundFilter{}, invalid(op, field+".values", "filter %q: %s needs exactly one value, got %d", f.Dimension, f.Op, len(f.Values))
	}
	arg, err := typedValues(t, f.Values, multi)
	if err != nil {
		return boundFilter{}, invalid(op, field+".values", "filter %q: %v", f.Dimension, err)
	}
	key, _ := json.Marshal(f)
	return boundFilter{dim: dim, op: f.Op, arg: arg, text: string(key)}, nil
}

// typedValues parses text values as t: a scalar, or a slice for multi.
func typedValues(t ValueType, vals []string, multi bool) (any, error) {
	switch t {
	case TypeInt64:
		out := make([]int64, len(vals))
		for i, v := range vals {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not an Int64", v)
			}
			out[i] = n
		}
		if multi {
			return out, nil
		}
		return out[0], nil
	case TypeFloat64:
		out := make([]float64, len(vals))
		for i, v := range vals {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not a number", v)
			}
			out[i] = n
		}
		if multi {
			return out, nil
		}
		return out[0], nil
	case TypeBool:
		b, err := strconv.ParseBool(vals[0])
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", vals[0])
		}
		return b, nil
	}
	if multi {
		return slices.Clone(vals), nil
	}
	return vals[0], nil
}

// sql prints the filter over the dimension expression expr.
func (f boundFilter) sql(expr string) (string, any) {
	return fmt.Sprintf(opSQL[f.op], expr), f.arg
}

// invalid is errs.Invalid with a formatted message.
func invalid(op, field, format string, args ...any) *errs.Error {
	return errs.Invalid(op, field, fmt.Sprintf(format, args...))
}
