package journeys

import (
	"slices"
	"strconv"
	"strings"

	"github.com/learnhub/analytics-service/cohorts/membership"
	"github.com/learnhub/analytics-service/store"
)

// numericSymbols are the comparisons of the number operators.
var numericSymbols = map[Op]string{OpGt: ">", OpGte: ">=", OpLt: "<", OpLte: "<="}

// sqlText is SQL with its `?` arguments in printing order.
type sqlText struct {
	b    strings.Builder
	args []any
}

func (q *sqlText) add(text string, args ...any) *sqlText {
	q.b.WriteString(text)
	q.args = append(q.args, args...)
	return q
}

func (q *sqlText) String() string { return q.b.String() }

// bind appends v as an argument and returns its placeholder.
func (q *sqlText) bind(v any) string {
	q.args = append(q.args, v)
	return "?"
}

func numeric(op Op) bool { _, ok := numericSymbols[op]; return ok }

func parseNumber(s string) (float64, error) { return strconv.ParseFloat(strings.TrimSpace(s), 64) }

// propertyText reads a top-level property as text (NULL when absent).
func propertyText(name string) string {
	return "accurateCastOrNull(" + store.QuoteIdent("properties") + "." + store.QuoteIdent(name) + ", 'String')"
}

// matchSQL is the condition "the row matches m", binding into q's args in
// order. m is already validated.
func matchSQL(q *sqlText, m Matcher) string {
	parts := []string{"type = " + q.bind(m.EventType)}
	for _, f := range m.Filters {
		text := propertyText(f.Property)
		var c string
		switch f.Op {
		case OpEq:
			c = text + " = " + q.bind(f.Values[0])
		case OpNeq:
			c = text + " != " + q.bind(f.Values[0])
		case OpIn:
			c = "has(" + q.bind(slices.Clone(f.Values)) + ", " + text + ")"
		case OpNotIn:
			c = "NOT has(" + q.bind(slices.Clone(f.Values)) + ", " + text + ")"
		case OpContains:
			c = "position(" + text + ", " + q.bind(f.Values[0]) + ") > 0"
		default:
			n, _ := parseNumber(f.Values[0])
			c = "toFloat64OrNull(" + text + ") " + numericSymbols[f.Op] + " " + q.bind(n)
		}
		parts = append(parts, "ifNull("+c+", 0)")
	}
	return "(" + strings.Join(parts, " AND ") + ")"
}

// matches is matchSQL in Go, for the reference evaluator.
func (m Matcher) matches(e Event) bool {
	if e.Type != m.EventType {
		return false
	}
	for _, f := range m.Filters {
		v, ok := e.Props[f.Property]
		if !ok {
			return false
		}
		var hold bool
		switch f.Op {
		case OpEq:
			hold = v == f.Values[0]
		case OpNeq:
			hold = v != f.Values[0]
		case OpIn:
			hold = slices.Contains(f.Values, v)
		case OpNotIn:
			hold = !slices.Contains(f.Values, v)
		case OpContains:
			hold = strings.Contains(v, f.Values[0])
		default:
			a, err1 := parseNumber(v)
			b, _ := parseNumber(f.Values[0])
			if err1 != nil {
				return false
			}
			hold = map[Op]bool{OpGt: a > b, OpGte: a >= b, OpLt: a < b, OpLte: a <= b}[f.Op]
		}
		if !hold {
			return false
		}
	}
	return true
}

// eventsWhere prints the conditions every journey scan starts with: the
// tenant guard first, the time range, a user, and the cohorts (a user in
// any of them).
func eventsWhere(q *sqlText, scope store.Scope, from, to any, cohorts []string) {
	guard, tenant := scope.Predicate("")
	q.add(guard, tenant)
	q.add(" AND occurred_at >= ? AND occurred_at < ? AND user_id != ''", from, to)
	if len(cohorts) == 0 {
		return
	}
	q.add(" AND (")
	for i, id := range cohorts {
		if i > 0 {
			q.add(" OR ")
		}
		frag, args := membership.Filter(scope, id)
		q.add(frag, args...)
	}
	q.add(")")
}
