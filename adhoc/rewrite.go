package adhoc

import (
	"strings"

	"github.com/learnhub/analytics-service/adhoc/sqlparse"
)

// capRows makes the outermost query return at most cap+1 rows, so the
// service can tell a truncated result (cap+1 arrived) from a complete one.
// A query whose own LIMIT is within cap keeps it and cannot be truncated;
// it reports exact=true. A UNION is wrapped: SELECT * FROM (…) LIMIT n.
func capRows(q *sqlparse.Query, cap int) (out *sqlparse.Query, exact bool) {
	n := &sqlparse.Literal{Kind: sqlparse.LitInt, Value: int64(cap + 1)}
	if len(q.Selects) == 1 {
		s := q.Selects[0]
		if s.Limit != nil {
			if v, ok := s.Limit.Value.(int64); ok && v <= int64(cap) {
				return q, true
			}
		}
		s.Limit = n
		return q, false
	}
	wrap := &sqlparse.Select{
		Columns: []sqlparse.Expr{&sqlparse.Star{}},
		From:    &sqlparse.From{First: &sqlparse.TableRef{Sub: q}},
		Limit:   n,
	}
	return &sqlparse.Query{Selects: []*sqlparse.Select{wrap}}, false
}

// nameColumns gives the unnamed result columns that contain literals a
// name printed from the query itself (`countIf(type = 'x')`): bound
// literals would otherwise surface as `_CAST(…)` in the column names.
func nameColumns(s *sqlparse.Select) {
	aliasColumns(s, func(c sqlparse.Expr) bool {
		if _, ok := c.(*sqlparse.Ident); ok {
			return false
		}
		spy := &literalSpy{}
		_, err := sqlparse.PrintExpr(c, spy)
		return err == nil && spy.n > 0
	})
}

// aliasColumns names the unnamed columns of s for which needs holds with
// their text as written (a name the query does not use yet).
func aliasColumns(s *sqlparse.Select, needs func(sqlparse.Expr) bool) {
	taken := map[string]bool{}
	for _, c := range s.Columns {
		if a, ok := c.(*sqlparse.Alias); ok {
			taken[a.Name] = true
		}
	}
	for i, c := range s.Columns {
		switch c.(type) {
		case *sqlparse.Alias, *sqlparse.Star:
			continue
		}
		if !needs(c) {
			continue
		}
		name, err := sqlparse.FormatExpr(c)
		if err != nil || taken[name] {
			continue
		}
		taken[name] = true
		s.Columns[i] = &sqlparse.Alias{Pos: c.At(), X: c, Name: name}
	}
}

// literalSpy counts the literals of an expression.
type literalSpy struct {
	sqlparse.Canonical
	n int
}

// Literal implements sqlparse.Hooks.
func (s *literalSpy) Literal(l *sqlparse.Literal) (string, error) {
	s.n++
	return sqlparse.InlineLiteral(l), nil
}

// scaleArgs are the functions whose argument at the given index is a
// scale or precision the engine wants as an unsigned constant; a bound
// literal there (Int64) is wrapped in toUInt8.
var scaleArgs = map[string]int{
	"todatetime64": 1, "todatetime64ornull": 1, "todecimal32": 1, "todecimal64": 1,
	"todecimal128": 1, "todecimal64ornull": 1, "now64": 0, "parsedatetime64besteffort": 1,
}

// unsignedScales wraps integer literals in scale positions in toUInt8.
func unsignedScales(q *sqlparse.Query) {
	sqlparse.Walk(q, func(e sqlparse.Expr) {
		c, ok := e.(*sqlparse.Call)
		if !ok {
			return
		}
		i, ok := scaleArgs[strings.ToLower(c.Name)]
		if !ok || i >= len(c.Args) {
			return
		}
		if l, ok := c.Args[i].(*sqlparse.Literal); ok && l.Kind == sqlparse.LitInt {
			c.Args[i] = &sqlparse.Call{Pos: l.Pos, Name: "toUInt8", Args: []sqlparse.Expr{l}}
		}
	})
}
