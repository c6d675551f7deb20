package sqlparse

import "fmt"

// Kind classifies a token.
type Kind int

// The token kinds. Keywords are plain identifiers: the parser compares them
// case-insensitively, so a column may be named like a keyword when quoted.
const (
	TokEOF         Kind = iota
	TokIdent            // bare identifier or keyword: [A-Za-z_][A-Za-z0-9_]*
	TokQuotedIdent      // `name` or "name"; Text is the unquoted name
	TokString           // 'text'; Text is the unescaped value
	TokNumber           // 42, 0.5, 1e3, 0xFF, .5
	TokPunct            // operators and punctuation: ( ) , . + - * / % = != <> < <= > >= || -> :: : ? [ ] ;
)

// Pos is a 1-based line and column (in characters) in the query text.
type Pos struct {
	Line int
	Col  int
}

// String renders the position as "line L, column C".
func (p Pos) String() string { return fmt.Sprintf("line %d, column %d", p.Line, p.Col) }

// Token is one lexical unit.
type Token struct {
	Kind Kind
	Text string
	Pos  Pos
}

// describe names a token for error messages.
func (t Token) describe() string {
	switch t.Kind {
	case TokEOF:
		return "the end of the query"
	case TokString:
		return "a string"
	case TokNumber:
		return "number " + t.Text
	case TokQuotedIdent:
		return "identifier `" + t.Text + "`"
	}
	return fmt.Sprintf("%q", t.Text)
}
