// Package sqlparse is the restricted ClickHouse SELECT dialect that tenant
// admins write ad-hoc queries in: a lexer, a recursive-descent parser
// with depth and size limits, the syntax tree, and a printer whose hooks
// let the caller bind literals, guard tables and vet functions while the
// SQL is printed. It never passes the original text on: what runs is
// always printed from the tree.
package sqlparse

import (
	"strings"
)

// Defaults for Limits.
const (
	DefaultMaxTokens = 20000 // tokens in one query
	DefaultMaxDepth  = 64    // nesting of expressions and subqueries
	DefaultMaxBytes  = 64 << 10
)

// reserved are keywords that cannot be bare column names or implicit
// aliases (quote them to use them as names).
var reserved = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "GROUP": true, "HAVING": true, "ORDER": true,
	"LIMIT": true, "OFFSET": true, "UNION": true, "EXCEPT": true, "INTERSECT": true, "JOIN": true,
	"INNER": true, "LEFT": true, "RIGHT": true, "FULL": true, "CROSS": true, "OUTER": true,
	"ON": true, "USING": true, "AS": true, "WITH": true, "AND": true, "OR": true, "NOT": true,
	"IN": true, "IS": true, "BETWEEN": true, "LIKE": true, "ILIKE": true, "CASE": true,
	"WHEN": true, "THEN": true, "ELSE": true, "END": true, "DISTINCT": true, "ALL": true,
	"ANY": true, "SEMI": true, "ANTI": true, "ASOF": true, "SETTINGS": true, "FORMAT": true,
	"INTO": true, "FINAL": true, "PREWHERE": true, "SAMPLE": true, "ARRAY": true, "GLOBAL": true,
	"WINDOW": true, "QUALIFY": true, "OVER": true, "BY": true, "ASC": true, "DESC": true,
	"NULLS": true, "INTERVAL": true, "NULL": true, "TRUE": true, "FALSE": true, "CAST": true,
	"PASTE": true, "PARALLEL": true,
}

// Limits bound the work one query can cause in the parser.
type Limits struct {
	MaxBytes  int // query text length; 0 means DefaultMaxBytes
	MaxTokens int // 0 means DefaultMaxTokens
	MaxDepth  int // nesting depth; 0 means DefaultMaxDepth
}

type parser struct {
	toks     []Token
	i        int
	depth    int
	maxDepth int
}

// Parse reads one SELECT statement (an optional trailing semicolon is
// allowed). Anything else — other statements, several statements,
// SETTINGS, FORMAT, INTO OUTFILE — is an *Error with its position.
func Parse(src string, lim Limits) (*Query, error) {
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = DefaultMaxBytes
	}
	if lim.MaxTokens <= 0 {
		lim.MaxTokens = DefaultMaxTokens
	}
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = DefaultMaxDepth
	}
	if len(src) > lim.MaxBytes {
		return nil, errAt(Pos{1, 1}, "the query is longer than %d bytes; shorten it", lim.MaxBytes)
	}
	toks, err := Tokenize(src, lim.MaxTokens)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, maxDepth: lim.MaxDepth}
	if p.peek().Kind == TokEOF {
		return nil, errAt(p.peek().Pos, "the query is empty: write a SELECT")
	}
	if !p.isKw("SELECT") && !p.isKw("WITH") && !p.isPunct("(") {
		return nil, errAt(p.peek().Pos, "only SELECT queries are allowed, found %s", p.peek().describe())
	}
	q, err := p.query()
	if err != nil {
		return nil, err
	}
	if p.isPunct(";") {
		p.i++
		if p.peek().Kind != TokEOF {
			return nil, errAt(p.peek().Pos, "multiple statements are not allowed: send one SELECT")
		}
	}
	if t := p.peek(); t.Kind != TokEOF {
		return nil, p.trailing(t)
	}
	return q, nil
}

// trailing explains why a token after a complete query is refused.
func (p *parser) trailing(t Token) error {
	switch strings.ToUpper(t.Text) {
	case "SETTINGS":
		if t.Kind == TokIdent {
			return errAt(t.Pos, "SETTINGS is not allowed: the service sets the query's limits itself")
		}
	case "FORMAT":
		if t.Kind == TokIdent {
			return errAt(t.Pos, "FORMAT is not allowed: results are returned as JSON rows")
		}
	case "INTO":
		if t.Kind == TokIdent {
			return errAt(t.Pos, "INTO OUTFILE is not allowed: results are returned to you, never written to files")
		}
	case "EXCEPT", "INTERSECT":
		if t.Kind == TokIdent {
			return errAt(t.Pos, "%s is not supported: use UNION ALL, or NOT IN / IN with a subquery", strings.ToUpper(t.Text))
		}
	case "WINDOW", "QUALIFY", "PREWHERE", "SAMPLE":
		if t.Kind == TokIdent {
			return errAt(t.Pos, "%s is not supported in ad-hoc queries", strings.ToUpper(t.Text))
		}
	}
	return errAt(t.Pos, "expected the end of the query, found %s", t.describe())
}

func (p *parser) peek() Token { return p.toks[p.i] }
func (p *parser) peekAt(n int) Token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() Token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) isKw(kw string) bool {
	t := p.peek()
	return t.Kind == TokIdent && strings.EqualFold(t.Text, kw)
}

func (p *parser) isKwAt(n int, kw string) bool {
	t := p.peekAt(n)
	return t.Kind == TokIdent && strings.EqualFold(t.Text, kw)
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.Kind == TokPunct && t.Text == s
}

func (p *parser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) acceptPunct(s string) bool {
	if p.isPunct(s) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectKw(kw string) error {
	if !p.acceptKw(kw) {
		return p.expected(kw)
	}
	return nil
}

func (p *parser) expectPunct(s string) error {
	if !p.acceptPunct(s) {
		return p.expected("'" + s + "'")
	}
	return nil
}

func (p *parser) expected(what string) error {
	return errAt(p.peek().Pos, "expected %s, found %s", what, p.peek().describe())
}

// enter counts one level of nesting and fails cleanly past the limit, so
// hostile nesting ends in an error instead of a stack overflow.
func (p *parser) enter() error {
	p.depth++
	if p.depth > p.maxDepth {
		return errAt(p.peek().Pos, "the query nests more than %d levels deep; simplify it", p.maxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// name reads an identifier (bare and not reserved, or quoted).
func (p *parser) name(what string) (string, Pos, error) {
	t := p.peek()
	switch {
	case t.Kind == TokQuotedIdent:
		p.i++
		return t.Text, t.Pos, nil
	case t.Kind == TokIdent && !reserved[strings.ToUpper(t.Text)]:
		p.i++
		return t.Text, t.Pos, nil
	}
	return "", t.Pos, p.expected(what)
}

// isAliasStart reports whether the next token can be an implicit alias.
func (p *parser) isAliasStart() bool {
	t := p.peek()
	return t.Kind == TokQuotedIdent || t.Kind == TokIdent && !reserved[strings.ToUpper(t.Text)]
}

// query parses SELECT [UNION ALL|DISTINCT SELECT …].
func (p *parser) query() (*Query, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	q := &Query{Pos: p.peek().Pos}
	for {
		s, err := p.unionMember()
		if err != nil {
			return nil, err
		}
		q.Selects = append(q.Selects, s)
		if !p.isKw("UNION") {
			return q, nil
		}
		p.i++
		switch {
		case p.acceptKw("ALL"):
			q.Ops = append(q.Ops, "UNION ALL")
		case p.acceptKw("DISTINCT"):
			q.Ops = append(q.Ops, "UNION DISTINCT")
		default:
			return nil, p.expected("ALL or DISTINCT after UNION")
		}
	}
}

// unionMember is a SELECT, or a parenthesised single SELECT.
func (p *parser) unionMember() (*Select, error) {
	if p.isPunct("(") {
		open := p.next()
		q, err := p.query()
		if err != nil {
			return nil, err
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		if len(q.Selects) != 1 {
			return nil, errAt(open.Pos, "a parenthesised UNION inside a UNION is not supported: move it into a subquery in FROM")
		}
		return q.Selects[0], nil
	}
	return p.selectStmt()
}

func (p *parser) selectStmt() (*Select, error) {
	s := &Select{Pos: p.peek().Pos}
	if p.acceptKw("WITH") {
		for {
			c, err := p.cte()
			if err != nil {
				return nil, err
			}
			s.With = append(s.With, c)
			if !p.acceptPunct(",") {
				break
			}
		}
	}
	if err := p.expectKw("SELECT"); err != nil {
		return nil, err
	}
	if p.acceptKw("DISTINCT") {
		s.Distinct = true
		if p.isKw("ON") {
			return nil, errAt(p.peek().Pos, "DISTINCT ON is not supported: use LIMIT 1 BY")
		}
	} else {
		p.acceptKw("ALL")
	}
	for {
		e, err := p.selectItem()
		if err != nil {
			return nil, err
		}
		s.Columns = append(s.Columns, e)
		if !p.acceptPunct(",") {
			break
		}
	}
	if p.acceptKw("FROM") {
		f, err := p.from()
		if err != nil {
			return nil, err
		}
		s.From = f
	}
	switch {
	case p.isKw("PREWHERE"):
		return nil, errAt(p.peek().Pos, "PREWHERE is not supported: use WHERE")
	case p.isKw("ARRAY") || p.isKw("LEFT") && p.isKwAt(1, "ARRAY"):
		return nil, errAt(p.peek().Pos, "ARRAY JOIN is not supported: use the arrayJoin() function")
	}
	var err error
	if p.acceptKw("WHERE") {
		if s.Where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	if p.isKw("GROUP") {
		p.i++
		if err := p.expectKw("BY"); err != nil {
			return nil, err
		}
		if s.GroupBy, err = p.exprList(); err != nil {
			return nil, err
		}
		for p.isKw("WITH") && (p.isKwAt(1, "ROLLUP") || p.isKwAt(1, "CUBE") || p.isKwAt(1, "TOTALS")) {
			p.i++
			switch t := strings.ToUpper(p.next().Text); t {
			case "TOTALS":
				s.WithTotals = true
			default:
				s.GroupMod = t
			}
		}
	}
	if p.acceptKw("HAVING") {
		if s.Having, err = p.expr(); err != nil {
			return nil, err
		}
	}
	if p.isKw("ORDER") {
		p.i++
		if err := p.expectKw("BY"); err != nil {
			return nil, err
		}
		if s.OrderBy, err = p.orderItems(); err != nil {
			return nil, err
		}
	}
	if err := p.limits(s); err != nil {
		return nil, err
	}
	return s, nil
}

func (p *parser) cte() (*CTE, error) {
	start := p.peek().Pos
	if (p.peek().Kind == TokIdent || p.peek().Kind == TokQuotedIdent) && p.isKwAt(1, "AS") &&
		p.peekAt(2).Kind == TokPunct && p.peekAt(2).Text == "(" {
		name, _, err := p.name("a name for the WITH subquery")
		if err != nil {
			return nil, err
		}
		p.i += 2 // AS (
		if !p.isKw("SELECT") && !p.isKw("WITH") {
			return nil, p.expected("SELECT in the WITH subquery")
		}
		q, err := p.query()
		if err != nil {
			return nil, err
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		return &CTE{Pos: start, Name: name, Query: q}, nil
	}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	if err := p.expectKw("AS"); err != nil {
		return nil, err
	}
	name, _, err := p.name("a name after AS")
	if err != nil {
		return nil, err
	}
	return &CTE{Pos: start, Name: name, Expr: e}, nil
}

func (p *parser) selectItem() (Expr, error) {
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.acceptKw("AS") {
		name, _, err := p.name("a column alias after AS")
		if err != nil {
			return nil, err
		}
		return &Alias{Pos: e.At(), X: e, Name: name}, nil
	}
	if p.isAliasStart() {
		name, _, _ := p.name("")
		return &Alias{Pos: e.At(), X: e, Name: name}, nil
	}
	return e, nil
}

func (p *parser) from() (*From, error) {
	first, err := p.tableRef()
	if err != nil {
		return nil, err
	}
	f := &From{First: first}
	for {
		j, ok, err := p.join()
		if err != nil {
			return nil, err
		}
		if !ok {
			return f, nil
		}
		f.Joins = append(f.Joins, j)
	}
}

// joinWords are the words that may precede JOIN, in any order.
var joinWords = map[string]bool{
	"GLOBAL": true, "ANY": true, "ALL": true, "SEMI": true, "ANTI": true, "ASOF": true,
	"INNER": true, "LEFT": true, "RIGHT": true, "FULL": true, "CROSS": true, "OUTER": true,
}

func (p *parser) join() (*Join, bool, error) {
	start := p.peek().Pos
	if p.acceptPunct(",") {
		t, err := p.tableRef()
		if err != nil {
			return nil, false, err
		}
		return &Join{Pos: start, Comma: true, Type: "CROSS", Table: t}, true, nil
	}
	j := &Join{Pos: start}
	n := 0
	for p.peekAt(n).Kind == TokIdent && joinWords[strings.ToUpper(p.peekAt(n).Text)] {
		n++
	}
	if !p.isKwAt(n, "JOIN") {
		if n > 0 && p.isKw("LEFT") && p.isKwAt(1, "ARRAY") {
			return nil, false, errAt(start, "ARRAY JOIN is not supported: use the arrayJoin() function")
		}
		if n > 0 {
			return nil, false, errAt(p.peekAt(n).Pos, "expected JOIN, found %s", p.peekAt(n).describe())
		}
		if p.isKw("ARRAY") {
			return nil, false, errAt(start, "ARRAY JOIN is not supported: use the arrayJoin() function")
		}
		return nil, false, nil
	}
	for ; n > 0; n-- {
		w := strings.ToUpper(p.next().Text)
		switch w {
		case "GLOBAL":
			j.Global = true
		case "ANY", "ALL", "SEMI", "ANTI", "ASOF":
			if j.Strictness != "" {
				return nil, false, errAt(start, "a JOIN takes one of ANY, ALL, SEMI, ANTI")
			}
			j.Strictness = w
		case "OUTER":
		default:
			if j.Type != "" {
				return nil, false, errAt(start, "a JOIN takes one of INNER, LEFT, RIGHT, FULL, CROSS")
			}
			j.Type = w
		}
	}
	p.i++ // JOIN
	if j.Type == "" {
		j.Type = "INNER"
	}
	t, err := p.tableRef()
	if err != nil {
		return nil, false, err
	}
	j.Table = t
	switch {
	case j.Type == "CROSS":
	case p.acceptKw("ON"):
		if j.On, err = p.expr(); err != nil {
			return nil, false, err
		}
	case p.acceptKw("USING"):
		paren := p.acceptPunct("(")
		for {
			name, _, err := p.name("a column name in USING")
			if err != nil {
				return nil, false, err
			}
			j.Using = append(j.Using, name)
			if !p.acceptPunct(",") {
				break
			}
		}
		if paren {
			if err := p.expectPunct(")"); err != nil {
				return nil, false, err
			}
		}
	default:
		return nil, false, p.expected("ON or USING after the joined table")
	}
	return j, true, nil
}

func (p *parser) tableRef() (*TableRef, error) {
	t := &TableRef{Pos: p.peek().Pos}
	switch {
	case p.isPunct("("):
		p.i++
		if !p.isKw("SELECT") && !p.isKw("WITH") && !p.isPunct("(") {
			return nil, p.expected("SELECT in the subquery")
		}
		q, err := p.query()
		if err != nil {
			return nil, err
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		t.Sub = q
	default:
		for {
			name, _, err := p.name("a table name")
			if err != nil {
				return nil, err
			}
			t.Name = append(t.Name, name)
			if !p.acceptPunct(".") {
				break
			}
		}
		if p.isPunct("(") {
			args, err := p.callArgs()
			if err != nil {
				return nil, err
			}
			t.Func = &Call{Pos: t.Pos, Name: strings.Join(t.Name, "."), Args: args}
			t.Name = nil
		}
	}
	if p.isKw("SAMPLE") {
		return nil, errAt(p.peek().Pos, "SAMPLE is not supported in ad-hoc queries")
	}
	t.Final = p.acceptKw("FINAL")
	if p.acceptKw("AS") {
		name, _, err := p.name("a table alias after AS")
		if err != nil {
			return nil, err
		}
		t.Alias = name
	} else if p.isAliasStart() {
		t.Alias, _, _ = p.name("")
	}
	if p.acceptKw("FINAL") {
		t.Final = true
	}
	if p.isKw("SAMPLE") {
		return nil, errAt(p.peek().Pos, "SAMPLE is not supported in ad-hoc queries")
	}
	return t, nil
}

func (p *parser) orderItems() ([]*OrderItem, error) {
	var out []*OrderItem
	for {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		it := &OrderItem{Expr: e}
		if p.acceptKw("DESC") || p.acceptKw("DESCENDING") {
			it.Desc = true
		} else if !p.acceptKw("ASC") {
			p.acceptKw("ASCENDING")
		}
		if p.acceptKw("NULLS") {
			switch {
			case p.acceptKw("FIRST"):
				it.Nulls = "FIRST"
			case p.acceptKw("LAST"):
				it.Nulls = "LAST"
			default:
				return nil, p.expected("FIRST or LAST after NULLS")
			}
		}
		if p.isKw("COLLATE") {
			return nil, errAt(p.peek().Pos, "COLLATE is not supported in ad-hoc queries")
		}
		if p.isKw("WITH") && p.isKwAt(1, "FILL") {
			p.i += 2
			it.Fill = &Fill{}
			for _, part := range []struct {
				kw  string
				dst *Expr
			}{{"FROM", &it.Fill.From}, {"TO", &it.Fill.To}, {"STEP", &it.Fill.Step}} {
				if p.acceptKw(part.kw) {
					if *part.dst, err = p.expr(); err != nil {
						return nil, err
					}
				}
			}
		}
		out = append(out, it)
		if !p.acceptPunct(",") {
			return out, nil
		}
	}
}

// limits parses LIMIT n [OFFSET m | , m] [BY …] [LIMIT …] [OFFSET m].
func (p *parser) limits(s *Select) error {
	for p.isKw("LIMIT") {
		p.i++
		a, err := p.count("LIMIT")
		if err != nil {
			return err
		}
		var b *Literal
		comma := false
		switch {
		case p.acceptPunct(","):
			comma = true
			if b, err = p.count("LIMIT"); err != nil {
				return err
			}
		case p.acceptKw("OFFSET"):
			if b, err = p.count("OFFSET"); err != nil {
				return err
			}
		}
		n, off := a, b
		if comma { // LIMIT offset, n
			n, off = b, a
		}
		if p.isKw("WITH") && p.isKwAt(1, "TIES") {
			return errAt(p.peek().Pos, "WITH TIES is not supported in ad-hoc queries")
		}
		if p.acceptKw("BY") {
			if s.LimitBy != nil || s.Limit != nil {
				return errAt(p.peek().Pos, "only one LIMIT … BY is allowed, before LIMIT")
			}
			by, err := p.exprList()
			if err != nil {
				return err
			}
			s.LimitBy = &LimitBy{N: n, Offset: off, By: by}
			continue
		}
		if s.Limit != nil {
			return errAt(p.peek().Pos, "LIMIT is given twice")
		}
		s.Limit, s.Offset = n, off
	}
	if s.Offset == nil && p.acceptKw("OFFSET") {
		off, err := p.count("OFFSET")
		if err != nil {
			return err
		}
		s.Offset = off
		if p.acceptKw("ROWS") || p.acceptKw("ROW") {
			return nil
		}
	}
	return nil
}

// count reads a non-negative integer literal (LIMIT and OFFSET values).
func (p *parser) count(clause string) (*Literal, error) {
	t := p.peek()
	if t.Kind == TokNumber {
		if lit, err := numberLiteral(t, false); err == nil {
			if _, ok := lit.Value.(int64); ok {
				p.i++
				return lit, nil
			}
		}
	}
	return nil, errAt(t.Pos, "%s takes a whole number, found %s", clause, t.describe())
}

func (p *parser) exprList() ([]Expr, error) {
	var out []Expr
	for {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		if !p.acceptPunct(",") {
			return out, nil
		}
	}
}
