package api

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// maxInt is the saturation point of cost sums.
const maxInt = int(^uint(0) >> 1)

// costWalker measures an operation's complexity and depth in time
// proportional to the document's size: each fragment's cost is computed once
// and reused at every spread. A naive walk expands spreads, so
// `fragment F0 on Query { ...F1 ...F1 }` nested 40 levels costs 2^40 steps
// before the limit can refuse it.
//
// Complexity follows gqlgen's complexity.Calculate exactly (custom
// per-field functions, the worst implementor for interface fields, __schema
// free), so limits keep their meaning; a fragment's cost does not depend on
// where it is spread because its fields' parent types come from its type
// condition.
type costWalker struct {
	ctx       context.Context
	es        graphql.ExecutableSchema
	schema    *ast.Schema
	vars      map[string]any
	fragCost  map[string]int
	fragDepth map[string]int
}

func newCostWalker(ctx context.Context, es graphql.ExecutableSchema, vars map[string]any) *costWalker {
	return &costWalker{ctx: ctx, es: es, schema: es.Schema(), vars: vars,
		fragCost: map[string]int{}, fragDepth: map[string]int{}}
}

// depth is the number of nested field levels below set; introspection
// fields (__schema, __type) are exempt because their type-reference chains
// are deep by design and only admins may run them.
func (w *costWalker) depth(set ast.SelectionSet) int {
	deepest := 0
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				continue
			}
			d = 1 + w.depth(s.SelectionSet)
		case *ast.InlineFragment:
			d = w.depth(s.SelectionSet)
		case *ast.FragmentSpread:
			if s.Definition == nil {
				continue
			}
			var ok bool
			if d, ok = w.fragDepth[s.Name]; !ok {
				w.fragDepth[s.Name] = 0 // a cycle (refused by validation anyway) ends here
				d = w.depth(s.Definition.SelectionSet)
				w.fragDepth[s.Name] = d
			}
		}
		deepest = max(deepest, d)
	}
	return deepest
}

// complexity is the saturating complexity of set.
func (w *costWalker) complexity(set ast.SelectionSet) int {
	total := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			total = safeAdd(total, w.fieldComplexity(s))
		case *ast.InlineFragment:
			total = safeAdd(total, w.complexity(s.SelectionSet))
		case *ast.FragmentSpread:
			if s.Definition == nil {
				continue
			}
			c, ok := w.fragCost[s.Name]
			if !ok {
				w.fragCost[s.Name] = 0
				c = w.complexity(s.Definition.SelectionSet)
				w.fragCost[s.Name] = c
			}
			total = safeAdd(total, c)
		}
	}
	return total
}

func (w *costWalker) fieldComplexity(f *ast.Field) int {
	if f.Definition == nil || f.ObjectDefinition == nil {
		return 1
	}
	typ := w.schema.Types[f.Definition.Type.Name()]
	if typ == nil || typ.Name == "__Schema" {
		return 0
	}
	child := 0
	switch typ.Kind {
	case ast.Object, ast.Interface, ast.Union:
		child = w.complexity(f.SelectionSet)
	}
	args := f.ArgumentMap(w.vars)
	if f.ObjectDefinition.Kind != ast.Interface {
		return w.typedFieldComplexity(f.ObjectDefinition, typ.Kind, f.Name, child, args)
	}
	worst := 0 // interfaces have no costs of their own: assume the dearest implementor
	for _, impl := range w.schema.GetPossibleTypes(f.ObjectDefinition) {
		worst = max(worst, w.typedFieldComplexity(impl, typ.Kind, f.Name, child, args))
	}
	return worst
}

func (w *costWalker) typedFieldComplexity(def *ast.Definition, kind ast.DefinitionKind, field string, child int, args map[string]any) int {
	if c, ok := w.es.Complexity(w.ctx, def.Name, field, child, args); ok && c >= 1 {
		return c
	}
	return safeAdd(1, child)
}

// safeAdd adds without overflowing and ignores negative operands (a custom
// complexity function's bug must not lower the total).
func safeAdd(a, b int) int {
	a, b = max(a, 0), max(b, 0)
	if a > maxInt-b {
		return maxInt
	}
	return a + b
}
