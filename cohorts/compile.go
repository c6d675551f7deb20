package cohorts

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/cohorts/membership"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// maxDepth bounds the criteria tree.
const maxDepth = 8

// compileOp names the operation of criteria errors.
const compileOp = "cohorts.criteria"

var (
	eventTypeRe = regexp.MustCompile(`^[a-z0-9_.]{1,64}$`)
	propertyRe  = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,63}$`)
	// opAliases maps every accepted spelling to the canonical operator.
	opAliases = map[string]string{
		"gte": "gte", ">=": "gte", "gt": "gt", ">": "gt", "eq": "eq", "=": "eq", "==": "eq",
		"lt": "lt", "<": "lt", "lte": "lte", "<=": "lte", "neq": "neq", "!=": "neq", "contains": "contains",
	}
	// opSymbols is the SQL comparison of each canonical operator.
	opSymbols = map[string]string{"gte": ">=", "gt": ">", "eq": "=", "lt": "<", "lte": "<=", "neq": "!="}
	// metricAggregates are the metric kinds a per-user threshold allows.
	metricAggregates = map[metrics.Kind]string{
		metrics.KindCount: "count", metrics.KindSum: "sum", metrics.KindAvg: "avg", metrics.KindMin: "min", metrics.KindMax: "max",
	}
)

// compiler turns a criteria tree into a HAVING expression over one GROUP BY
// user_id scan of the tenant's events, with every value bound.
type compiler struct {
	scope   store.Scope
	now     time.Time
	metrics map[string]*metrics.Definition
	args    []any
	refs    []string // cohorts referenced by InCohort
}

// membersSQL is the statement selecting the user ids of c at now; defs
// holds the metrics the tree's Metric nodes name (a missing one is an
// error naming the node). It also returns the cohorts c refers to.
func membersSQL(scope store.Scope, c *Criteria, now time.Time, defs map[string]*metrics.Definition) (string, []any, []string, error) {
	guard, tenant := scope.Predicate("")
	cp := &compiler{scope: scope, now: now.UTC(), metrics: defs}
	having, err := cp.node(*c, "criteria", 0)
	if err != nil {
		return "", nil, nil, err
	}
	where, args := guard+" AND user_id != ''", []any{tenant}
	if types, ok := narrowing(*c); ok {
		where += " AND type IN ?"
		args = append(args, types)
	}
	sql := "SELECT user_id FROM " + store.QuoteIdent("events") + " FINAL WHERE " + where + " GROUP BY user_id HAVING " + having
	return sql, append(args, cp.args...), cp.refs, nil
}

// narrowing returns the event types a tree reads when the scan may skip
// every other event: when each leaf counts events of one type (performed,
// didNotPerform) and a user with none of those events is not a member.
// Such a user's row would only have zero counts, so dropping it changes
// nothing, while the scan reads (type leads the sort key after the tenant)
// only the granules of those types. Trees with other leaves, or that hold
// for a user without events ("didNotPerform X" alone), scan everything.
func narrowing(c Criteria) ([]string, bool) {
	var types []string
	atZero, ok := zeroValue(c, &types)
	if !ok || atZero {
		return nil, false
	}
	slices.Sort(types)
	return slices.Compact(types), true
}

// zeroValue is the tree's value for a user whose counts are all zero,
// collecting the event types of its leaves; ok is false for a leaf that
// is not a per-type count (or an invalid tree, which the compiler refuses).
func zeroValue(c Criteria, types *[]string) (value, ok bool) {
	switch {
	case len(c.And) > 0, len(c.Or) > 0:
		kids, and := c.And, len(c.And) > 0
		if !and {
			kids = c.Or
		}
		value = and
		for _, k := range kids {
			v, ok := zeroValue(k, types)
			if !ok {
				return false, false
			}
			if and {
				value = value && v
			} else {
				value = value || v
			}
		}
		return value, true
	case c.Not != nil:
		v, ok := zeroValue(*c.Not, types)
		return !v, ok
	case c.Performed != nil:
		op, err := comparison(c.Performed.Op, "op", false)
		if err != nil {
			return false, false
		}
		*types = append(*types, c.Performed.Type)
		n := c.Performed.Count
		return map[string]bool{"gte": 0 >= n, "gt": 0 > n, "eq": n == 0, "lt": 0 < n, "lte": 0 <= n}[op], true
	case c.DidNotPerform != nil:
		*types = append(*types, c.DidNotPerform.Type)
		return true, true
	}
	return false, false
}

func (cp *compiler) bind(v any) string {
	cp.args = append(cp.args, v)
	return "?"
}

func (cp *compiler) node(c Criteria, path string, depth int) (string, error) {
	if depth > maxDepth {
		return "", errs.Invalid(compileOp, path, fmt.Sprintf("%s: criteria nest deeper than %d levels", path, maxDepth))
	}
	set := 0
	for _, b := range []bool{len(c.And) > 0, len(c.Or) > 0, c.Not != nil, c.Performed != nil, c.DidNotPerform != nil,
		c.FirstSeen != nil, c.LastSeen != nil, c.Property != nil, c.Metric != nil, c.InCohort != ""} {
		if b {
			set++
		}
	}
	if set != 1 {
		return "", errs.Invalid(compileOp, path, path+": give exactly one of and, or, not, performed, didNotPerform, "+
			"firstSeen, lastSeen, property, metric, inCohort")
	}
	switch {
	case len(c.And) > 0, len(c.Or) > 0:
		kids, word, name := c.And, " AND ", "and"
		if len(c.Or) > 0 {
			kids, word, name = c.Or, " OR ", "or"
		}
		parts := make([]string, len(kids))
		for i, k := range kids {
			p, err := cp.node(k, fmt.Sprintf("%s.%s[%d]", path, name, i), depth+1)
			if err != nil {
				return "", err
			}
			parts[i] = p
		}
		return "(" + strings.Join(parts, word) + ")", nil
	case c.Not != nil:
		p, err := cp.node(*c.Not, path+".not", depth+1)
		if err != nil {
			return "", err
		}
		return "(NOT " + p + ")", nil
	case c.Performed != nil:
		return cp.performed(*c.Performed, path+".performed", false)
	case c.DidNotPerform != nil:
		return cp.performed(*c.DidNotPerform, path+".didNotPerform", true)
	case c.FirstSeen != nil:
		return cp.seen(*c.FirstSeen, "min", path+".firstSeen")
	case c.LastSeen != nil:
		return cp.seen(*c.LastSeen, "max", path+".lastSeen")
	case c.Property != nil:
		return cp.property(*c.Property, path+".property")
	case c.Metric != nil:
		return cp.metric(*c.Metric, path+".metric")
	default:
		cp.refs = append(cp.refs, c.InCohort)
		frag, args := membership.Filter(cp.scope, c.InCohort)
		cp.args = append(cp.args, args...)
		return "(" + frag + ")", nil
	}
}

func (cp *compiler) performed(p Performed, path string, absent bool) (string, error) {
	if !eventTypeRe.MatchString(p.Type) {
		return "", errs.Invalid(compileOp, path+".type", fmt.Sprintf("%s.type %q is not an event type such as lesson.completed", path, p.Type))
	}
	sym := "="
	if absent {
		if p.Op != "" || p.Count != 0 {
			return "", errs.Invalid(compileOp, path+".count", path+": didNotPerform takes no op or count (it means count = 0)")
		}
	} else {
		op, err := comparison(p.Op, path+".op", false)
		if err != nil {
			return "", err
		}
		sym = opSymbols[op]
		if p.Count < 0 {
			return "", errs.Invalid(compileOp, path+".count", path+".count must be 0 or more")
		}
	}
	cond := "type = " + cp.bind(p.Type)
	win, err := cp.window(p.Within, p.Between, path)
	if err != nil {
		return "", err
	}
	cond += win
	keys := make([]string, 0, len(p.Where))
	for k := range p.Where {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		c, err := cp.propertyFilter(PropertyFilter{Property: k, Op: "eq", Value: p.Where[k]}, path+".where."+k)
		if err != nil {
			return "", err
		}
		cond += " AND " + c
	}
	for i, f := range p.Filters {
		c, err := cp.propertyFilter(f, fmt.Sprintf("%s.filters[%d]", path, i))
		if err != nil {
			return "", err
		}
		cond += " AND " + c
	}
	return "(countIf(" + cond + ") " + sym + " " + cp.bind(int64(p.Count)) + ")", nil
}

// propertyFilter compiles one property comparison; a missing property
// never matches.
func (cp *compiler) propertyFilter(f PropertyFilter, path string) (string, error) {
	if !propertyRe.MatchString(f.Property) {
		return "", errs.Invalid(compileOp, path+".property", fmt.Sprintf("%s: %q is not a property name (lower case letters, digits, _)", path, f.Property))
	}
	op, ok := opAliases[f.Op]
	if !ok {
		return "", errs.Invalid(compileOp, path+".op", fmt.Sprintf("%s.op %q: use eq, neq, gt, gte, lt, lte or contains", path, f.Op))
	}
	return cp.compare(propertyText(f.Property), op, f.Value, path)
}

// compare is ifNull(expr op value, 0) for a text expression: eq, neq and
// contains compare text, the others numbers.
func (cp *compiler) compare(text, op, value, path string) (string, error) {
	switch op {
	case "eq", "neq":
		return "ifNull(" + text + " " + opSymbols[op] + " " + cp.bind(value) + ", 0)", nil
	case "contains":
		return "ifNull(position(" + text + ", " + cp.bind(value) + ") > 0, 0)", nil
	}
	n, err := strconv.ParseFloat(value, 64)
	if err != nil {
		return "", errs.Invalid(compileOp, path+".value", fmt.Sprintf("%s.value %q must be a number for %s", path, value, op))
	}
	return "ifNull(toFloat64OrNull(" + text + ") " + opSymbols[op] + " " + cp.bind(n) + ", 0)", nil
}

// propertyText reads a top-level property as text (NULL when absent).
func propertyText(name string) string {
	return "accurateCastOrNull(" + store.QuoteIdent("properties") + "." + store.QuoteIdent(name) + ", 'String')"
}

// window is the occurred_at condition of a window (" AND …"), or "".
func (cp *compiler) window(within string, between *Between, path string) (string, error) {
	switch {
	case within != "" && between != nil:
		return "", errs.Invalid(compileOp, path+".within", path+": give within or between, not both")
	case within != "":
		d, err := timerange.ParseLast(within)
		if err != nil {
			return "", errs.Invalid(compileOp, path+".within", fmt.Sprintf("%s.within: %v", path, err))
		}
		return " AND occurred_at >= " + cp.bind(cp.now.Add(-d)), nil
	case between != nil:
		from, err1 := time.Parse(time.RFC3339, between.From)
		to, err2 := time.Parse(time.RFC3339, between.To)
		if err1 != nil || err2 != nil || !from.Before(to) {
			return "", errs.Invalid(compileOp, path+".between", path+".between: from and to must be RFC 3339 times with from before to")
		}
		return " AND occurred_at >= " + cp.bind(from.UTC()) + " AND occurred_at < " + cp.bind(to.UTC()), nil
	}
	return "", nil
}

func (cp *compiler) seen(s Seen, agg, path string) (string, error) {
	if (s.Before == "") == (s.After == "") {
		return "", errs.Invalid(compileOp, path, path+": give exactly one of before or after")
	}
	raw, sym, field := s.Before, "<", path+".before"
	if s.After != "" {
		raw, sym, field = s.After, ">=", path+".after"
	}
	at, err := cp.moment(raw)
	if err != nil {
		return "", errs.Invalid(compileOp, field, fmt.Sprintf("%s: %q is neither an RFC 3339 time nor a window such as 30d", field, raw))
	}
	return "(" + agg + "(occurred_at) " + sym + " " + cp.bind(at) + ")", nil
}

func (cp *compiler) moment(raw string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t.UTC(), nil
	}
	d, err := timerange.ParseLast(raw)
	if err != nil {
		return time.Time{}, err
	}
	return cp.now.Add(-d), nil
}

// property compares the latest value of a property: the value on the
// user's newest event carrying it.
func (cp *compiler) property(p PropertyValue, path string) (string, error) {
	if !propertyRe.MatchString(p.Property) {
		return "", errs.Invalid(compileOp, path+".property", fmt.Sprintf("%s.property %q is not a property name (lower case letters, digits, _)", path, p.Property))
	}
	op, ok := opAliases[p.Op]
	if !ok || op == "contains" {
		return "", errs.Invalid(compileOp, path+".op", fmt.Sprintf("%s.op %q: use eq, neq, gt, gte, lt or lte", path, p.Op))
	}
	text := propertyText(p.Property)
	has := "isNotNull(" + text + ")"
	if p.Type != "" {
		if !eventTypeRe.MatchString(p.Type) {
			return "", errs.Invalid(compileOp, path+".type", fmt.Sprintf("%s.type %q is not an event type such as lesson.completed", path, p.Type))
		}
		has += " AND type = " + cp.bind(p.Type)
	}
	// The condition is bound twice (count and argMax), in printing order.
	hasArgs := append([]any{}, cp.args[len(cp.args)-countPlaceholders(has):]...)
	cp.args = append(cp.args, hasArgs...)
	cmp, err := cp.compare("argMaxIf("+text+", occurred_at, "+has+")", op, p.Value, path)
	if err != nil {
		return "", err
	}
	return "(countIf(" + has + ") > 0 AND " + cmp + ")", nil
}

func countPlaceholders(s string) int { return strings.Count(s, "?") }

// metric compiles a per-user aggregate of a registry metric.
func (cp *compiler) metric(m MetricThreshold, path string) (string, error) {
	d, ok := cp.metrics[m.Key]
	if !ok {
		return "", errs.Invalid(compileOp, path+".key", fmt.Sprintf("%s.key: metric %q does not exist", path, m.Key))
	}
	agg, ok := metricAggregates[d.Kind]
	if !ok {
		return "", errs.Invalid(compileOp, path+".key", fmt.Sprintf("%s.key: metric %q is %s; a per-user threshold needs a COUNT, SUM, AVG, MIN or MAX metric", path, m.Key, d.Kind))
	}
	op, err := comparison(m.Op, path+".op", true)
	if err != nil {
		return "", err
	}
	var conds []string
	if len(d.EventTypes) > 0 {
		conds = append(conds, "has("+cp.bind(d.EventTypes)+", type)")
	}
	win, err := cp.window(m.Within, m.Between, path)
	if err != nil {
		return "", err
	}
	if win != "" {
		conds = append(conds, strings.TrimPrefix(win, " AND "))
	}
	for i, f := range d.Filters {
		c, err := cp.metricFilter(d, f, fmt.Sprintf("%s.key(filters[%d])", path, i))
		if err != nil {
			return "", err
		}
		conds = append(conds, c)
	}
	cond := "1"
	if len(conds) > 0 {
		cond = strings.Join(conds, " AND ")
	}
	if agg == "count" {
		return "(countIf(" + cond + ") " + opSymbols[op] + " " + cp.bind(m.Value) + ")", nil
	}
	if d.Value == nil {
		return "", errs.Invalid(compileOp, path+".key", fmt.Sprintf("%s.key: metric %q has no value path", path, m.Key))
	}
	value, err := cp.valuePath(d.Value.Path, metrics.TypeFloat64, path)
	if err != nil {
		return "", err
	}
	condArgs := countPlaceholders(cond)
	if d.Value.Scale != 0 && d.Value.Scale != 1 {
		// The scale's argument comes before the condition's in the printed SQL.
		moved := append([]any{}, cp.args[len(cp.args)-condArgs:]...)
		cp.args = append(cp.args[:len(cp.args)-condArgs], d.Value.Scale)
		cp.args = append(cp.args, moved...)
		value += " * ?"
	}
	expr := agg + "If(" + value + ", " + cond + ")"
	if agg == "sum" {
		expr = "ifNull(" + expr + ", 0)"
	}
	return "ifNull(" + expr + " " + opSymbols[op] + " " + cp.bind(m.Value) + ", 0)", nil
}

// metricFilter compiles one of a metric's own filters (already validated
// by the registry) over the event row.
func (cp *compiler) metricFilter(d *metrics.Definition, f metrics.Filter, path string) (string, error) {
	t := f.Type
	if t == "" {
		t = metrics.TypeString
		for _, dim := range d.Dimensions {
			if dim.Path == f.Dimension && dim.Type != "" {
				t = dim.Type
			}
		}
	}
	expr, err := cp.valuePath(f.Dimension, t, path)
	if err != nil {
		return "", err
	}
	if t == metrics.TypeString {
		expr = "ifNull(" + expr + ", '')"
	}
	vals := make([]any, len(f.Values))
	for i, v := range f.Values {
		x, err := typed(t, v)
		if err != nil {
			return "", errs.Invalid(compileOp, path, fmt.Sprintf("%s: value %q is not a %s", path, v, t))
		}
		vals[i] = x
	}
	if len(vals) == 0 {
		return "", errs.Invalid(compileOp, path, path+": the metric filter has no value")
	}
	switch f.Op {
	case metrics.OpIn, metrics.OpNotIn:
		neg := ""
		if f.Op == metrics.OpNotIn {
			neg = "NOT "
		}
		return "ifNull(" + neg + "has(" + cp.bind(vals) + ", " + expr + "), 0)", nil
	case metrics.OpContains:
		return "ifNull(position(" + expr + ", " + cp.bind(vals[0]) + ") > 0, 0)", nil
	case metrics.OpStartsWith:
		return "ifNull(startsWith(" + expr + ", " + cp.bind(vals[0]) + "), 0)", nil
	}
	sym, ok := opSymbols[string(f.Op)]
	if !ok {
		return "", errs.Invalid(compileOp, path, fmt.Sprintf("%s: operator %q is not supported in a cohort", path, f.Op))
	}
	return "ifNull(" + expr + " " + sym + " " + cp.bind(vals[0]) + ", 0)", nil
}

// valuePath reads an event column or a properties.a.b path as type t.
func (cp *compiler) valuePath(p string, t metrics.ValueType, path string) (string, error) {
	switch p {
	case "type", "user_id", "session_id":
		return store.QuoteIdent(p), nil
	}
	segs := strings.Split(p, ".")
	if len(segs) < 2 || segs[0] != "properties" {
		return "", errs.Invalid(compileOp, path, fmt.Sprintf("%s: %q is not an event column or properties path", path, p))
	}
	for i, s := range segs {
		if !propertyRe.MatchString(s) {
			return "", errs.Invalid(compileOp, path, fmt.Sprintf("%s: %q is not a property path", path, p))
		}
		segs[i] = store.QuoteIdent(s)
	}
	return "accurateCastOrNull(" + strings.Join(segs, ".") + ", " + store.QuoteString(string(t)) + ")", nil
}

// typed parses a filter value as t.
func typed(t metrics.ValueType, v string) (any, error) {
	switch t {
	case metrics.TypeInt64:
		return strconv.ParseInt(v, 10, 64)
	case metrics.TypeFloat64:
		return strconv.ParseFloat(v, 64)
	case metrics.TypeBool:
		return strconv.ParseBool(v)
	}
	return v, nil
}

// comparison canonicalises a count or threshold operator; empty means gte
// unless required.
func comparison(op, field string, required bool) (string, error) {
	if op == "" && !required {
		return "gte", nil
	}
	c, ok := opAliases[op]
	if !ok || c == "neq" || c == "contains" {
		return "", errs.Invalid(compileOp, field, fmt.Sprintf("%s %q: use gte, gt, eq, lt or lte (or >=, >, =, <, <=)", field, op))
	}
	return c, nil
}
