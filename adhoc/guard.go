package adhoc

import (
	"fmt"
	"strings"

	"github.com/learnhub/analytics-service/adhoc/sqlparse"
	"github.com/learnhub/analytics-service/store"
)

// guard is the sqlparse.Hooks that turns a tenant's query into SQL the
// engine may run. It is the first wall:
//
//   - every literal becomes a `?` argument (NULL, true and false are
//     keywords and stay inline);
//   - every reference to an allowed table becomes a derived table that
//     carries the tenant guard inside it,
//     (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `alias`,
//     so no name the tenant chooses (an alias, a WITH name, a lambda
//     parameter) can shadow the guard's column, and outer joins (LEFT,
//     RIGHT, FULL, USING or ON) see only the tenant's rows on both sides;
//   - table functions, database-qualified names and tables outside the
//     allow-list are refused;
//   - functions must be on the allow-list and print in its spelling;
//   - names that would shadow an allowed table or a tenant column are
//     refused.
//
// See PostHog's team_id_guard_for_table for the idea of guarding every
// table at print time; the derived-table form is the stricter variant.
type guard struct {
	tables map[string]Table
	funcs  functionIndex
	tenant string
	args   []any
	// reserved are lower-cased names the query may not introduce.
	reserved map[string]string
	literals int
	// pii is the PII-free relation the caller reads (nil: the data as
	// stored); reads are the path reads rewritten per table reference.
	pii   *piiView
	reads map[*sqlparse.TableRef][]pathRead
}

func newGuard(tables []Table, funcs functionIndex, tenant string, pii *piiView) *guard {
	g := &guard{tables: map[string]Table{}, funcs: funcs, tenant: tenant, reserved: map[string]string{}, pii: pii}
	for _, t := range tables {
		g.tables[t.Name] = t
		g.reserved[strings.ToLower(t.Name)] = "it would shadow the " + t.Name + " table"
		g.reserved[strings.ToLower(t.TenantColumn)] = "it names the tenant column"
		if pii != nil && t.JSONColumn != "" {
			g.reserved[strings.ToLower(t.JSONColumn)] = "it names the " + t.JSONColumn + " column"
		}
	}
	return g
}

// Literal implements sqlparse.Hooks.
func (g *guard) Literal(l *sqlparse.Literal) (string, error) {
	g.literals++
	switch l.Kind {
	case sqlparse.LitNull, sqlparse.LitBool:
		return sqlparse.InlineLiteral(l), nil
	}
	g.args = append(g.args, l.Value)
	return "?", nil
}

// Table implements sqlparse.Hooks.
func (g *guard) Table(ref *sqlparse.TableRef) (string, error) {
	if ref.Func != nil {
		return "", errAt(ref.Pos, "table function %s() is not allowed: query %s", ref.Func.Name, g.tableList())
	}
	full := strings.Join(ref.Name, ".")
	if len(ref.Name) > 1 {
		switch strings.ToLower(ref.Name[0]) {
		case "system", "information_schema":
			return "", errAt(ref.Pos, "system table %s is not allowed: query %s", full, g.tableList())
		}
		return "", errAt(ref.Pos, "database-qualified name %s is not allowed: write the table name alone, e.g. %s", full, g.tableList())
	}
	t, ok := g.tables[ref.Name[0]]
	if !ok {
		return "", errAt(ref.Pos, "table %s is not allowed: query %s", full, g.tableList())
	}
	alias := ref.Alias
	if alias == "" {
		alias = t.Name
	}
	var b strings.Builder
	b.WriteString("(SELECT *")
	if g.pii != nil {
		g.piiColumns(&b, t, g.reads[ref])
	}
	b.WriteString(" FROM ")
	b.WriteString(store.QuoteIdent(t.Name))
	if t.Final {
		b.WriteString(" FINAL")
	}
	b.WriteString(" WHERE ")
	b.WriteString(store.QuoteIdent(t.TenantColumn))
	b.WriteString(" = ?) AS ")
	b.WriteString(store.QuoteIdent(alias))
	g.args = append(g.args, g.tenant)
	return b.String(), nil
}

// piiColumns writes the PII-free relation's columns after `SELECT *`:
// the stripped JSON column and the pseudonyms in a REPLACE, then the
// helper columns of the rewritten path reads (see piiView).
func (g *guard) piiColumns(b *strings.Builder, t Table, reads []pathRead) {
	var repl []string
	if t.JSONColumn != "" {
		repl = append(repl, g.pii.stripped(t.JSONColumn)+" AS "+store.QuoteIdent(t.JSONColumn))
	}
	for _, c := range t.TextColumns {
		if g.pii.column(c) {
			repl = append(repl, "hex(sipHash64(?, "+store.QuoteIdent(c)+")) AS "+store.QuoteIdent(c))
			g.args = append(g.args, g.pii.salt)
		}
	}
	if len(repl) > 0 {
		b.WriteString(" REPLACE (" + strings.Join(repl, ", ") + ")")
	}
	for _, r := range reads {
		b.WriteString(", " + r.expr + " AS " + store.QuoteIdent(r.name))
	}
}

// Function implements sqlparse.Hooks.
func (g *guard) Function(c *sqlparse.Call) (string, error) {
	name, _, ok := g.funcs.resolve(c.Name)
	if !ok {
		return "", errAt(c.Pos, "%s", refusal(c.Name))
	}
	return name, nil
}

// Name implements sqlparse.Hooks.
func (g *guard) Name(kind, name string, pos sqlparse.Pos) error {
	if why, ok := g.reserved[strings.ToLower(name)]; ok {
		return errAt(pos, "%s %s is not allowed: %s; choose another name", kind, name, why)
	}
	if g.pii != nil && strings.HasPrefix(strings.ToLower(name), hiddenPrefix) {
		return errAt(pos, "%s %s is not allowed: names starting with %s are the sandbox's own; choose another name", kind, name, hiddenPrefix)
	}
	return nil
}

func (g *guard) tableList() string {
	names := make([]string, 0, len(g.tables))
	for n := range g.tables {
		names = append(names, n)
	}
	if len(names) == 1 {
		return "the " + names[0] + " table"
	}
	return "one of the tables " + strings.Join(names, ", ")
}

func errAt(p sqlparse.Pos, format string, args ...any) *sqlparse.Error {
	return &sqlparse.Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}
