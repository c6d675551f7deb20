package insights

import (
	"regexp"
	"slices"
	"strings"

	"github.com/learnhub/analytics-service/adhoc"
)

// redacted replaces a PII value in what is sent to the model.
const redacted = "[redacted]"

// piiKey reports whether a column or property path names a PII key: the
// whole name or its last path segment ("user_id", "properties.email",
// "properties.email.:String"), case-insensitively.
func piiKey(name string, pii []string) bool {
	name = strings.ToLower(name)
	if i := strings.Index(name, ".:"); i >= 0 {
		name = name[:i]
	}
	return slices.Contains(pii, name) || slices.Contains(pii, name[strings.LastIndex(name, ".")+1:])
}

// namesPII reports whether sql mentions a PII key as a word (a column, a
// path segment, an alias) that no result column is named after: the
// result may then carry it under another name.
func namesPII(sql string, cols []adhoc.Column, pii []string) bool {
	for _, k := range pii {
		if !regexp.MustCompile(`(?i)(^|[^a-z0-9_])` + regexp.QuoteMeta(k) + `([^a-z0-9_]|$)`).MatchString(sql) {
			continue
		}
		if !slices.ContainsFunc(cols, func(c adhoc.Column) bool { return piiKey(c.Name, []string{k}) }) {
			return true
		}
	}
	return false
}

// redact is the second layer behind the sandbox's PII-free relation
// (adhoc.PIIHidden, which run_sql requires): there no expression reaches
// a PII path or column, however it builds a key's name. redact replaces
// PII in rows before they leave for the model:
//   - every cell of a column named after a PII key (or its last path segment);
//   - the PII keys of JSON objects (a selected properties column), at any depth;
//   - text that holds a PII key as a JSON key (toString(properties));
//   - every text cell when the SQL names a PII key that no result column
//     is named after, since an alias or a function can carry it under
//     another name.
//
// Numbers stay (counts, sums). A key name assembled at run time
// (concat('em', 'ail')) or a WHERE probe is not caught here but by the
// relation, which holds no PII value to find.
func redact(sql string, cols []adhoc.Column, rows [][]any, pii []string) [][]any {
	allText := namesPII(sql, cols, pii)
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = slices.Clone(r)
		for j, c := range cols {
			if j >= len(r) {
				break
			}
			if piiKey(c.Name, pii) {
				out[i][j] = redacted
				continue
			}
			out[i][j] = redactValue(r[j], pii, allText)
		}
	}
	return out
}

// redactValue redacts the PII of one cell (see redact).
func redactValue(v any, pii []string, allText bool) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			if piiKey(k, pii) {
				m[k] = redacted
			} else {
				m[k] = redactValue(e, pii, allText)
			}
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = redactValue(e, pii, allText)
		}
		return l
	case string:
		if allText {
			return redacted
		}
		lower := strings.ToLower(x)
		for _, k := range pii {
			if strings.Contains(lower, `"`+k+`"`) {
				return redacted
			}
		}
	}
	return v
}

// scrub replaces in msg every PII dimension value the calls returned.
func scrub(msg string, calls []madeCall) string {
	for _, c := range calls {
		for _, v := range c.pii {
			if v != "" {
				msg = strings.ReplaceAll(msg, v, redacted)
			}
		}
	}
	return msg
}
