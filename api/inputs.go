package api

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Defaults for GraphQLConfig.MaxListLength and MaxStringBytes.
const (
	DefaultMaxListLength  = 1000
	DefaultMaxStringBytes = 64 << 10
)

// inputLimits refuses an operation whose arguments (inline or from
// variables) hold a list longer than maxList elements or a string longer
// than maxString bytes, naming the argument, before any resolver runs. No
// argument of the schema needs more (the longest is ad-hoc SQL); a bigger
// value is a mistake or an attack on memory.
type inputLimits struct {
	maxList   int
	maxString int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = inputLimits{}

func (inputLimits) ExtensionName() string                   { return "InputLimits" }
func (inputLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (l inputLimits) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	seen := map[string]bool{}
	return l.checkSet(oc.Operation.SelectionSet, oc.Variables, seen)
}

// checkSet checks the arguments of every field in set, visiting each
// fragment once.
func (l inputLimits) checkSet(set ast.SelectionSet, vars map[string]any, seen map[string]bool) *gqlerror.Error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			for _, arg := range s.Arguments {
				v, err := arg.Value.Value(vars)
				if err != nil {
					continue // validation already refused it
				}
				if problem := l.check(v, arg.Name); problem != "" {
					return inputError(s.Name, arg.Name, problem)
				}
			}
			if err := l.checkSet(s.SelectionSet, vars, seen); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := l.checkSet(s.SelectionSet, vars, seen); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if seen[s.Name] || s.Definition == nil {
				continue
			}
			seen[s.Name] = true
			if err := l.checkSet(s.Definition.SelectionSet, vars, seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// check returns what is too large in v (at path), or "".
func (l inputLimits) check(v any, path string) string {
	switch x := v.(type) {
	case string:
		if len(x) > l.maxString {
			return fmt.Sprintf("%s is %d bytes long; at most %d are accepted", path, len(x), l.maxString)
		}
	case []any:
		if len(x) > l.maxList {
			return fmt.Sprintf("%s has %d elements; at most %d are accepted, split the request", path, len(x), l.maxList)
		}
		for i, e := range x {
			if p := l.check(e, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case map[string]any:
		for k, e := range x {
			if p := l.check(e, path+"."+k); p != "" {
				return p
			}
		}
	}
	return ""
}

func inputError(field, arg, problem string) *gqlerror.Error {
	return &gqlerror.Error{
		Message: fmt.Sprintf("argument %q of %s: %s", arg, field, problem),
		Extensions: map[string]any{
			"code":  errs.KindInvalid.String(),
			"field": arg,
		},
	}
}
