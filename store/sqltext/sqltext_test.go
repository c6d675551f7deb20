package sqltext

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestQuotedEnd(t *testing.T) {
	tests := []struct {
		name, s string
		i, want int
	}{
		{"plain", `'abc' x`, 0, 5},
		{"backslash escape", `'it\'s' x`, 0, 7},
		{"doubled quote", `'a''b' x`, 0, 6},
		{"backtick identifier", "x `a``b` y", 2, 8},
		{"double-quoted identifier", `"a\"b" y`, 0, 6},
		{"unterminated runs to the end", `'abc`, 0, 4},
		{"trailing backslash", `'abc\`, 0, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, QuotedEnd(tc.s, tc.i))
		})
	}
}

func TestBlockCommentEnd(t *testing.T) {
	tests := []struct {
		name, s string
		want    int
	}{
		{"simple", "/* a */ x", 7},
		{"nested", "/* a /* b */ c */ x", 17},
		{"unterminated", "/* a", 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, BlockCommentEnd(tc.s, 0))
		})
	}
}

func TestQuoting(t *testing.T) {
	assert.Equal(t, "`events`", QuoteIdent("events"))
	assert.Equal(t, "`a\\`b\\\\c`", QuoteIdent("a`b\\c"))
	assert.Equal(t, `'it\'s\n\t\r\0\\'`, QuoteString("it's\n\t\r\x00\\"))
}
