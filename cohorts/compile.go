package cohorts

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// maxDepth bounds the criteria tree.
const maxDepth = 8

var (
	eventTypeRe = regexp.MustCompile(`^[a-z0-9_.]{1,64}$`)
	propertyRe  = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,63}$`)
)

// compiler turns a criteria tree into a HAVING expression over one GROUP BY
// user_id scan of the tenant's events, with every value bound.
type compiler struct {
	now  time.Time
	args []any
	refs []string // cohorts referenced by InCohort
	// guard is the tenant predicate repeated inside InCohort subqueries.
	guard  string
	tenant any
}

// membersSQL is the statement selecting the user ids of c at now.
func membersSQL(scope store.Scope, c *Criteria, now time.Time) (string, []any, []string, error) {
	guard, tenant := scope.Predicate("")
	cp := &compiler{now: now, guard: guard, tenant: tenant}
	having, err := cp.node(*c, "criteria", 0)
	if err != nil {
		return "", nil, nil, err
	}
	sql := "SELECT user_id FROM " + store.QuoteIdent("events") + " FINAL WHERE " + guard +
		" AND user_id != '' GROUP BY user_id HAVING " + having
	return sql, append([]any{tenant}, cp.args...), cp.refs, nil
}

func (cp *compiler) bind(v any) string {
	cp.args = append(cp.args, v)
	return "?"
}

func (cp *compiler) node(c Criteria, path string, depth int) (string, error) {
	const op = "cohorts.criteria"
	if depth > maxDepth {
		return "", errs.Invalid(op, path, fmt.Sprintf("%s: criteria nest deeper than %d levels", path, maxDepth))
	}
	set := 0
	for _, b := range []bool{len(c.And) > 0, len(c.Or) > 0, c.Not != nil, c.Performed != nil, c.FirstSeen != nil, c.LastSeen != nil, c.InCohort != ""} {
		if b {
			set++
		}
	}
	if set != 1 {
		return "", errs.Invalid(op, path, path+": give exactly one of and, or, not, performed, firstSeen, lastSeen, inCohort")
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
		return cp.performed(*c.Performed, path+".performed")
	case c.FirstSeen != nil:
		return cp.seen(*c.FirstSeen, "min", path+".firstSeen")
	case c.LastSeen != nil:
		return cp.seen(*c.LastSeen, "max", path+".lastSeen")
	default:
		cp.refs = append(cp.refs, c.InCohort)
		cp.args = append(cp.args, cp.tenant, c.InCohort, cp.tenant, c.InCohort)
		return "(user_id IN (SELECT user_id FROM " + store.QuoteIdent("cohort_users") + " WHERE " + cp.guard +
			" AND cohort_id = ? AND version = (SELECT max(version) FROM " + store.QuoteIdent("cohort_evaluations") +
			" FINAL WHERE " + cp.guard + " AND cohort_id = ? AND error = '')))", nil
	}
}

var ops = map[string]string{"gte": ">=", "gt": ">", "eq": "=", "lt": "<", "lte": "<="}

func (cp *compiler) performed(p Performed, path string) (string, error) {
	const op = "cohorts.criteria"
	if !eventTypeRe.MatchString(p.Type) {
		return "", errs.Invalid(op, path+".type", fmt.Sprintf("%s.type %q is not an event type such as lesson.completed", path, p.Type))
	}
	if p.Op == "" {
		p.Op = "gte"
	}
	sym, ok := ops[p.Op]
	if !ok {
		return "", errs.Invalid(op, path+".op", fmt.Sprintf("%s.op %q: use gte, gt, eq, lt or lte", path, p.Op))
	}
	if p.Count < 0 {
		return "", errs.Invalid(op, path+".count", path+".count must be 0 or more")
	}
	cond := "type = " + cp.bind(p.Type)
	if p.Within != "" {
		d, err := timerange.ParseLast(p.Within)
		if err != nil {
			return "", errs.Invalid(op, path+".within", fmt.Sprintf("%s.within: %v", path, err))
		}
		cond += " AND occurred_at >= " + cp.bind(cp.now.Add(-d))
	}
	keys := make([]string, 0, len(p.Where))
	for k := range p.Where {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !propertyRe.MatchString(k) {
			return "", errs.Invalid(op, path+".where", fmt.Sprintf("%s.where: %q is not a property name (lower case letters, digits, _)", path, k))
		}
		cond += " AND toString(properties." + store.QuoteIdent(k) + ") = " + cp.bind(p.Where[k])
	}
	return "(countIf(" + cond + ") " + sym + " " + cp.bind(int64(p.Count)) + ")", nil
}

func (cp *compiler) seen(s Seen, agg, path string) (string, error) {
	const op = "cohorts.criteria"
	if (s.Before == "") == (s.After == "") {
		return "", errs.Invalid(op, path, path+": give exactly one of before or after")
	}
	raw, sym, field := s.Before, "<", path+".before"
	if s.After != "" {
		raw, sym, field = s.After, ">=", path+".after"
	}
	at, err := cp.moment(raw)
	if err != nil {
		return "", errs.Invalid(op, field, fmt.Sprintf("%s: %q is neither an RFC 3339 time nor a window such as 30d", field, raw))
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
