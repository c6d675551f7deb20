package adhoc

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

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

// userErrorNames are engine error names (besides engineHints' codes and
// the prefixes in userErrorPrefixes) that only the query's own text can
// cause: the printed query is the tenant's, so the tenant can fix them.
var userErrorNames = map[string]bool{
	"BAD_ARGUMENTS":                         true,
	"TYPE_MISMATCH":                         true,
	"CANNOT_CONVERT_TYPE":                   true,
	"ARGUMENT_OUT_OF_BOUND":                 true,
	"NO_COMMON_TYPE":                        true,
	"DECIMAL_OVERFLOW":                      true,
	"CANNOT_COMPILE_REGEXP":                 true,
	"SIZES_OF_ARRAYS_DONT_MATCH":            true,
	"NUMBER_OF_ARGUMENTS_DOESNT_MATCH":      true,
	"TOO_FEW_ARGUMENTS_FOR_FUNCTION":        true,
	"TOO_MANY_ARGUMENTS_FOR_FUNCTION":       true,
	"VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE":    true,
	"SET_SIZE_LIMIT_EXCEEDED":               true,
	"NOT_AN_AGGREGATE":                      true,
	"AMBIGUOUS_IDENTIFIER":                  true,
	"AMBIGUOUS_COLUMN_NAME":                 true,
	"MULTIPLE_EXPRESSIONS_FOR_ALIAS":        true,
	"UNKNOWN_IDENTIFIER":                    true,
	"UNKNOWN_FUNCTION":                      true,
	"UNKNOWN_AGGREGATE_FUNCTION":            true,
	"UNKNOWN_TYPE":                          true,
	"FUNCTION_THROW_IF_VALUE_IS_NON_ZERO":   true,
	"CANNOT_READ_ARRAY_FROM_TEXT":           true,
	"INVALID_JOIN_ON_EXPRESSION":            true,
	"NOT_FOUND_COLUMN_IN_BLOCK":             true,
	"THERE_IS_NO_COLUMN":                    true,
	"CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN": true,
}

// userErrorPrefixes name families of engine errors about values and
// expressions the query wrote (CANNOT_PARSE_UUID, ILLEGAL_TYPE_OF_ARGUMENT,
// TOO_LARGE_STRING_SIZE, INCORRECT_DATA …).
var userErrorPrefixes = []string{"CANNOT_PARSE_", "ILLEGAL_", "TOO_LARGE_", "TOO_DEEP_", "INCORRECT_"}

// engineNoise starts the parts of an engine message that quote the
// printed query or the engine's internals; the explanation ends there.
var engineNoise = regexp.MustCompile(`(?i)[:.]?\s*(in scope |while executing|while processing|stack trace|\(version )`)

// engineLeak spots what must never reach a client in what is left: SQL of
// the printed query, the tenant guard, internal names, file paths.
var engineLeak = regexp.MustCompile(`(?i)\bselect\b|\bsettings\b|tenant_id|__table|_cast\(|\{p\d|(^|[\s'"(=])/[\w.-]+/`)

// maxEngineDetail bounds the engine's explanation shown to a client.
const maxEngineDetail = 300

// engineError classifies an engine failure of a printed query. Errors
// the caller's own SQL causes become BAD_USER_INPUT with a hint and the
// engine's explanation without the printed SQL; a result over the size
// cap is RESULT_TOO_LARGE; limits keep the kind the store gave them;
// anything else stays INTERNAL (our fault, logged at the edge).
func (s *Service) engineError(op string, err error) error {
	var ex *store.Exception
	if !errors.As(err, &ex) {
		return err
	}
	if ex.Code == store.CodeTooManyRowsBytes {
		return s.resultTooLarge(op, err)
	}
	if errs.KindOf(err) != errs.KindInternal {
		return err
	}
	hint, hinted := engineHints[ex.Code]
	if !hinted && !userCaused(ex.Name) {
		return err
	}
	if m := unknownIdentRe.FindStringSubmatch(ex.Message); m != nil {
		hint = fmt.Sprintf("unknown column or alias %q: %s", m[1], hint)
	}
	msg := "ClickHouse rejected the query"
	if hint != "" {
		msg += ": " + hint
	}
	if d := engineDetail(ex.Message); d != "" {
		msg += " (" + ex.Name + ": " + d + ")"
	}
	e := errs.Wrap(op, errs.KindInvalid, err, msg)
	if ex.Name != "" {
		e = e.With("engineError", ex.Name)
	}
	return e
}

// resultTooLarge is the refusal of a result over Config.MaxResultBytes.
func (s *Service) resultTooLarge(op string, cause error) error {
	return errs.Wrap(op, errs.KindInvalid, cause, fmt.Sprintf(
		"the result is larger than %s, the cap on one ad-hoc result (%d bytes): select fewer or narrower columns, aggregate, or ask for fewer rows",
		humanBytes(s.cfg.MaxResultBytes), s.cfg.MaxResultBytes)).
		With("reason", ReasonResultTooLarge).With("maxResultBytes", s.cfg.MaxResultBytes)
}

// userCaused reports whether an engine error of this name can only come
// from the query's own text.
func userCaused(name string) bool {
	if userErrorNames[name] {
		return true
	}
	for _, p := range userErrorPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// engineDetail is the engine's explanation of an error, cut before the
// part that quotes the printed query, or "" when what is left could still
// show SQL, the tenant guard or a path.
func engineDetail(msg string) string {
	if loc := engineNoise.FindStringIndex(msg); loc != nil {
		msg = msg[:loc[0]]
	}
	msg = strings.TrimRight(strings.TrimSpace(msg), ":. ")
	if msg == "" || engineLeak.MatchString(msg) {
		return ""
	}
	if r := []rune(msg); len(r) > maxEngineDetail {
		msg = string(r[:maxEngineDetail]) + "…"
	}
	return msg
}

// humanBytes writes n as KiB, MiB or GiB when it is a whole number of them.
func humanBytes(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
