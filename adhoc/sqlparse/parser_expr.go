package sqlparse

import (
	"math"
	"strconv"
	"strings"
)

// comparisonOps maps the comparison operators to their printed form.
var comparisonOps = map[string]string{
	"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
}

// intervalUnits are the units INTERVAL accepts.
var intervalUnits = map[string]bool{
	"SECOND": true, "MINUTE": true, "HOUR": true, "DAY": true,
	"WEEK": true, "MONTH": true, "QUARTER": true, "YEAR": true,
}

// expr parses an expression, lambdas included (lowest precedence).
func (p *parser) expr() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	start := p.peek().Pos
	x, err := p.ternary()
	if err != nil {
		return nil, err
	}
	if !p.isPunct("->") {
		return x, nil
	}
	params, ok := lambdaParams(x)
	if !ok {
		return nil, errAt(start, "a lambda's parameters must be names: x -> … or (x, y) -> …")
	}
	p.i++
	body, err := p.expr()
	if err != nil {
		return nil, err
	}
	return &Lambda{Pos: start, Params: params, Body: body}, nil
}

func lambdaParams(x Expr) ([]string, bool) {
	switch v := x.(type) {
	case *Ident:
		if len(v.Parts) == 1 && v.SubType == nil {
			return v.Parts, true
		}
	case *Tuple:
		var out []string
		for _, e := range v.Elems {
			id, ok := e.(*Ident)
			if !ok || len(id.Parts) != 1 || id.SubType != nil {
				return nil, false
			}
			out = append(out, id.Parts[0])
		}
		return out, true
	}
	return nil, false
}

func (p *parser) ternary() (Expr, error) {
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if !p.isPunct("?") {
		return c, nil
	}
	p.i++
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	a, err := p.ternary()
	if err != nil {
		return nil, err
	}
	if err := p.expectPunct(":"); err != nil {
		return nil, err
	}
	b, err := p.ternary()
	if err != nil {
		return nil, err
	}
	return &Ternary{Pos: c.At(), Cond: c, Then: a, Else: b}, nil
}

func (p *parser) or() (Expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isKw("OR") {
		p.i++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &Binary{Pos: l.At(), Op: "OR", L: l, R: r}
	}
	return l, nil
}

func (p *parser) and() (Expr, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.isKw("AND") {
		p.i++
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = &Binary{Pos: l.At(), Op: "AND", L: l, R: r}
	}
	return l, nil
}

func (p *parser) not() (Expr, error) {
	if p.isKw("NOT") {
		t := p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &Unary{Pos: t.Pos, Op: "NOT", X: x}, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (Expr, error) {
	l, err := p.concat()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if op, ok := comparisonOps[t.Text]; ok && t.Kind == TokPunct {
			p.i++
			r, err := p.concat()
			if err != nil {
				return nil, err
			}
			l = &Binary{Pos: l.At(), Op: op, L: l, R: r}
			continue
		}
		not := false
		if p.isKw("NOT") && (p.isKwAt(1, "LIKE") || p.isKwAt(1, "ILIKE") || p.isKwAt(1, "IN") || p.isKwAt(1, "BETWEEN")) {
			not = true
			p.i++
		}
		switch {
		case p.isKw("LIKE") || p.isKw("ILIKE"):
			op := strings.ToUpper(p.next().Text)
			if not {
				op = "NOT " + op
			}
			r, err := p.concat()
			if err != nil {
				return nil, err
			}
			l = &Binary{Pos: l.At(), Op: op, L: l, R: r}
		case p.isKw("IN"):
			p.i++
			in, err := p.inRHS(l, not)
			if err != nil {
				return nil, err
			}
			l = in
		case p.isKw("BETWEEN"):
			p.i++
			lo, err := p.concat()
			if err != nil {
				return nil, err
			}
			if err := p.expectKw("AND"); err != nil {
				return nil, err
			}
			hi, err := p.concat()
			if err != nil {
				return nil, err
			}
			l = &Between{Pos: l.At(), X: l, Lo: lo, Hi: hi, Not: not}
		case p.isKw("IS"):
			p.i++
			n := p.acceptKw("NOT")
			if err := p.expectKw("NULL"); err != nil {
				return nil, err
			}
			l = &IsNull{Pos: l.At(), X: l, Not: n}
		case p.isKw("GLOBAL"):
			return nil, errAt(t.Pos, "GLOBAL IN is not supported: use IN")
		default:
			return l, nil
		}
	}
}

// inRHS parses the right side of IN: a parenthesised list or subquery.
// A bare name (a table or CTE read by IN) is refused: it would read a
// table without its tenant guard.
func (p *parser) inRHS(x Expr, not bool) (Expr, error) {
	in := &In{Pos: x.At(), X: x, Not: not}
	if !p.isPunct("(") {
		return nil, errAt(p.peek().Pos, "IN takes a parenthesised list or subquery, found %s", p.peek().describe())
	}
	p.i++
	if p.isKw("SELECT") || p.isKw("WITH") {
		q, err := p.query()
		if err != nil {
			return nil, err
		}
		in.Sub = q
	} else {
		list, err := p.exprList()
		if err != nil {
			return nil, err
		}
		if id, ok := list[0].(*Ident); ok && len(list) == 1 {
			// ClickHouse reads `x IN (name)` as a table or CTE name.
			return nil, errAt(id.Pos, "IN (%s) with a single name is not allowed: write = for a column, or IN (SELECT …) for a set", strings.Join(id.Parts, "."))
		}
		in.List = list
	}
	if err := p.expectPunct(")"); err != nil {
		return nil, err
	}
	return in, nil
}

func (p *parser) concat() (Expr, error) {
	l, err := p.additive()
	if err != nil {
		return nil, err
	}
	for p.isPunct("||") {
		p.i++
		r, err := p.additive()
		if err != nil {
			return nil, err
		}
		l = &Binary{Pos: l.At(), Op: "||", L: l, R: r}
	}
	return l, nil
}

func (p *parser) additive() (Expr, error) {
	l, err := p.multiplicative()
	if err != nil {
		return nil, err
	}
	for p.isPunct("+") || p.isPunct("-") {
		op := p.next().Text
		r, err := p.multiplicative()
		if err != nil {
			return nil, err
		}
		l = &Binary{Pos: l.At(), Op: op, L: l, R: r}
	}
	return l, nil
}

func (p *parser) multiplicative() (Expr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.isPunct("*") || p.isPunct("/") || p.isPunct("%") {
		op := p.next().Text
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &Binary{Pos: l.At(), Op: op, L: l, R: r}
	}
	return l, nil
}

func (p *parser) unary() (Expr, error) {
	if !p.isPunct("-") {
		return p.postfix()
	}
	t := p.next()
	if n := p.peek(); n.Kind == TokNumber && !p.postfixFollows(1) {
		p.i++
		return numberLiteral(n, true)
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	return &Unary{Pos: t.Pos, Op: "-", X: x}, nil
}

// postfixFollows reports whether the token n ahead starts a postfix
// operator, which binds tighter than unary minus.
func (p *parser) postfixFollows(n int) bool {
	t := p.peekAt(n)
	return t.Kind == TokPunct && (t.Text == "::" || t.Text == "[" || t.Text == ".")
}

func (p *parser) postfix() (Expr, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case p.isPunct("["):
			p.i++
			if err := p.enter(); err != nil {
				return nil, err
			}
			i, err := p.expr()
			p.leave()
			if err != nil {
				return nil, err
			}
			if err := p.expectPunct("]"); err != nil {
				return nil, err
			}
			x = &Index{Pos: x.At(), X: x, I: i}
		case p.isPunct("::"):
			p.i++
			typ, err := p.typ()
			if err != nil {
				return nil, err
			}
			x = &Cast{Pos: x.At(), X: x, Type: typ}
		case p.isPunct(".") && p.peekAt(1).Kind == TokNumber:
			p.i++
			n, err := p.count("tuple access")
			if err != nil {
				return nil, err
			}
			x = &TupleAccess{Pos: x.At(), X: x, N: n}
		case p.isPunct(".") && (p.peekAt(1).Kind == TokIdent || p.peekAt(1).Kind == TokQuotedIdent):
			return nil, errAt(t.Pos, "named access on an expression is not supported: use tupleElement(x, 'name')")
		default:
			return x, nil
		}
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
	}
}

func (p *parser) primary() (Expr, error) {
	t := p.peek()
	switch t.Kind {
	case TokNumber:
		p.i++
		return numberLiteral(t, false)
	case TokString:
		p.i++
		return &Literal{Pos: t.Pos, Kind: LitString, Value: t.Text}, nil
	case TokEOF:
		return nil, p.expected("an expression")
	case TokPunct:
		switch t.Text {
		case "(":
			return p.paren()
		case "[":
			p.i++
			a := &Array{Pos: t.Pos}
			if !p.acceptPunct("]") {
				elems, err := p.exprList()
				if err != nil {
					return nil, err
				}
				a.Elems = elems
				if err := p.expectPunct("]"); err != nil {
					return nil, err
				}
			}
			return a, nil
		case "*":
			p.i++
			return &Star{Pos: t.Pos}, nil
		}
		return nil, p.expected("an expression")
	}
	if t.Kind == TokIdent {
		switch strings.ToUpper(t.Text) {
		case "NULL":
			p.i++
			return &Literal{Pos: t.Pos, Kind: LitNull}, nil
		case "TRUE", "FALSE":
			p.i++
			return &Literal{Pos: t.Pos, Kind: LitBool, Value: strings.EqualFold(t.Text, "TRUE")}, nil
		case "CASE":
			return p.caseExpr()
		case "CAST":
			if p.peekAt(1).Kind == TokPunct && p.peekAt(1).Text == "(" {
				return p.castExpr()
			}
		case "INTERVAL":
			return p.interval()
		case "EXISTS":
			return nil, errAt(t.Pos, "EXISTS is not supported: use IN with a subquery")
		case "SELECT", "WITH":
			return nil, errAt(t.Pos, "a subquery must be in parentheses")
		}
	}
	return p.identOrCall()
}

// paren parses ( subquery ), ( expr ) or a tuple ( a, b … ).
func (p *parser) paren() (Expr, error) {
	open := p.next()
	if p.isKw("SELECT") || p.isKw("WITH") {
		q, err := p.query()
		if err != nil {
			return nil, err
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		return &Subquery{Pos: open.Pos, Query: q}, nil
	}
	if p.acceptPunct(")") {
		return &Tuple{Pos: open.Pos}, nil
	}
	elems, err := p.exprList()
	if err != nil {
		return nil, err
	}
	if err := p.expectPunct(")"); err != nil {
		return nil, err
	}
	if len(elems) == 1 {
		return elems[0], nil
	}
	return &Tuple{Pos: open.Pos, Elems: elems}, nil
}

func (p *parser) identOrCall() (Expr, error) {
	start := p.peek()
	var parts []string
	for {
		t := p.peek()
		switch {
		case t.Kind == TokQuotedIdent:
		case t.Kind == TokIdent && (!reserved[strings.ToUpper(t.Text)] || len(parts) > 0 ||
			p.peekAt(1).Kind == TokPunct && p.peekAt(1).Text == "("):
		default:
			return nil, p.expected("an expression")
		}
		p.i++
		parts = append(parts, t.Text)
		if !(p.isPunct(".") && (p.peekAt(1).Kind == TokIdent || p.peekAt(1).Kind == TokQuotedIdent)) {
			break
		}
		p.i++
	}
	if p.isPunct(".") && p.peekAt(1).Kind == TokPunct && p.peekAt(1).Text == "*" {
		p.i += 2
		return &Star{Pos: start.Pos, Table: parts}, nil
	}
	if p.isPunct(".") && p.peekAt(1).Kind == TokPunct && p.peekAt(1).Text == ":" {
		p.i += 2
		typ, err := p.typ()
		if err != nil {
			return nil, err
		}
		return &Ident{Pos: start.Pos, Parts: parts, SubType: typ}, nil
	}
	if !p.isPunct("(") {
		return &Ident{Pos: start.Pos, Parts: parts}, nil
	}
	if len(parts) > 1 {
		return nil, errAt(start.Pos, "function %s: database-qualified names are not allowed", strings.Join(parts, "."))
	}
	if start.Kind == TokQuotedIdent {
		return nil, errAt(start.Pos, "function names cannot be quoted: write %s(…)", start.Text)
	}
	c := &Call{Pos: start.Pos, Name: start.Text}
	args, distinct, err := p.callArgsDistinct()
	if err != nil {
		return nil, err
	}
	if p.isPunct("(") { // parametric: name(params)(args)
		if distinct {
			return nil, errAt(start.Pos, "DISTINCT belongs in the argument list, not the parameters")
		}
		c.Params = args
		if c.Params == nil {
			c.Params = []Expr{}
		}
		if args, distinct, err = p.callArgsDistinct(); err != nil {
			return nil, err
		}
	}
	c.Args, c.Distinct = args, distinct
	if p.isKw("OVER") {
		p.i++
		w, err := p.window()
		if err != nil {
			return nil, err
		}
		c.Over = w
	}
	return c, nil
}

func (p *parser) callArgs() ([]Expr, error) {
	args, distinct, err := p.callArgsDistinct()
	if err == nil && distinct {
		return nil, errAt(p.peek().Pos, "DISTINCT is not allowed here")
	}
	return args, err
}

// callArgsDistinct parses ( [DISTINCT] args ).
func (p *parser) callArgsDistinct() ([]Expr, bool, error) {
	if err := p.expectPunct("("); err != nil {
		return nil, false, err
	}
	if err := p.enter(); err != nil {
		return nil, false, err
	}
	defer p.leave()
	if p.acceptPunct(")") {
		return nil, false, nil
	}
	distinct := p.acceptKw("DISTINCT")
	args, err := p.exprList()
	if err != nil {
		return nil, false, err
	}
	if err := p.expectPunct(")"); err != nil {
		return nil, false, err
	}
	return args, distinct, nil
}

func (p *parser) window() (*Window, error) {
	if !p.isPunct("(") {
		return nil, errAt(p.peek().Pos, "named windows are not supported: write OVER (PARTITION BY … ORDER BY …)")
	}
	p.i++
	w := &Window{}
	var err error
	if p.isKw("PARTITION") {
		p.i++
		if err := p.expectKw("BY"); err != nil {
			return nil, err
		}
		if w.PartitionBy, err = p.exprList(); err != nil {
			return nil, err
		}
	}
	if p.isKw("ORDER") {
		p.i++
		if err := p.expectKw("BY"); err != nil {
			return nil, err
		}
		if w.OrderBy, err = p.orderItems(); err != nil {
			return nil, err
		}
	}
	if p.isKw("ROWS") || p.isKw("RANGE") {
		return nil, errAt(p.peek().Pos, "window frames are not supported: use PARTITION BY and ORDER BY only")
	}
	if err := p.expectPunct(")"); err != nil {
		return nil, err
	}
	return w, nil
}

func (p *parser) caseExpr() (Expr, error) {
	start := p.next().Pos
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	c := &Case{Pos: start}
	var err error
	if !p.isKw("WHEN") {
		if c.Operand, err = p.expr(); err != nil {
			return nil, err
		}
	}
	for p.acceptKw("WHEN") {
		var w When
		if w.Cond, err = p.expr(); err != nil {
			return nil, err
		}
		if err := p.expectKw("THEN"); err != nil {
			return nil, err
		}
		if w.Then, err = p.expr(); err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, w)
	}
	if len(c.Whens) == 0 {
		return nil, p.expected("WHEN")
	}
	if p.acceptKw("ELSE") {
		if c.Else, err = p.expr(); err != nil {
			return nil, err
		}
	}
	if err := p.expectKw("END"); err != nil {
		return nil, err
	}
	return c, nil
}

// castExpr parses CAST(x AS Type); CAST(x, 'Type') is refused so types
// never travel as strings.
func (p *parser) castExpr() (Expr, error) {
	start := p.next().Pos
	p.i++ // (
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.isPunct(",") {
		return nil, errAt(p.peek().Pos, "write CAST(x AS Type) or x::Type")
	}
	if err := p.expectKw("AS"); err != nil {
		return nil, err
	}
	typ, err := p.typ()
	if err != nil {
		return nil, err
	}
	if err := p.expectPunct(")"); err != nil {
		return nil, err
	}
	return &Cast{Pos: start, X: x, Type: typ}, nil
}

func (p *parser) interval() (Expr, error) {
	start := p.next().Pos
	if p.peek().Kind == TokString {
		return nil, errAt(p.peek().Pos, "write INTERVAL n UNIT, e.g. INTERVAL 7 DAY")
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	x, err := p.postfix()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	unit := strings.TrimSuffix(strings.ToUpper(t.Text), "S")
	if t.Kind != TokIdent || !intervalUnits[unit] {
		return nil, p.expected("an interval unit (SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER, YEAR)")
	}
	p.i++
	return &Interval{Pos: start, X: x, Unit: unit}, nil
}

// typ parses a type: Name or Name(args), args being numbers, strings,
// types or `field Type` pairs.
func (p *parser) typ() (*Type, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	t := p.peek()
	if t.Kind != TokIdent && t.Kind != TokQuotedIdent {
		return nil, p.expected("a type name")
	}
	p.i++
	typ := &Type{Pos: t.Pos, Name: t.Text}
	if !p.acceptPunct("(") {
		return typ, nil
	}
	for {
		var a TypeArg
		switch n := p.peek(); {
		case n.Kind == TokNumber:
			p.i++
			a.Number = n.Text
		case n.Kind == TokString:
			p.i++
			s := n.Text
			a.Str = &s
		case (n.Kind == TokIdent || n.Kind == TokQuotedIdent) && (p.peekAt(1).Kind == TokIdent || p.peekAt(1).Kind == TokQuotedIdent):
			p.i++
			a.Field = n.Text
			fallthrough
		default:
			sub, err := p.typ()
			if err != nil {
				return nil, err
			}
			a.Type = sub
		}
		typ.Args = append(typ.Args, a)
		if !p.acceptPunct(",") {
			break
		}
	}
	if err := p.expectPunct(")"); err != nil {
		return nil, err
	}
	return typ, nil
}

// numberLiteral converts a number token, negated when neg is set.
func numberLiteral(t Token, neg bool) (*Literal, error) {
	text := t.Text
	lit := &Literal{Pos: t.Pos}
	isHex := len(text) > 2 && (text[1] == 'x' || text[1] == 'X')
	if isHex || !strings.ContainsAny(text, ".eE") {
		base, digits := 10, text
		if isHex {
			base, digits = 16, text[2:]
		}
		u, err := strconv.ParseUint(digits, base, 64)
		if err != nil {
			return nil, errAt(t.Pos, "number %s is out of range", text)
		}
		lit.Kind = LitInt
		switch {
		case !neg && u <= math.MaxInt64:
			lit.Value = int64(u)
		case !neg:
			lit.Value = u
		case u <= math.MaxInt64:
			lit.Value = -int64(u)
		case u == math.MaxInt64+1:
			lit.Value = int64(math.MinInt64)
		default:
			return nil, errAt(t.Pos, "number -%s is out of range", text)
		}
		return lit, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, errAt(t.Pos, "number %s is out of range", text)
	}
	if neg {
		f = -f
	}
	lit.Kind, lit.Value = LitFloat, f
	return lit, nil
}
