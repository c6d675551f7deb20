package sqlparse

// The syntax tree of the restricted SELECT dialect. Nodes carry the
// position of their first token so refusals can point at the text.

// Query is a SELECT or a chain of SELECTs joined by UNION.
type Query struct {
	Pos     Pos
	Selects []*Select
	// Ops joins Selects[i] and Selects[i+1]: "UNION ALL" or "UNION DISTINCT".
	Ops []string
}

// Select is one SELECT with its clauses. ORDER BY and LIMIT belong to the
// SELECT they follow, as in ClickHouse.
type Select struct {
	Pos        Pos
	With       []*CTE
	Distinct   bool
	Columns    []Expr // *Alias for named columns
	From       *From  // nil without FROM
	Where      Expr
	GroupBy    []Expr
	GroupMod   string // "", "ROLLUP" or "CUBE" (WITH ROLLUP / WITH CUBE)
	WithTotals bool
	Having     Expr
	OrderBy    []*OrderItem
	LimitBy    *LimitBy
	Limit      *Literal // integer; nil when absent
	Offset     *Literal // integer; nil when absent
}

// CTE is one WITH item: either `name AS (query)` (Query set) or
// `expr AS name` (Expr set).
type CTE struct {
	Pos   Pos
	Name  string
	Query *Query
	Expr  Expr
}

// From is the FROM clause: a first table and the joins that follow.
type From struct {
	First *TableRef
	Joins []*Join
}

// TableRef is a table source: a (possibly qualified) name, a table
// function call, or a subquery.
type TableRef struct {
	Pos   Pos
	Name  []string // table or CTE name parts; empty for functions and subqueries
	Func  *Call    // table function (the grammar parses it so it can refuse it by name)
	Sub   *Query
	Alias string
	Final bool
}

// Join is one JOIN (or comma) with its table and constraint.
type Join struct {
	Pos        Pos
	Comma      bool   // `FROM a, b`
	Global     bool   // GLOBAL JOIN (refused)
	Strictness string // "", "ANY", "ALL", "SEMI", "ANTI", "ASOF"
	Type       string // "INNER", "LEFT", "RIGHT", "FULL", "CROSS"
	Table      *TableRef
	On         Expr
	Using      []string
}

// OrderItem is one ORDER BY key.
type OrderItem struct {
	Expr  Expr
	Desc  bool
	Nulls string // "", "FIRST", "LAST"
	Fill  *Fill
}

// Fill is WITH FILL [FROM e] [TO e] [STEP e].
type Fill struct {
	From, To, Step Expr
}

// LimitBy is LIMIT n [OFFSET m] BY exprs.
type LimitBy struct {
	N      *Literal
	Offset *Literal
	By     []Expr
}

// Expr is an expression node.
type Expr interface{ At() Pos }

// LitKind is the kind of a literal.
type LitKind int

// The literal kinds.
const (
	LitInt LitKind = iota
	LitFloat
	LitString
	LitNull
	LitBool
)

// Literal is a constant. Value is int64, uint64, float64, string, bool or
// nil; the ClickHouse printer binds it as a query argument.
type Literal struct {
	Pos   Pos
	Kind  LitKind
	Value any
}

// Ident is a column reference, possibly qualified (`e.user_id`) or a JSON
// path (`properties.score`), with an optional typed sub-column
// (`properties.score.:Int64`).
type Ident struct {
	Pos     Pos
	Parts   []string
	SubType *Type
}

// Star is `*` or `t.*`. Except is never parsed: the sandbox sets it to
// leave its own helper columns out of a result (`* EXCEPT (a, b)`; the
// engine ignores names the star does not cover).
type Star struct {
	Pos    Pos
	Table  []string
	Except []string
}

// Call is a function call, parametric (`quantile(0.9)(x)`) when Params is
// not nil, a window function when Over is set.
type Call struct {
	Pos      Pos
	Name     string
	Params   []Expr
	Args     []Expr
	Distinct bool
	Over     *Window
}

// Window is OVER (PARTITION BY … ORDER BY …).
type Window struct {
	PartitionBy []Expr
	OrderBy     []*OrderItem
}

// Unary is `-x` or `NOT x`.
type Unary struct {
	Pos Pos
	Op  string
	X   Expr
}

// Binary is a binary operator: OR AND = != < <= > >= + - * / % ||
// LIKE, NOT LIKE, ILIKE, NOT ILIKE.
type Binary struct {
	Pos  Pos
	Op   string
	L, R Expr
}

// In is `x [NOT] IN (list)` or `x [NOT] IN (subquery)`.
type In struct {
	Pos  Pos
	X    Expr
	Not  bool
	List []Expr
	Sub  *Query
}

// Between is `x [NOT] BETWEEN lo AND hi`.
type Between struct {
	Pos       Pos
	X, Lo, Hi Expr
	Not       bool
}

// IsNull is `x IS [NOT] NULL`.
type IsNull struct {
	Pos Pos
	X   Expr
	Not bool
}

// Case is CASE [operand] WHEN … THEN … [ELSE …] END.
type Case struct {
	Pos     Pos
	Operand Expr
	Whens   []When
	Else    Expr
}

// When is one branch of a CASE.
type When struct {
	Cond, Then Expr
}

// Cast is CAST(x AS T) or x::T.
type Cast struct {
	Pos  Pos
	X    Expr
	Type *Type
}

// Interval is INTERVAL x UNIT.
type Interval struct {
	Pos  Pos
	X    Expr
	Unit string // upper case: SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER, YEAR
}

// Ternary is `cond ? a : b`.
type Ternary struct {
	Pos              Pos
	Cond, Then, Else Expr
}

// Array is `[a, b, …]`.
type Array struct {
	Pos   Pos
	Elems []Expr
}

// Tuple is `(a, b, …)` with at least two elements.
type Tuple struct {
	Pos   Pos
	Elems []Expr
}

// Index is `x[i]`.
type Index struct {
	Pos  Pos
	X, I Expr
}

// TupleAccess is `x.N` on a non-identifier expression.
type TupleAccess struct {
	Pos Pos
	X   Expr
	N   *Literal
}

// Lambda is `x -> body` or `(x, y) -> body`.
type Lambda struct {
	Pos    Pos
	Params []string
	Body   Expr
}

// Subquery is a parenthesised query used as a scalar value.
type Subquery struct {
	Pos   Pos
	Query *Query
}

// Alias is `x AS name` in a select list.
type Alias struct {
	Pos  Pos
	X    Expr
	Name string
}

// Type is a ClickHouse type name with arguments, e.g. DateTime64(3, 'UTC')
// or Tuple(a String, b Int64).
type Type struct {
	Pos  Pos
	Name string
	Args []TypeArg
}

// TypeArg is one argument of a type: a nested type (optionally named, for
// Tuple), a number or a string.
type TypeArg struct {
	Field  string
	Type   *Type
	Number string
	Str    *string
}

// At implements Expr.
func (e *Literal) At() Pos { return e.Pos }

// At implements Expr.
func (e *Ident) At() Pos { return e.Pos }

// At implements Expr.
func (e *Star) At() Pos { return e.Pos }

// At implements Expr.
func (e *Call) At() Pos { return e.Pos }

// At implements Expr.
func (e *Unary) At() Pos { return e.Pos }

// At implements Expr.
func (e *Binary) At() Pos { return e.Pos }

// At implements Expr.
func (e *In) At() Pos { return e.Pos }

// At implements Expr.
func (e *Between) At() Pos { return e.Pos }

// At implements Expr.
func (e *IsNull) At() Pos { return e.Pos }

// At implements Expr.
func (e *Case) At() Pos { return e.Pos }

// At implements Expr.
func (e *Cast) At() Pos { return e.Pos }

// At implements Expr.
func (e *Interval) At() Pos { return e.Pos }

// At implements Expr.
func (e *Ternary) At() Pos { return e.Pos }

// At implements Expr.
func (e *Array) At() Pos { return e.Pos }

// At implements Expr.
func (e *Tuple) At() Pos { return e.Pos }

// At implements Expr.
func (e *Index) At() Pos { return e.Pos }

// At implements Expr.
func (e *TupleAccess) At() Pos { return e.Pos }

// At implements Expr.
func (e *Lambda) At() Pos { return e.Pos }

// At implements Expr.
func (e *Subquery) At() Pos { return e.Pos }

// At implements Expr.
func (e *Alias) At() Pos { return e.Pos }
