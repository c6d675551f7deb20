package sqlparse

// Walk calls fn for every expression in q, parents before children,
// descending into subqueries, CTEs, joins and window clauses.
func Walk(q *Query, fn func(Expr)) {
	w := walker{fn: fn}
	w.query(q)
}

// WalkSelect calls fn for every expression that belongs to s itself (its
// columns, WITH expressions, join constraints, WHERE, GROUP BY, HAVING,
// ORDER BY, LIMIT BY and window clauses), parents before children,
// without descending into any subquery or CTE query.
func WalkSelect(s *Select, fn func(Expr)) {
	w := walker{fn: fn, shallow: true}
	w.selectStmt(s)
}

// Selects calls fn for every SELECT in q: UNION branches, CTE queries,
// subqueries in FROM and in expressions, parents before children.
func Selects(q *Query, fn func(*Select)) {
	if q == nil {
		return
	}
	for _, s := range q.Selects {
		fn(s)
		for _, c := range s.With {
			Selects(c.Query, fn)
		}
		if s.From != nil {
			Selects(s.From.First.Sub, fn)
			for _, j := range s.From.Joins {
				Selects(j.Table.Sub, fn)
			}
		}
		WalkSelect(s, func(e Expr) {
			switch x := e.(type) {
			case *Subquery:
				Selects(x.Query, fn)
			case *In:
				Selects(x.Sub, fn)
			}
		})
	}
}

// walker visits expressions; a shallow walker stays out of subqueries.
type walker struct {
	fn      func(Expr)
	shallow bool
}

func (w walker) query(q *Query) {
	if q == nil || w.shallow {
		return
	}
	for _, s := range q.Selects {
		w.selectStmt(s)
	}
}

func (w walker) selectStmt(s *Select) {
	for _, c := range s.With {
		w.query(c.Query)
		w.expr(c.Expr)
	}
	w.exprs(s.Columns)
	if s.From != nil {
		w.table(s.From.First)
		for _, j := range s.From.Joins {
			w.table(j.Table)
			w.expr(j.On)
		}
	}
	w.expr(s.Where)
	w.exprs(s.GroupBy)
	w.expr(s.Having)
	w.order(s.OrderBy)
	if s.LimitBy != nil {
		w.exprs(s.LimitBy.By)
	}
}

func (w walker) table(t *TableRef) {
	w.query(t.Sub)
	if t.Func != nil {
		w.expr(t.Func)
	}
}

func (w walker) order(items []*OrderItem) {
	for _, it := range items {
		w.expr(it.Expr)
		if it.Fill != nil {
			w.expr(it.Fill.From)
			w.expr(it.Fill.To)
			w.expr(it.Fill.Step)
		}
	}
}

func (w walker) exprs(es []Expr) {
	for _, e := range es {
		w.expr(e)
	}
}

func (w walker) expr(e Expr) {
	if e == nil {
		return
	}
	w.fn(e)
	switch x := e.(type) {
	case *Call:
		w.exprs(x.Params)
		w.exprs(x.Args)
		if x.Over != nil {
			w.exprs(x.Over.PartitionBy)
			w.order(x.Over.OrderBy)
		}
	case *Unary:
		w.expr(x.X)
	case *Binary:
		w.expr(x.L)
		w.expr(x.R)
	case *In:
		w.expr(x.X)
		w.exprs(x.List)
		w.query(x.Sub)
	case *Between:
		w.exprs([]Expr{x.X, x.Lo, x.Hi})
	case *IsNull:
		w.expr(x.X)
	case *Case:
		w.expr(x.Operand)
		for _, wh := range x.Whens {
			w.expr(wh.Cond)
			w.expr(wh.Then)
		}
		w.expr(x.Else)
	case *Cast:
		w.expr(x.X)
	case *Interval:
		w.expr(x.X)
	case *Ternary:
		w.exprs([]Expr{x.Cond, x.Then, x.Else})
	case *Array:
		w.exprs(x.Elems)
	case *Tuple:
		w.exprs(x.Elems)
	case *Index:
		w.expr(x.X)
		w.expr(x.I)
	case *TupleAccess:
		w.expr(x.X)
	case *Lambda:
		w.expr(x.Body)
	case *Subquery:
		w.query(x.Query)
	case *Alias:
		w.expr(x.X)
	}
}
