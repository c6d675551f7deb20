package api

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
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
}

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
	if d := depth(op.SelectionSet, oc.Doc.Fragments, 0); d > l.maxDepth {
		return limitError(fmt.Sprintf("query depth %d exceeds the limit of %d; split the query", d, l.maxDepth),
			map[string]any{"depth": d, "limit": l.maxDepth})
	}
	c := complexity.Calculate(ctx, l.es, op, oc.Variables)
	if c > l.maxComplexity {
		return limitError(fmt.Sprintf("query complexity %d exceeds the limit of %d; request fewer fields or smaller pages", c, l.maxComplexity),
			map[string]any{"complexity": c, "limit": l.maxComplexity})
	}
	return nil
}

func limitError(msg string, ext map[string]any) *gqlerror.Error {
	e := gqlerror.Errorf("%s", msg)
	e.Extensions = map[string]any{"code": errs.KindInvalid.String()}
	for k, v := range ext {
		e.Extensions[k] = v
	}
	return e
}

// depth counts nested field levels; introspection (__schema, __type) is
// exempt because its type-reference chains are deep by design and only
// admins may run it.
func depth(set ast.SelectionSet, frags ast.FragmentDefinitionList, level int) int {
	deepest := level
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				continue
			}
			d = depth(s.SelectionSet, frags, level+1)
		case *ast.InlineFragment:
			d = depth(s.SelectionSet, frags, level)
		case *ast.FragmentSpread:
			if f := frags.ForName(s.Name); f != nil && level < 64 {
				d = depth(f.SelectionSet, frags, level)
			}
		}
		deepest = max(deepest, d)
	}
	return deepest
}

// adminIntrospection allows schema introspection for admins only: others
// learn the schema from the published docs, not by probing.
type adminIntrospection struct{}

func (adminIntrospection) ExtensionName() string                   { return "AdminIntrospection" }
func (adminIntrospection) Validate(graphql.ExecutableSchema) error { return nil }
func (adminIntrospection) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	p, ok := auth.PrincipalFrom(ctx)
	oc.DisableIntrospection = !ok || !p.Has(auth.RoleAdmin)
	return nil
}
