package sqlparse

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// multiPunct are the operators of more than one character, longest first.
var multiPunct = []string{"!=", "<>", "<=", ">=", "==", "||", "->", "::"}

// singlePunct are the one-character operators and punctuation the grammar
// knows. Anything else outside strings and quoted identifiers (braces of
// query parameters, '$', '@', '#', non-ASCII look-alikes) is refused.
const singlePunct = "(),.+-*/%=<>:?[];"

// lexer turns query text into tokens. Only ASCII may appear outside string
// literals and quoted identifiers, so Unicode look-alikes of keywords,
// quotes or operators fail here with their code point named.
type lexer struct {
	src  string
	i    int
	line int
	col  int
	prev Token
}

// Tokenize splits src into tokens, ending with one EOF token. maxTokens
// bounds the work a huge input can cause (0 means no bound).
func Tokenize(src string, maxTokens int) ([]Token, error) {
	lx := &lexer{src: src, line: 1, col: 1}
	var out []Token
	for {
		t, err := lx.next()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		if t.Kind == TokEOF {
			return out, nil
		}
		if maxTokens > 0 && len(out) > maxTokens {
			return nil, errAt(t.Pos, "the query has more than %d tokens; split it or simplify it", maxTokens)
		}
		lx.prev = t
	}
}

func (lx *lexer) pos() Pos { return Pos{Line: lx.line, Col: lx.col} }

// advance moves past n bytes, keeping line and column (in runes) current.
func (lx *lexer) advance(n int) {
	for _, r := range lx.src[lx.i : lx.i+n] {
		if r == '\n' {
			lx.line++
			lx.col = 1
		} else {
			lx.col++
		}
	}
	lx.i += n
}

func (lx *lexer) next() (Token, error) {
	if err := lx.skipBlanks(); err != nil {
		return Token{}, err
	}
	start := lx.pos()
	if lx.i >= len(lx.src) {
		return Token{Kind: TokEOF, Pos: start}, nil
	}
	c := lx.src[lx.i]
	switch {
	case isIdentStart(c):
		j := lx.i + 1
		for j < len(lx.src) && isIdentPart(lx.src[j]) {
			j++
		}
		text := lx.src[lx.i:j]
		lx.advance(j - lx.i)
		return Token{Kind: TokIdent, Text: text, Pos: start}, nil
	case c == '`' || c == '"':
		text, err := lx.quoted(c)
		if err != nil {
			return Token{}, err
		}
		if text == "" {
			return Token{}, errAt(start, "empty quoted identifier")
		}
		return Token{Kind: TokQuotedIdent, Text: text, Pos: start}, nil
	case c == '\'':
		text, err := lx.quoted(c)
		if err != nil {
			return Token{}, err
		}
		return Token{Kind: TokString, Text: text, Pos: start}, nil
	case isDigit(c) || c == '.' && lx.i+1 < len(lx.src) && isDigit(lx.src[lx.i+1]) && !lx.afterOperand():
		return lx.number(start)
	}
	for _, p := range multiPunct {
		if strings.HasPrefix(lx.src[lx.i:], p) {
			lx.advance(len(p))
			return Token{Kind: TokPunct, Text: p, Pos: start}, nil
		}
	}
	if strings.IndexByte(singlePunct, c) >= 0 {
		lx.advance(1)
		return Token{Kind: TokPunct, Text: string(c), Pos: start}, nil
	}
	return Token{}, errAt(start, "unexpected character %s", describeRune(lx.src[lx.i:]))
}

// afterOperand reports whether the previous token ends an operand, so a
// following ".5" is tuple access, not a number.
func (lx *lexer) afterOperand() bool {
	switch lx.prev.Kind {
	case TokIdent, TokQuotedIdent, TokNumber, TokString:
		return true
	case TokPunct:
		return lx.prev.Text == ")" || lx.prev.Text == "]"
	}
	return false
}

func (lx *lexer) skipBlanks() error {
	for lx.i < len(lx.src) {
		c := lx.src[lx.i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			lx.advance(1)
		case strings.HasPrefix(lx.src[lx.i:], "--"):
			end := strings.IndexByte(lx.src[lx.i:], '\n')
			if end < 0 {
				end = len(lx.src) - lx.i
			}
			lx.advance(end)
		case strings.HasPrefix(lx.src[lx.i:], "/*"):
			start := lx.pos()
			end := strings.Index(lx.src[lx.i+2:], "*/")
			if end < 0 {
				return errAt(start, "unterminated comment: close it with */")
			}
			lx.advance(end + 4)
		default:
			return nil
		}
	}
	return nil
}

// quoted reads a token delimited by q with ClickHouse's escapes (backslash
// sequences and a doubled delimiter) and returns its value.
func (lx *lexer) quoted(q byte) (string, error) {
	start := lx.pos()
	var b strings.Builder
	j := lx.i + 1
	for j < len(lx.src) {
		c := lx.src[j]
		switch {
		case c == '\\':
			if j+1 >= len(lx.src) {
				j++
				continue
			}
			e := lx.src[j+1]
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'x', 'X':
				if j+3 < len(lx.src) && isHex(lx.src[j+2]) && isHex(lx.src[j+3]) {
					b.WriteByte(hexVal(lx.src[j+2])<<4 | hexVal(lx.src[j+3]))
					j += 4
					continue
				}
				b.WriteByte(e)
			default:
				b.WriteByte(e)
			}
			j += 2
		case c == q:
			if j+1 < len(lx.src) && lx.src[j+1] == q {
				b.WriteByte(q)
				j += 2
				continue
			}
			lx.advance(j + 1 - lx.i)
			return b.String(), nil
		default:
			b.WriteByte(c)
			j++
		}
	}
	what := "string"
	if q != '\'' {
		what = "quoted identifier"
	}
	return "", errAt(start, "unterminated %s: close it with %c", what, q)
}

func (lx *lexer) number(start Pos) (Token, error) {
	j := lx.i
	s := lx.src
	tupleIndex := lx.prev.Kind == TokPunct && lx.prev.Text == "."
	switch {
	case !tupleIndex && strings.HasPrefix(strings.ToLower(s[j:]), "0x"):
		j += 2
		for j < len(s) && isHex(s[j]) {
			j++
		}
		if j == lx.i+2 {
			return Token{}, errAt(start, "hexadecimal number without digits")
		}
	default:
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if !tupleIndex && j < len(s) && s[j] == '.' && !(j+1 < len(s) && s[j+1] == '.') {
			j++
			for j < len(s) && isDigit(s[j]) {
				j++
			}
		}
		if !tupleIndex && j < len(s) && (s[j] == 'e' || s[j] == 'E') {
			k := j + 1
			if k < len(s) && (s[k] == '+' || s[k] == '-') {
				k++
			}
			if k < len(s) && isDigit(s[k]) {
				for k < len(s) && isDigit(s[k]) {
					k++
				}
				j = k
			}
		}
	}
	if j < len(s) && isIdentPart(s[j]) {
		return Token{}, errAt(start, "malformed number %q", s[lx.i:j+1])
	}
	text := s[lx.i:j]
	lx.advance(j - lx.i)
	return Token{Kind: TokNumber, Text: text, Pos: start}, nil
}

// describeRune names the first character of s for an error message, with
// its code point so look-alikes (U+FF53, U+2018 …) are recognisable.
func describeRune(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return "(invalid UTF-8)"
	}
	if r < 128 && unicode.IsPrint(r) {
		return fmt.Sprintf("%q", r)
	}
	return fmt.Sprintf("%q (U+%04X): only ASCII may appear outside strings and quoted identifiers", r, r)
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isHex(c byte) bool        { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func hexVal(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
