package store

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
	writeEscaped(&b, s, true)
	b.WriteByte('\'')
	return b.String()
}

// writeEscaped writes s with ClickHouse's backslash escapes. With quote set it
// also escapes the single quote (for literals and values inside arrays).
func writeEscaped(b *strings.Builder, s string, quote bool) {
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
