package sqlparse

import (
	"strconv"
	"strings"

	"github.com/learnhub/analytics-service/store/sqltext"
)

// Hooks decide, while a query is printed, how the parts that carry
// tenant-controlled content appear. The printer calls them in output
// order, so a hook that collects arguments for `?` gets them in order.
type Hooks interface {
	// Literal renders a constant, e.g. "?" after recording its value.
	Literal(l *Literal) (string, error)
	// Table renders a table reference that does not name a CTE in scope
	// (a table name or a table function), alias included.
	Table(ref *TableRef) (string, error)
	// Function returns the name to print for a call, or refuses it.
	Function(c *Call) (string, error)
	// Name vets a name the query introduces: a column or table alias, a
	// WITH name or a lambda parameter. kind says which.
	Name(kind, name string, pos Pos) error
}

// Print renders q as ClickHouse SQL through hooks. Identifiers pass
// store.QuoteIdent; operators are printed fully parenthesised, the ternary
// as if(), tuples as tuple(); the text never contains a `?` the hooks did
// not write.
func Print(q *Query, h Hooks) (string, error) {
	pr := &printer{h: h}
	pr.query(q)
	if pr.err != nil {
		return "", pr.err
	}
	return pr.b.String(), nil
}

// Format renders q in canonical form with literals inline: what the
// parser reads back to the same tree. Used for column names and tests.
func Format(q *Query) (string, error) { return Print(q, Canonical{}) }

// FormatExpr renders one expression in canonical form.
func FormatExpr(e Expr) (string, error) { return PrintExpr(e, Canonical{}) }

// FormatType renders a type as the printer writes it.
func FormatType(t *Type) (string, error) {
	pr := &printer{h: Canonical{}}
	pr.typ(t)
	return pr.b.String(), pr.err
}

// Canonical is the Hooks that prints everything as written: literals
// inline, tables and functions by name, every name accepted.
type Canonical struct{}

// Literal implements Hooks.
func (Canonical) Literal(l *Literal) (string, error) { return InlineLiteral(l), nil }

// Table implements Hooks.
func (Canonical) Table(ref *TableRef) (string, error) {
	pr := &printer{h: Canonical{}}
	if ref.Func != nil {
		pr.call(ref.Func)
	} else {
		pr.w(QuoteName(ref.Name))
	}
	if ref.Final {
		pr.w(" FINAL")
	}
	if ref.Alias != "" {
		pr.w(" AS " + sqltext.QuoteIdent(ref.Alias))
	}
	return pr.b.String(), pr.err
}

// Function implements Hooks.
func (Canonical) Function(c *Call) (string, error) { return c.Name, nil }

// Name implements Hooks.
func (Canonical) Name(string, string, Pos) error { return nil }

// InlineLiteral renders a literal as ClickHouse text.
func InlineLiteral(l *Literal) string {
	switch v := l.Value.(type) {
	case nil:
		return "NULL"
	case bool:
		if v {
			return "true"
		}
		return "false"
	case int64:
		return strconv.FormatInt(v, 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case float64:
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		return s
	case string:
		return sqltext.QuoteString(v)
	}
	return "NULL"
}

// QuoteName quotes each part of a dotted name.
func QuoteName(parts []string) string {
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = sqltext.QuoteIdent(p)
	}
	return strings.Join(q, ".")
}

type printer struct {
	h      Hooks
	b      strings.Builder
	err    error
	scopes []map[string]bool // CTE names visible at this point
}

func (pr *printer) w(s string) { pr.b.WriteString(s) }

func (pr *printer) fail(err error) {
	if pr.err == nil {
		pr.err = err
	}
}

func (pr *printer) name(kind, name string, pos Pos) {
	if err := pr.h.Name(kind, name, pos); err != nil {
		pr.fail(err)
	}
}

func (pr *printer) isCTE(name string) bool {
	for i := len(pr.scopes) - 1; i >= 0; i-- {
		if pr.scopes[i][name] {
			return true
		}
	}
	return false
}

func (pr *printer) query(q *Query) {
	for i, s := range q.Selects {
		if i > 0 {
			pr.w(" " + q.Ops[i-1] + " ")
		}
		if len(q.Selects) > 1 {
			pr.w("(")
		}
		pr.selectStmt(s)
		if len(q.Selects) > 1 {
			pr.w(")")
		}
	}
}

func (pr *printer) selectStmt(s *Select) {
	scope := map[string]bool{}
	pr.scopes = append(pr.scopes, scope)
	defer func() { pr.scopes = pr.scopes[:len(pr.scopes)-1] }()
	if len(s.With) > 0 {
		pr.w("WITH ")
		for i, c := range s.With {
			if i > 0 {
				pr.w(", ")
			}
			pr.name("WITH name", c.Name, c.Pos)
			if c.Query != nil {
				pr.w(sqltext.QuoteIdent(c.Name) + " AS (")
				pr.query(c.Query)
				pr.w(")")
				scope[c.Name] = true
			} else {
				pr.expr(c.Expr)
				pr.w(" AS " + sqltext.QuoteIdent(c.Name))
			}
		}
		pr.w(" ")
	}
	pr.w("SELECT ")
	if s.Distinct {
		pr.w("DISTINCT ")
	}
	pr.exprs(s.Columns)
	if s.From != nil {
		pr.w(" FROM ")
		pr.from(s.From)
	}
	if s.Where != nil {
		pr.w(" WHERE ")
		pr.expr(s.Where)
	}
	if len(s.GroupBy) > 0 {
		pr.w(" GROUP BY ")
		pr.positional(s.GroupBy)
		if s.GroupMod != "" {
			pr.w(" WITH " + s.GroupMod)
		}
	}
	if s.WithTotals {
		pr.w(" WITH TOTALS")
	}
	if s.Having != nil {
		pr.w(" HAVING ")
		pr.expr(s.Having)
	}
	if len(s.OrderBy) > 0 {
		pr.w(" ORDER BY ")
		pr.orderItems(s.OrderBy)
	}
	if s.LimitBy != nil {
		pr.w(" LIMIT ")
		pr.expr(s.LimitBy.N)
		if s.LimitBy.Offset != nil {
			pr.w(" OFFSET ")
			pr.expr(s.LimitBy.Offset)
		}
		pr.w(" BY ")
		pr.positional(s.LimitBy.By)
	}
	if s.Limit != nil {
		pr.w(" LIMIT ")
		pr.expr(s.Limit)
	}
	if s.Offset != nil {
		pr.w(" OFFSET ")
		pr.expr(s.Offset)
	}
}

func (pr *printer) from(f *From) {
	pr.tableRef(f.First)
	for _, j := range f.Joins {
		if j.Comma {
			pr.w(", ")
			pr.tableRef(j.Table)
			continue
		}
		if j.Global {
			pr.fail(errAt(j.Pos, "GLOBAL JOIN is not supported: use JOIN"))
			return
		}
		if j.Strictness == "ASOF" {
			pr.fail(errAt(j.Pos, "ASOF JOIN is not supported in ad-hoc queries"))
			return
		}
		pr.w(" " + j.Type)
		if j.Strictness != "" {
			pr.w(" " + j.Strictness)
		}
		pr.w(" JOIN ")
		pr.tableRef(j.Table)
		switch {
		case j.On != nil:
			pr.w(" ON ")
			pr.expr(j.On)
		case len(j.Using) > 0:
			pr.w(" USING ")
			pr.names(j.Using)
		}
	}
}

func (pr *printer) tableRef(t *TableRef) {
	if t.Alias != "" {
		pr.name("table alias", t.Alias, t.Pos)
	}
	switch {
	case t.Sub != nil:
		pr.w("(")
		pr.query(t.Sub)
		pr.w(")")
		if t.Final {
			pr.fail(errAt(t.Pos, "FINAL applies to tables, not subqueries"))
		}
		if t.Alias != "" {
			pr.w(" AS " + sqltext.QuoteIdent(t.Alias))
		}
	case len(t.Name) == 1 && t.Func == nil && pr.isCTE(t.Name[0]):
		pr.w(sqltext.QuoteIdent(t.Name[0]))
		if t.Alias != "" {
			pr.w(" AS " + sqltext.QuoteIdent(t.Alias))
		}
	default:
		pr.emit(pr.h.Table(t))
	}
}

func (pr *printer) exprs(es []Expr) {
	for i, e := range es {
		if i > 0 {
			pr.w(", ")
		}
		pr.expr(e)
	}
}

// positional prints GROUP BY / LIMIT BY keys: a bare integer there is a
// column position, so it stays inline (a bound value would be a constant).
func (pr *printer) positional(es []Expr) {
	for i, e := range es {
		if i > 0 {
			pr.w(", ")
		}
		if l, ok := e.(*Literal); ok && l.Kind == LitInt {
			pr.w(InlineLiteral(l))
			continue
		}
		pr.expr(e)
	}
}

func (pr *printer) orderItems(items []*OrderItem) {
	for i, it := range items {
		if i > 0 {
			pr.w(", ")
		}
		pr.positional([]Expr{it.Expr})
		if it.Desc {
			pr.w(" DESC")
		}
		if it.Nulls != "" {
			pr.w(" NULLS " + it.Nulls)
		}
		if it.Fill != nil {
			pr.w(" WITH FILL")
			for _, part := range []struct {
				kw string
				e  Expr
			}{{"FROM", it.Fill.From}, {"TO", it.Fill.To}, {"STEP", it.Fill.Step}} {
				if part.e != nil {
					pr.w(" " + part.kw + " ")
					pr.expr(part.e)
				}
			}
		}
	}
}

func (pr *printer) literal(l *Literal) { pr.emit(pr.h.Literal(l)) }

// emit writes what a hook returned, or records its refusal.
func (pr *printer) emit(s string, err error) bool {
	if err != nil {
		pr.fail(err)
		return false
	}
	pr.w(s)
	return true
}

// names writes (a, b, …) with every name quoted.
func (pr *printer) names(ns []string) {
	pr.w("(")
	for i, n := range ns {
		if i > 0 {
			pr.w(", ")
		}
		pr.w(sqltext.QuoteIdent(n))
	}
	pr.w(")")
}

func (pr *printer) expr(e Expr) {
	if pr.err != nil {
		return
	}
	switch x := e.(type) {
	case *Literal:
		pr.literal(x)
	case *Ident:
		pr.w(QuoteName(x.Parts))
		if x.SubType != nil {
			pr.w(".:")
			pr.typ(x.SubType)
		}
	case *Star:
		if len(x.Table) > 0 {
			pr.w(QuoteName(x.Table) + ".")
		}
		pr.w("*")
		if len(x.Except) > 0 {
			pr.w(" EXCEPT ")
			pr.names(x.Except)
		}
	case *Call:
		pr.call(x)
	case *Unary:
		if x.Op == "NOT" {
			pr.w("(NOT ")
		} else {
			pr.w("-(")
		}
		pr.expr(x.X)
		pr.w(")")
	case *Binary:
		pr.w("(")
		pr.chain(x)
		pr.w(")")
	case *In:
		pr.w("(")
		pr.expr(x.X)
		if x.Not {
			pr.w(" NOT")
		}
		pr.w(" IN (")
		if x.Sub != nil {
			pr.query(x.Sub)
		} else {
			pr.exprs(x.List)
		}
		pr.w("))")
	case *Between:
		pr.w("(")
		pr.expr(x.X)
		if x.Not {
			pr.w(" NOT")
		}
		pr.w(" BETWEEN ")
		pr.expr(x.Lo)
		pr.w(" AND ")
		pr.expr(x.Hi)
		pr.w(")")
	case *IsNull:
		pr.w("(")
		pr.expr(x.X)
		if x.Not {
			pr.w(" IS NOT NULL)")
		} else {
			pr.w(" IS NULL)")
		}
	case *Case:
		pr.w("CASE")
		if x.Operand != nil {
			pr.w(" ")
			pr.expr(x.Operand)
		}
		for _, w := range x.Whens {
			pr.w(" WHEN ")
			pr.expr(w.Cond)
			pr.w(" THEN ")
			pr.expr(w.Then)
		}
		if x.Else != nil {
			pr.w(" ELSE ")
			pr.expr(x.Else)
		}
		pr.w(" END")
	case *Cast:
		pr.w("CAST(")
		pr.expr(x.X)
		pr.w(" AS ")
		pr.typ(x.Type)
		pr.w(")")
	case *Interval:
		pr.w("INTERVAL (")
		pr.expr(x.X)
		pr.w(") " + x.Unit)
	case *Ternary:
		pr.w("if(")
		pr.exprs([]Expr{x.Cond, x.Then, x.Else})
		pr.w(")")
	case *Array:
		pr.w("[")
		pr.exprs(x.Elems)
		pr.w("]")
	case *Tuple:
		pr.w("tuple(")
		pr.exprs(x.Elems)
		pr.w(")")
	case *Index:
		pr.expr(x.X)
		pr.w("[")
		pr.expr(x.I)
		pr.w("]")
	case *TupleAccess:
		pr.w("tupleElement(")
		pr.expr(x.X)
		pr.w(", ")
		pr.literal(x.N)
		pr.w(")")
	case *Lambda:
		for _, p := range x.Params {
			pr.name("lambda parameter", p, x.Pos)
		}
		if len(x.Params) == 1 {
			pr.w(sqltext.QuoteIdent(x.Params[0]))
		} else {
			pr.w("(")
			for i, p := range x.Params {
				if i > 0 {
					pr.w(", ")
				}
				pr.w(sqltext.QuoteIdent(p))
			}
			pr.w(")")
		}
		pr.w(" -> ")
		pr.expr(x.Body)
	case *Subquery:
		pr.w("(")
		pr.query(x.Query)
		pr.w(")")
	case *Alias:
		pr.name("column alias", x.Name, x.Pos)
		pr.expr(x.X)
		pr.w(" AS " + sqltext.QuoteIdent(x.Name))
	default:
		pr.fail(errAt(e.At(), "unsupported expression"))
	}
}

// chain prints a left-deep run of one operator flat, a OR b OR c, so a
// long list of conditions does not become deep nesting for the engine's
// parser; operators are left-associative, so the tree reads back the same.
func (pr *printer) chain(x *Binary) {
	if l, ok := x.L.(*Binary); ok && l.Op == x.Op {
		pr.chain(l)
	} else {
		pr.expr(x.L)
	}
	pr.w(" " + x.Op + " ")
	pr.expr(x.R)
}

func (pr *printer) call(c *Call) {
	if !pr.emit(pr.h.Function(c)) {
		return
	}
	if c.Params != nil {
		pr.w("(")
		pr.exprs(c.Params)
		pr.w(")")
	}
	pr.w("(")
	if c.Distinct {
		pr.w("DISTINCT ")
	}
	pr.exprs(c.Args)
	pr.w(")")
	if c.Over != nil {
		pr.w(" OVER (")
		if len(c.Over.PartitionBy) > 0 {
			pr.w("PARTITION BY ")
			pr.exprs(c.Over.PartitionBy)
		}
		if len(c.Over.OrderBy) > 0 {
			if len(c.Over.PartitionBy) > 0 {
				pr.w(" ")
			}
			pr.w("ORDER BY ")
			pr.orderItems(c.Over.OrderBy)
		}
		pr.w(")")
	}
}

// typ prints a type. Type arguments are part of the type, not values, so
// numbers and strings there are printed inline (escaped).
func (pr *printer) typ(t *Type) {
	if !validTypeName(t.Name) {
		pr.fail(errAt(t.Pos, "%q is not a type name", t.Name))
		return
	}
	pr.w(t.Name)
	if len(t.Args) == 0 {
		return
	}
	pr.w("(")
	for i, a := range t.Args {
		if i > 0 {
			pr.w(", ")
		}
		switch {
		case a.Type != nil:
			if a.Field != "" {
				pr.w(sqltext.QuoteIdent(a.Field) + " ")
			}
			pr.typ(a.Type)
		case a.Str != nil:
			pr.w(sqltext.QuoteString(*a.Str))
		default:
			l, err := numberLiteral(Token{Kind: TokNumber, Text: a.Number, Pos: t.Pos}, false)
			if err != nil {
				pr.fail(err)
				return
			}
			pr.w(InlineLiteral(l))
		}
	}
	pr.w(")")
}

func validTypeName(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentPart(s[i]) {
			return false
		}
	}
	return true
}

// PrintExpr renders one expression through hooks.
func PrintExpr(e Expr, h Hooks) (string, error) {
	pr := &printer{h: h}
	pr.expr(e)
	return pr.b.String(), pr.err
}
