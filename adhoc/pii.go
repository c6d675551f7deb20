package adhoc

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/learnhub/analytics-service/adhoc/sqlparse"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/store"
)

// PIIPolicy says which callers read the PII-free relation: an events
// whose JSON column has no path with a PII key in it and whose PII text
// columns are pseudonyms, so no expression, however it builds a key name
// or probes a value, can reach personal data (see piiView).
type PIIPolicy int

const (
	// PIIVisible: every caller reads the data as stored (the default).
	PIIVisible PIIPolicy = iota
	// PIIHiddenBelowAdmin: callers without the admin role read the
	// PII-free relation; admins, who also run the privacy operations, read
	// the data as stored. The human eventsQuery and SQL exports use it.
	PIIHiddenBelowAdmin
	// PIIHidden: every caller reads the PII-free relation. The AI
	// gateway's run_sql uses it: nothing it returns may carry PII.
	PIIHidden
)

// hiddenPrefix starts the names of the sandbox's own columns in a PII-free
// derived table; the query may not introduce such names.
const hiddenPrefix = "__pii_free_"

// piiView is the PII-free relation of one Service.
//
// A table's JSON column is exposed as a copy without any path that has a
// PII key as one of its segments (case-insensitively: `email`, `Email`,
// `profile.email`, `email.work`), and without any top-level key whose
// value may hold an object inside an array (the engine's SKIP rules do
// not reach inside arrays: Array(JSON), Array(Dynamic)). Building that copy re-parses the whole
// column (about 30 µs a row), so it is only computed when a query reads
// the whole column (`properties`, `toJSONString(properties)`, `SELECT *`).
//
// A plain path read (`properties.course`, `e.properties.score.:Int64`)
// of a table in the same SELECT's FROM is rewritten to a column the
// derived table computes from the stored sub-column, as cheap as before:
// NULL for a PII path, NULL for a value whose type may hold an object
// (an array of objects, a mixed array), the stored value otherwise. The rewrite is only a shortcut: any read it
// does not recognise reaches the stripped copy, never the stored column.
//
// A PII key that names a text column (`user_id`) replaces the column by a
// keyed pseudonym (hex of sipHash64 with a per-Service secret): counts of
// distinct values stay exact, values and probes reveal nothing.
type piiView struct {
	keys []string // lower-cased
	// skipType is the engine type of the stripped JSON column.
	skipType string
	salt     string
}

// newPIIView returns the view for keys (nil when there are none).
func newPIIView(keys []string) *piiView {
	var lower, alts []string
	for _, k := range keys {
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "" || slices.Contains(lower, k) {
			continue
		}
		lower = append(lower, k)
		alts = append(alts, regexp.QuoteMeta(k))
	}
	if len(lower) == 0 {
		return nil
	}
	var secret [16]byte
	_, _ = rand.Read(secret[:])
	re := `(?i)(^|\.)(` + strings.Join(alts, "|") + `)(\.|$)`
	return &piiView{keys: lower, skipType: "JSON(SKIP REGEXP " + store.QuoteString(re) + ")", salt: hex.EncodeToString(secret[:])}
}

// isPII reports whether a path (segments after the JSON column) holds a
// PII key as a run of whole segments, case-insensitively.
func (v *piiView) isPII(path []string) bool {
	p := "." + strings.ToLower(strings.Join(path, ".")) + "."
	for _, k := range v.keys {
		if strings.Contains(p, "."+k+".") {
			return true
		}
	}
	return false
}

// column reports whether a text column is a PII key.
func (v *piiView) column(name string) bool { return slices.Contains(v.keys, strings.ToLower(name)) }

// mayHoldObjects matches the engine type of a value that may hold a JSON
// object the SKIP rules cannot reach: an array of objects
// (Array(JSON(…))), a mixed array (Array(Dynamic) holding objects) and
// any other container type.
const mayHoldObjects = `'JSON|Dynamic|Variant|Tuple|Map|Object'`

// stripped is the whole-column expression of the PII-free JSON column:
// the top-level keys under which a path may hold an object inside an
// array dropped (from the stored paths' types), the rest re-parsed with
// the PII paths skipped.
func (v *piiView) stripped(col string) string {
	c := store.QuoteIdent(col)
	paths := "JSONAllPathsWithTypes(" + c + ")"
	held := "arrayMap(p -> splitByChar('.', p)[1], arrayFilter((p, t) -> match(t, " + mayHoldObjects + "), mapKeys(" + paths + "), mapValues(" + paths + ")))"
	return "CAST(concat('{', arrayStringConcat(arrayMap(kv -> concat(toJSONString(kv.1), ':', kv.2), " +
		"arrayFilter(kv -> NOT has(" + held + ", kv.1), JSONExtractKeysAndValuesRaw(toJSONString(" + c + ")))), ','), '}'), " +
		store.QuoteString(v.skipType) + ")"
}

// pathRead is a path read bound to a helper column the derived table
// adds: its column name, the read it stands for ("properties.score.:Int64")
// and the expression that computes it.
type pathRead struct {
	name, key, expr string
}

// policyView is the view a caller reads under policy (nil: the data as stored).
func policyView(v *piiView, policy PIIPolicy, p auth.Principal) *piiView {
	switch policy {
	case PIIHidden:
		return v
	case PIIHiddenBelowAdmin:
		if !slices.Contains(p.Roles, auth.RoleAdmin) {
			return v
		}
	}
	return nil
}

// rewritePaths rewrites, in every SELECT of q, the plain path reads of an
// allowed table's JSON column in that SELECT's own FROM to helper columns,
// and returns them per table reference (see piiView). A bare path read in
// a column list keeps its name with an alias. The top-level stars leave
// the helper columns out.
func (v *piiView) rewritePaths(q *sqlparse.Query, tables map[string]Table) map[*sqlparse.TableRef][]pathRead {
	out := map[*sqlparse.TableRef][]pathRead{}
	n := 0
	sqlparse.Selects(q, func(s *sqlparse.Select) {
		if s.From == nil {
			return
		}
		refs := append([]*sqlparse.TableRef{s.From.First}, joinTables(s.From.Joins)...)
		byQual := map[string]*sqlparse.TableRef{}
		var sole *sqlparse.TableRef
		others := 0
		for _, r := range refs {
			t, ok := tableOf(r, tables)
			if !ok || t.JSONColumn == "" {
				others++
				continue
			}
			byQual[cmp(r.Alias, r.Name[0])] = r
			if sole == nil {
				sole = r
			} else {
				others++
			}
		}
		seen := map[*sqlparse.TableRef]map[string]bool{}
		// rewrite binds a path read to a helper column of its table
		// reference. An untyped read `[q.]col.a.b` needs no change: the
		// helper column is named "col.a.b", which the engine resolves
		// before the sub-column. A typed read is renamed to the helper.
		rewrite := func(id *sqlparse.Ident) bool {
			ref, qual, path := bindPath(id, byQual, sole, others, tables)
			if ref == nil {
				return false
			}
			t, _ := tableOf(ref, tables)
			name := strings.Join(append([]string{t.JSONColumn}, path...), ".")
			if id.SubType != nil {
				// A typed read of an object type is left to the stripped
				// column; a type the printer refuses is refused there.
				typ, err := sqlparse.FormatType(id.SubType)
				if err != nil || strings.Contains(typ, "JSON") {
					return false
				}
				name += ".:" + typ
			}
			if seen[ref] == nil {
				seen[ref] = map[string]bool{}
			}
			if !seen[ref][name] {
				seen[ref][name] = true
				col := name
				if id.SubType != nil {
					col = hiddenPrefix + strconv.Itoa(n)
					n++
				}
				out[ref] = append(out[ref], pathRead{name: col, key: name, expr: v.pathExpr(t.JSONColumn, path, id.SubType)})
			}
			if id.SubType != nil {
				for _, r := range out[ref] {
					if r.key == name {
						id.Parts = append(slices.DeleteFunc([]string{qual}, func(q string) bool { return q == "" }), r.name)
					}
				}
				id.SubType = nil
			}
			return true
		}
		if s == q.Selects[0] {
			// A typed read is renamed to a helper column: the top-level
			// columns that hold one keep their text as written as name.
			aliasColumns(s, func(c sqlparse.Expr) bool {
				has := false
				sqlparse.WalkSelect(&sqlparse.Select{Columns: []sqlparse.Expr{c}}, func(e sqlparse.Expr) {
					if id, ok := e.(*sqlparse.Ident); ok && id.SubType != nil {
						ref, _, _ := bindPath(id, byQual, sole, others, tables)
						has = has || ref != nil
					}
				})
				return has
			})
		}
		sqlparse.WalkSelect(s, func(e sqlparse.Expr) {
			if id, ok := e.(*sqlparse.Ident); ok {
				rewrite(id)
			}
		})
	})
	if len(out) > 0 {
		var names []string
		for _, reads := range out {
			for _, r := range reads {
				names = append(names, r.name)
			}
		}
		slices.Sort(names)
		for _, s := range q.Selects {
			for _, c := range s.Columns {
				if st, ok := c.(*sqlparse.Star); ok {
					st.Except = names
				}
			}
		}
	}
	return out
}

// bindPath finds the table reference a path read `[q.]col.path` reads
// from, its qualifier and the path after the column; nil when the read is
// not a plain path of an allowed table's JSON column in this SELECT's FROM
// (or is ambiguous).
func bindPath(id *sqlparse.Ident, byQual map[string]*sqlparse.TableRef, sole *sqlparse.TableRef, others int, tables map[string]Table) (*sqlparse.TableRef, string, []string) {
	p := id.Parts
	if len(p) >= 3 {
		if ref, ok := byQual[p[0]]; ok {
			if t, _ := tableOf(ref, tables); p[1] == t.JSONColumn {
				return ref, p[0], p[2:]
			}
		}
	}
	if len(p) >= 2 && sole != nil && others == 0 {
		if t, _ := tableOf(sole, tables); p[0] == t.JSONColumn {
			if _, qualified := byQual[p[0]]; !qualified {
				return sole, "", p[1:]
			}
		}
	}
	return nil, "", nil
}

// pathExpr is the helper column of one path read (see piiView).
func (v *piiView) pathExpr(col string, path []string, sub *sqlparse.Type) string {
	if v.isPII(path) {
		if sub != nil {
			typ, _ := sqlparse.FormatType(sub)
			return "dynamicElement(CAST(NULL, 'Dynamic'), " + store.QuoteString(typ) + ")"
		}
		return "CAST(NULL, 'Dynamic')"
	}
	read, _ := sqlparse.FormatExpr(&sqlparse.Ident{Parts: append([]string{col}, path...), SubType: sub})
	if sub != nil {
		return read
	}
	return "if(match(dynamicType(" + read + "), " + mayHoldObjects + "), CAST(NULL, 'Dynamic'), " + read + ")"
}

func tableOf(r *sqlparse.TableRef, tables map[string]Table) (Table, bool) {
	if r == nil || r.Sub != nil || r.Func != nil || len(r.Name) != 1 {
		return Table{}, false
	}
	t, ok := tables[r.Name[0]]
	return t, ok
}

func joinTables(js []*sqlparse.Join) []*sqlparse.TableRef {
	out := make([]*sqlparse.TableRef, len(js))
	for i, j := range js {
		out[i] = j.Table
	}
	return out
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
