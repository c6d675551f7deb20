package chembedded

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/store"
)

// Per-statement settings never outlive their statement on a pooled
// connection. Two ways, chosen by the statement:
//
//   - SELECT-like statements (SELECT, WITH, EXPLAIN, DESCRIBE, a parenthesised
//     SELECT) get a trailing "SETTINGS k = v, …" clause: the engine applies
//     it to that query alone (a second clause after one the caller wrote is
//     accepted, and the later one wins).
//   - Inserts through Insert put the clause before the data.
//   - Everything else (DDL, ALTER … mutations, OPTIMIZE, SYSTEM, INSERT …
//     VALUES via Exec) has no clause for query settings, so the session is
//     changed with SET, the statement runs, and a second SET puts every
//     touched setting back to the connection's baseline (the value given at
//     connect time, or DEFAULT). A connection whose restore fails is closed
//     instead of being reused.

// setting is one connection-level setting.
type setting struct{ name, value string }

// baseline is each pooled connection's session: what the decoder relies on
// (exact 64-bit integers, nan/inf as strings) and UTC times.
func baseline() []setting {
	return []setting{
		{"session_timezone", "UTC"},
		{"output_format_json_quote_64bit_integers", "0"},
		{"output_format_json_quote_denormals", "1"},
		{"output_format_json_named_tuples_as_objects", "1"},
	}
}

// connArgs are the chdb_connect arguments of a pooled connection.
func connArgs(dataPath string) []string {
	args := []string{"clickhouse", "--path=" + dataPath}
	for _, s := range baseline() {
		args = append(args, "--"+s.name+"="+s.value)
	}
	return args
}

// takesClause reports whether sql starts with a statement that accepts a
// trailing SETTINGS clause.
func takesClause(sql string) bool {
	switch firstKeyword(sql) {
	case "SELECT", "WITH", "EXPLAIN", "DESCRIBE", "DESC":
		return true
	}
	return false
}

// streams reports whether sql starts with a statement the engine streams;
// others run to completion (see Backend.queryWhole).
func streams(sql string) bool {
	switch firstKeyword(sql) {
	case "SELECT", "WITH":
		return true
	}
	return false
}

// firstKeyword returns sql's first word in upper case. Leading blanks,
// comments and parentheses are skipped.
func firstKeyword(sql string) string {
	i := 0
	for i < len(sql) {
		switch c := sql[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(':
			i++
		case strings.HasPrefix(sql[i:], "--") || c == '#':
			end := strings.IndexByte(sql[i:], '\n')
			if end < 0 {
				return ""
			}
			i += end + 1
		case strings.HasPrefix(sql[i:], "/*"):
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return ""
			}
			i += 2 + end + 2
		default:
			j := i
			for j < len(sql) && (sql[j] >= 'a' && sql[j] <= 'z' || sql[j] >= 'A' && sql[j] <= 'Z') {
				j++
			}
			return strings.ToUpper(sql[i:j])
		}
	}
	return ""
}

// appendClause adds "SETTINGS list" to the end of a SELECT-like statement.
// The new line keeps a trailing "--" comment from swallowing it.
func appendClause(sql, list string) string {
	if list == "" {
		return sql
	}
	sql = strings.TrimRight(sql, " \t\r\n;")
	return sql + "\nSETTINGS " + list
}

// settingsList renders s as "a = 1, b = 'x'", sorted by name. Names must be
// plain setting names; values are strings, integers, floats or booleans.
func settingsList(s store.Settings) (string, error) {
	if len(s) == 0 {
		return "", nil
	}
	names := make([]string, 0, len(s))
	for k := range s {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for i, k := range names {
		if !validSettingName(k) {
			return "", fmt.Errorf("setting name %q is not of the form [a-z0-9_]+", k)
		}
		lit, err := settingLiteral(s[k])
		if err != nil {
			return "", fmt.Errorf("setting %s: %w", k, err)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString(" = ")
		b.WriteString(lit)
	}
	return b.String(), nil
}

// restoreList is the SET list that puts every setting named in s back to
// the connection's baseline.
func restoreList(s store.Settings) string {
	names := make([]string, 0, len(s))
	for k := range s {
		names = append(names, k)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = k + " = DEFAULT"
		for _, base := range baseline() {
			if base.name == k {
				parts[i] = k + " = " + store.QuoteString(base.value)
			}
		}
	}
	return strings.Join(parts, ", ")
}

func validSettingName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// settingLiteral renders one setting value as a ClickHouse literal.
func settingLiteral(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return store.QuoteString(x), nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	case int:
		return strconv.Itoa(x), nil
	case int8, int16, int32, int64:
		return fmt.Sprintf("%d", x), nil
	case uint, uint8, uint16, uint32, uint64:
		return fmt.Sprintf("%d", x), nil
	case float32:
		return settingLiteral(float64(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("value %v is not a finite number", x)
		}
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case time.Duration:
		return strconv.FormatFloat(x.Seconds(), 'f', -1, 64), nil
	}
	return "", fmt.Errorf("value of type %T is not a string, number or bool", v)
}

// withDeadline returns s with max_execution_time no longer than the time
// left before ctx's deadline, so the engine itself stops work nobody waits
// for (a running chDB call cannot be interrupted from Go).
func withDeadline(ctx context.Context, s store.Settings) store.Settings {
	deadline, ok := ctx.Deadline()
	if !ok {
		return s
	}
	left := math.Max(1, math.Ceil(time.Until(deadline).Seconds()))
	if cur, ok := numeric(s["max_execution_time"]); ok && cur > 0 && cur <= left {
		return s
	}
	out := make(store.Settings, len(s)+1)
	for k, v := range s {
		out[k] = v
	}
	out["max_execution_time"] = int64(left)
	return out
}

func numeric(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	case time.Duration:
		return x.Seconds(), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}
