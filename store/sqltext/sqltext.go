// Package sqltext is the one place ClickHouse SQL text is scanned and quoted
// by hand: the end of a quoted token or a block comment, identifier and
// string-literal quoting and ClickHouse's backslash escapes. It is a leaf
// (standard library only) shared by store, store/chserver and adhoc/sqlparse.
package sqltext

import (
	"strings"
)

// QuoteIdent quotes a table, column or database name for ClickHouse. It is the
// only way identifiers enter SQL text.
func QuoteIdent(name string) string {
	var b strings.Builder
	b.Grow(len(name) + 2)
	b.WriteByte('`')
	for _, r := range name {
		switch r {
		case '`':
			b.WriteString("\\`")
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('`')
	return b.String()
}

// QuoteString renders s as a ClickHouse string literal. Use it only where the
// grammar takes no parameter (DDL comments, engine arguments); values in
// queries are `?` arguments.
func QuoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	WriteEscaped(&b, s, true)
	b.WriteByte('\'')
	return b.String()
}

// WriteEscaped writes s with ClickHouse's backslash escapes. With quote set it
// also escapes the single quote (for literals and values inside arrays).
func WriteEscaped(b *strings.Builder, s string, quote bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			if quote {
				b.WriteString(`\'`)
			} else {
				b.WriteByte(c)
			}
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case 0:
			b.WriteString(`\0`)
		default:
			b.WriteByte(c)
		}
	}
}

// QuotedEnd returns the index just after the quoted token (', " or `)
// starting at s[i]. Backslash escapes and doubled quotes are honoured; an
// unterminated token runs to the end (the engine reports the syntax error).
func QuotedEnd(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// BlockCommentEnd returns the index just after the (nestable) /* */ comment
// starting at s[i]; an unterminated comment runs to the end.
func BlockCommentEnd(s string, i int) int {
	depth := 0
	for j := i; j+1 < len(s); j++ {
		switch {
		case s[j] == '/' && s[j+1] == '*':
			depth++
			j++
		case s[j] == '*' && s[j+1] == '/':
			depth--
			j++
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(s)
}
