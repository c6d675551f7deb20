package metrics

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/learnhub/analytics-service/store"
)

// propertiesPrefix starts every property path.
const propertiesPrefix = "properties."

// eventColumns are the event columns a metric may use as dimensions; all
// are strings.
var eventColumns = map[string]bool{"type": true, "user_id": true, "session_id": true}

// segmentRe is one property path segment. Paths are checked against it at
// definition time and printed by jsonPathSQL, never spliced as typed.
var segmentRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// castTypes is the ClickHouse type each value type is read as.
var castTypes = map[ValueType]string{
	TypeString: "String", TypeInt64: "Int64", TypeFloat64: "Float64", TypeBool: "Bool",
}

// checkPath validates a dimension or value path and its type; field names
// the input in errors.
func checkPath(op, field, path string, t ValueType) error {
	if eventColumns[path] {
		if t != "" && t != TypeString {
			return invalid(op, field, "%s %q is an event column of type String, not %s", field, path, t)
		}
		return nil
	}
	rest, ok := strings.CutPrefix(path, propertiesPrefix)
	if !ok {
		return invalid(op, field, "%s %q is not a dimension; use type, user_id, session_id or a property path such as properties.course_id", field, path)
	}
	for _, seg := range strings.Split(rest, ".") {
		if !segmentRe.MatchString(seg) {
			return invalid(op, field, "%s %q has a bad segment %q; segments are letters, digits and _ and start with a letter", field, path, seg)
		}
	}
	if _, ok := castTypes[t]; !ok {
		return invalid(op, field, "%s %q needs a type; use one of %v", field, path, valueTypes)
	}
	return nil
}

// rawDimSQL prints a checked dimension over the events table: a quoted
// column, or the JSON path read as its declared type (strings never NULL).
func rawDimSQL(d Dimension) string {
	if eventColumns[d.Path] {
		return store.QuoteIdent(d.Path)
	}
	expr := jsonPathSQL(d.Path, d.Type)
	if d.Type == TypeString {
		return "ifNull(" + expr + ", '')"
	}
	return expr
}

// jsonPathSQL reads properties.a.b as t: accurateCastOrNull(`properties`.`a`.`b`, 'T').
// Segments were checked by checkPath and are quoted again here.
func jsonPathSQL(path string, t ValueType) string {
	segs := strings.Split(path, ".")
	for i, s := range segs {
		segs[i] = store.QuoteIdent(s)
	}
	return fmt.Sprintf("accurateCastOrNull(%s, %s)", strings.Join(segs, "."), store.QuoteString(castTypes[t]))
}

// dimensionType is the type of a dimension: String for event columns.
func dimensionType(d Dimension) ValueType {
	if eventColumns[d.Path] {
		return TypeString
	}
	return d.Type
}
