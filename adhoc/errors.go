package adhoc

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/learnhub/analytics-service/adhoc/sqlparse"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// engineHints are client-safe explanations of the engine errors a wrong
// (but safe) query causes. The engine's own text is never shown: it may
// quote SQL or paths.
var engineHints = map[int]string{
	1:   "the query uses a feature ClickHouse does not support in this position",
	6:   "a value could not be parsed; check literal formats",
	10:  "a column the query needs is not available at that point; check GROUP BY and aliases",
	16:  "a column the query names does not exist",
	27:  "a value could not be parsed; check literal formats",
	35:  "a function got too few arguments",
	34:  "a function got too many arguments",
	36:  "a function got a bad argument value",
	38:  "a date could not be parsed; write dates as 'YYYY-MM-DD'",
	41:  "a date-time could not be parsed; write them as 'YYYY-MM-DD hh:mm:ss'",
	42:  "a function got the wrong number of arguments",
	43:  "a function got an argument of the wrong type; check the types, e.g. with toTypeName()",
	44:  "a function needs a constant where the query gives a column, or the reverse",
	46:  "the query calls a function this ClickHouse version does not have",
	47:  "the query names a column or alias that does not exist; the events table has tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties",
	48:  "the query uses a construct ClickHouse does not implement (e.g. a correlated subquery)",
	53:  "two values have incompatible types; cast one of them",
	62:  "ClickHouse could not parse the printed query; simplify the construct near the reported position",
	69:  "an argument is out of range",
	70:  "a value cannot be converted to the requested type",
	153: "division by zero",
	167: "the query is too deeply nested; simplify it",
	168: "the query is too large; simplify it",
	306: "the query is too deeply nested; simplify it",
	179: "two different expressions share one alias",
	184: "an aggregate function is used inside another aggregate or in WHERE; move it to HAVING or a subquery",
	190: "arrays of different sizes were combined",
	206: "a joined subquery needs an alias: write JOIN (SELECT …) AS name",
	215: "a column is neither aggregated nor in GROUP BY",
	352: "a column name is ambiguous; qualify it with its table alias",
	386: "the values have no common type; cast them to one type",
	407: "a decimal value overflowed",
}

var unknownIdentRe = regexp.MustCompile("Unknown (?:expression(?: or function)? )?identifier `([^`]{1,64})`")

// syntaxError turns a parse or refusal error into BAD_USER_INPUT with
// line and column in the GraphQL extensions.
func syntaxError(op string, err error) error {
	var pe *sqlparse.Error
	if errors.As(err, &pe) {
		return errs.Wrap(op, errs.KindInvalid, err, pe.Error()).
			With("line", pe.Pos.Line).With("column", pe.Pos.Col)
	}
	return errs.Wrap(op, errs.KindInternal, err, "")
}

// engineError classifies an engine failure of a printed query. Errors
// the caller can fix become BAD_USER_INPUT with a hint; limits keep the
// kind the store gave them; anything else stays INTERNAL.
func engineError(op string, err error) error {
	var ex *store.Exception
	if !errors.As(err, &ex) || errs.KindOf(err) != errs.KindInternal {
		return err
	}
	hint, ok := engineHints[ex.Code]
	if !ok {
		return err
	}
	if m := unknownIdentRe.FindStringSubmatch(ex.Message); m != nil {
		hint = fmt.Sprintf("unknown column or alias %q: %s", m[1], hint)
	}
	e := errs.Wrap(op, errs.KindInvalid, err, "ClickHouse rejected the query: "+hint)
	if ex.Name != "" {
		e = e.With("engineError", ex.Name)
	}
	return e
}
