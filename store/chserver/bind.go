package chserver

import (
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/learnhub/analytics-service/store/sqltext"
)

// bindArgs prepares a statement for the driver's client-side binding, which
// renders each argument as a quoted SQL literal in place of its `?`.
//
// Times are moved to UTC, so they mean the same instant whatever location
// the caller built them in. The driver's positional binding renders a time
// at second precision (toDateTime('…')); a time with a sub-second part
// would silently lose it, so then every `?` is renamed @p0, @p1, … and the
// times are bound with millisecond precision (toDateTime64('…', 3, 'UTC')),
// as the embedded backend binds them. Whole-second times keep the
// positional form, which servers without DateTime64 (18.16) understand.
func bindArgs(sql string, in []any) (string, []any) {
	var out []any
	subSecond := false
	for i, a := range in {
		t, ok := a.(time.Time)
		if !ok {
			continue
		}
		if out == nil {
			out = append([]any(nil), in...)
		}
		out[i] = t.UTC()
		subSecond = subSecond || t.Nanosecond() != 0
	}
	if out == nil {
		return sql, in
	}
	if !subSecond {
		return sql, out
	}
	named, n := namePlaceholders(sql)
	if n != len(out) {
		// Leave the mismatch to the driver, which reports it.
		return sql, out
	}
	for i, a := range out {
		name := "p" + strconv.Itoa(i)
		if t, ok := a.(time.Time); ok {
			out[i] = clickhouse.DateNamed(name, t, clickhouse.MilliSeconds)
		} else {
			out[i] = clickhouse.Named(name, a)
		}
	}
	return named, out
}

// namePlaceholders renames the `?` placeholders of sql to @p0, @p1, … and
// returns how many there were. A `?` inside quotes or comments is text; an
// escaped `\?` is a literal `?`, as in the driver's positional binding.
func namePlaceholders(sql string) (string, int) {
	var b strings.Builder
	b.Grow(len(sql) + 8)
	n := 0
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			end := sqltext.QuotedEnd(sql, i)
			b.WriteString(sql[i:end])
			i = end - 1
		case c == '#' || c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			end := strings.IndexByte(sql[i:], '\n')
			if end < 0 {
				end = len(sql) - i
			}
			b.WriteString(sql[i : i+end])
			i += end - 1
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := sqltext.BlockCommentEnd(sql, i)
			b.WriteString(sql[i:end])
			i = end - 1
		case c == '\\' && i+1 < len(sql) && sql[i+1] == '?':
			b.WriteByte('?')
			i++
		case c == '?':
			b.WriteString("@p")
			b.WriteString(strconv.Itoa(n))
			n++
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), n
}
