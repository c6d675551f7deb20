package metrics

import (
	"fmt"
	"slices"
	"strconv"
)

// Limits of a FORMULA expression.
const (
	maxExpressionLen   = 500
	maxExpressionDepth = 32
)

// Expr is a parsed FORMULA: arithmetic over metric keys and numbers.
type Expr struct{ root *node }

// node is one expression tree node: a number, a metric key, a negation
// (op '~') or a binary operator.
type node struct {
	op          byte // 0 number, 'k' key, '~' negate, + - * /
	num         float64
	key         string
	left, right *node
}

// parser is a recursive-descent parser over the expression text.
type parser struct {
	s     string
	pos   int
	depth int
}

// ParseExpression parses a FORMULA such as "a / b * 100". Keys are
// [a-z][a-z0-9_]*; the operators are + - * / and unary minus.
func ParseExpression(s string) (*Expr, error) {
	if len(s) > maxExpressionLen {
		return nil, fmt.Errorf("expression is longer than %d characters", maxExpressionLen)
	}
	p := &parser{s: s}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.s) {
		return nil, fmt.Errorf("unexpected %q at position %d", p.s[p.pos], p.pos+1)
	}
	return &Expr{root: n}, nil
}

// Idents returns the metric keys the expression uses, sorted, once each.
func (e *Expr) Idents() []string {
	var out []string
	var walk func(n *node)
	walk = func(n *node) {
		if n == nil {
			return
		}
		if n.op == 'k' && !slices.Contains(out, n.key) {
			out = append(out, n.key)
		}
		walk(n.left)
		walk(n.right)
	}
	walk(e.root)
	slices.Sort(out)
	return out
}

// Eval computes the expression; a missing value or a division by zero
// makes the result nil.
func (e *Expr) Eval(vals map[string]*float64) *float64 {
	return eval(e.root, vals)
}

func eval(n *node, vals map[string]*float64) *float64 {
	switch n.op {
	case 0:
		v := n.num
		return &v
	case 'k':
		return vals[n.key]
	case '~':
		x := eval(n.left, vals)
		if x == nil {
			return nil
		}
		v := -*x
		return &v
	}
	l, r := eval(n.left, vals), eval(n.right, vals)
	if l == nil || r == nil {
		return nil
	}
	var v float64
	switch n.op {
	case '+':
		v = *l + *r
	case '-':
		v = *l - *r
	case '*':
		v = *l * *r
	case '/':
		if *r == 0 {
			return nil
		}
		v = *l / *r
	}
	return &v
}

func (p *parser) space() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

func (p *parser) peek() byte {
	p.space()
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *parser) expr() (*node, error) {
	return p.binary(p.term, '+', '-')
}

func (p *parser) term() (*node, error) {
	return p.binary(p.factor, '*', '/')
}

// binary parses a left-associative chain of next separated by ops a or b.
func (p *parser) binary(next func() (*node, error), a, b byte) (*node, error) {
	left, err := next()
	if err != nil {
		return nil, err
	}
	for c := p.peek(); c == a || c == b; c = p.peek() {
		p.pos++
		right, err := next()
		if err != nil {
			return nil, err
		}
		left = &node{op: c, left: left, right: right}
	}
	return left, nil
}

func (p *parser) factor() (*node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxExpressionDepth {
		return nil, fmt.Errorf("expression nests deeper than %d", maxExpressionDepth)
	}
	c := p.peek()
	switch {
	case c == '(':
		p.pos++
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.peek() != ')' {
			return nil, fmt.Errorf("missing ) at position %d", p.pos+1)
		}
		p.pos++
		return n, nil
	case c == '-':
		p.pos++
		n, err := p.factor()
		if err != nil {
			return nil, err
		}
		return &node{op: '~', left: n}, nil
	case c >= '0' && c <= '9' || c == '.':
		start := p.pos
		for p.pos < len(p.s) && (p.s[p.pos] >= '0' && p.s[p.pos] <= '9' || p.s[p.pos] == '.') {
			p.pos++
		}
		v, err := strconv.ParseFloat(p.s[start:p.pos], 64)
		if err != nil {
			return nil, fmt.Errorf("bad number %q at position %d", p.s[start:p.pos], start+1)
		}
		return &node{num: v}, nil
	case c >= 'a' && c <= 'z':
		start := p.pos
		for p.pos < len(p.s) && (p.s[p.pos] >= 'a' && p.s[p.pos] <= 'z' || p.s[p.pos] >= '0' && p.s[p.pos] <= '9' || p.s[p.pos] == '_') {
			p.pos++
		}
		return &node{op: 'k', key: p.s[start:p.pos]}, nil
	case c == 0:
		return nil, fmt.Errorf("expression ends early; expected a number, a metric key or (")
	}
	return nil, fmt.Errorf("unexpected %q at position %d; expected a number, a metric key or (", c, p.pos+1)
}
