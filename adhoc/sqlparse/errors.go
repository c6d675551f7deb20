package sqlparse

import "fmt"

// Error is a problem with the query text at a position: a syntax error or a
// construct the restricted grammar refuses. Msg says what was found and what
// would be right.
type Error struct {
	Pos Pos
	Msg string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Pos, e.Msg) }

func errAt(p Pos, format string, args ...any) *Error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}
