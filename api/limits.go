package api

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
)

// Defaults for Limits' zero values.
const (
	DefaultMaxComplexity = 1000
	DefaultMaxDepth      = 10
	DefaultMaxTokens     = 10000
)

// limits rejects operations that are too complex or too deep before any
// resolver runs, with the measured value and the limit in the error.
type limits struct {
	maxComplexity int
	maxDepth      int
	es            graphql.ExecutableSchema
	// costs remembers the depth and complexity of operations without
	// variables by query text and operation name: the same text always
	// costs the same (no field has a complexity function reading the
	// caller), so a dashboard's repeated query is measured once.
	costs *lru.LRU[opCost]
	// traced says an operation span reads the complexity (complexityStat);
	// without one it is not recorded (a map allocation per operation).
	traced bool
}

// costCacheSize bounds the operations whose cost limits remembers.
const costCacheSize = 1000

// opCost is an operation's measured depth and complexity.
type opCost struct{ depth, complexity int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &limits{}

func (l *limits) ExtensionName() string { return "Limits" }

func (l *limits) Validate(es graphql.ExecutableSchema) error {
	l.es = es
	return nil
}

func (l *limits) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	op := oc.Doc.Operations.ForName(oc.OperationName)
	if op == nil {
		return nil
	}
	cached := len(op.VariableDefinitions) == 0 && l.costs != nil
	key := ""
	cost, ok := opCost{}, false
	if cached {
		key = costKey(oc.RawQuery, oc.OperationName)
		cost, ok = l.costs.Get(ctx, key)
	}
	if !ok {
		w := newCostWalker(ctx, l.es, oc.Variables)
		cost.depth = w.depth(op.SelectionSet)
		if cost.depth <= l.maxDepth {
			cost.complexity = w.complexity(op.SelectionSet)
		}
		if cached {
			l.costs.Add(ctx, key, cost)
		}
	}
	if d := cost.depth; d > l.maxDepth {
		return limitError(fmt.Sprintf("query depth %d exceeds the limit of %d; split the query", d, l.maxDepth),
			map[string]any{"depth": d, "limit": l.maxDepth})
	}
	c := cost.complexity
	if l.traced {
		oc.Stats.SetExtension(complexityStat, c) // for the operation's span
	}
	if c > l.maxComplexity {
		return limitError(fmt.Sprintf("query complexity %d exceeds the limit of %d; request fewer fields or smaller pages", c, l.maxComplexity),
			map[string]any{"complexity": c, "limit": l.maxComplexity})
	}
	return nil
}

// costKey is the cost cache's key for a document and operation name: the
// text alone when the name is empty (no string built per request for the
// common anonymous operation), else text NUL name. A document that reached
// the limits has parsed, and the GraphQL lexer refuses NUL anywhere in a
// document, so the two forms cannot collide.
func costKey(query, operationName string) string {
	if operationName == "" {
		return query
	}
	return query + "\x00" + operationName
}

func limitError(msg string, ext map[string]any) *gqlerror.Error {
	e := gqlerror.Errorf("%s", msg)
	e.Extensions = map[string]any{"code": errs.KindInvalid.String()}
	for k, v := range ext {
		e.Extensions[k] = v
	}
	return e
}

// adminIntrospection allows schema introspection for admins only: others
// learn the schema from the published docs, not by probing. Anyone else
// asking for __schema or __type is refused with FORBIDDEN before execution
// (__typename stays open: clients need it).
type adminIntrospection struct{}

func (adminIntrospection) ExtensionName() string                   { return "AdminIntrospection" }
func (adminIntrospection) Validate(graphql.ExecutableSchema) error { return nil }
func (adminIntrospection) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	p, ok := auth.PrincipalFrom(ctx)
	oc.DisableIntrospection = !ok || !p.Has(auth.RoleAdmin)
	if !oc.DisableIntrospection || oc.Operation == nil {
		return nil
	}
	if field := introspectionField(oc.Operation.SelectionSet, map[string]bool{}); field != "" {
		return &gqlerror.Error{
			Message:    fmt.Sprintf("introspection (%s) is for admins; the schema is documented in schema.graphqls", field),
			Extensions: map[string]any{"code": errs.KindForbidden.String()},
		}
	}
	return nil
}

// introspectionField names the first __schema or __type field in set,
// visiting each fragment once.
func introspectionField(set ast.SelectionSet, seen map[string]bool) string {
	for _, sel := range set {
		var sub ast.SelectionSet
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return s.Name
			}
			sub = s.SelectionSet
		case *ast.InlineFragment:
			sub = s.SelectionSet
		case *ast.FragmentSpread:
			if seen[s.Name] || s.Definition == nil {
				continue
			}
			seen[s.Name] = true
			sub = s.Definition.SelectionSet
		}
		if f := introspectionField(sub, seen); f != "" {
			return f
		}
	}
	return ""
}
