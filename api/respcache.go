package api

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/kv"
	"github.com/learnhub/analytics-service/platform/respcache"
	"github.com/learnhub/analytics-service/platform/resultcache"
)

// Whole responses of the reads dashboards poll are kept (GraphQLConfig.
// ResponseCache) and served again without running the executor while
// everything they rest on holds: the tenant's data version (the entry's
// key, as for every results cache entry), the values in Redis the
// resolvers named (a dashboard's published version, the tenant's metric
// definitions generation: one MGET on a hit), and the end of the window
// they aligned to now. Only queries whose root fields all stand in
// cacheableRoots are candidates, and a response is kept only if no resolver
// outside cacheableResolvers ran, no resolver called respcache.Uncacheable,
// and it has no errors or extensions. The key holds the caller's subject and
// roles besides the tenant, the query text, operation name and variables,
// so a response is only ever served to the principal it was computed for.

// cacheableRoots are the Query fields a kept response may start from.
var cacheableRoots = map[string]bool{"dashboard": true, "metricQuery": true, "eventTypeCounts": true}

// cacheableResolvers are the resolver-backed fields (Object.field) that
// record what their answers depend on (package respcache).
var cacheableResolvers = map[string]bool{
	"Query.dashboard": true, "Query.metricQuery": true, "Query.eventTypeCounts": true, "Dashboard.render": true,
}

// servingFields are plain fields that describe how this very request was
// served, not the data: a kept response would repeat the first answer's.
var servingFields = map[string]bool{"WidgetData.cached": true}

// responseKind names whole responses in the results cache.
const responseKind = "graphqlResponse"

// responseKey is everything besides the tenant's data a response depends on
// that the request itself says.
type responseKey struct {
	Subject   string
	Roles     []auth.Role
	Query     string
	Operation string         `json:",omitempty"`
	Variables map[string]any `json:",omitempty"`
}

// keptResponse is a response with what it rests on: until, and the value
// each of keys must still hold (wants, in the same order).
type keptResponse struct {
	resp        *graphql.Response
	until       time.Time
	keys, wants []string
}

// notKept carries a response that must not be stored out of a results
// cache computation: waiters get it, nothing is stored.
type notKept struct{ resp *graphql.Response }

func (notKept) Error() string { return "api: response not kept" }

// responseCache is the extension that keeps and serves whole responses.
type responseCache struct {
	cache *resultcache.Cache
	defs  kv.Cache
	now   func() time.Time
}

func (responseCache) ExtensionName() string                   { return "ResponseCache" }
func (responseCache) Validate(graphql.ExecutableSchema) error { return nil }

func (rc responseCache) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	p, ok := auth.PrincipalFrom(ctx)
	if !ok || oc.Operation == nil || oc.Operation.Operation != ast.Query || !cacheableOperation(oc.Operation) {
		return next(ctx)
	}
	key := responseKey{Subject: p.Subject, Roles: p.Roles, Query: oc.RawQuery, Operation: oc.OperationName, Variables: oc.Variables}
	compute := func(ctx context.Context) (*keptResponse, error) {
		ctx, deps := respcache.With(ctx)
		resp := next(ctx)(ctx)
		if resp == nil {
			return nil, notKept{resp}
		}
		why, until, match := deps.Snapshot()
		if why != "" || len(resp.Errors) > 0 || len(resp.Extensions) > 0 || resp.Data == nil {
			return nil, notKept{resp}
		}
		k := &keptResponse{resp: resp, until: until, keys: slices.Sorted(maps.Keys(match))}
		for _, key := range k.keys {
			k.wants = append(k.wants, match[key])
		}
		return k, nil
	}
	kept, hit, err := resultcache.Do(ctx, rc.cache, p.Tenant, responseKind, key, compute)
	if err == nil && hit && !rc.holds(ctx, kept) {
		kept, err = resultcache.Refresh(ctx, rc.cache, p.Tenant, responseKind, key, compute)
	}
	var nk notKept
	switch {
	case errors.As(err, &nk):
		return graphql.OneShot(nk.resp)
	case err != nil:
		return graphql.OneShot(graphql.ErrorResponse(ctx, "%s", err.Error()))
	}
	return graphql.OneShot(kept.resp)
}

// holds reports whether what a kept response rests on is still current.
func (rc responseCache) holds(ctx context.Context, k *keptResponse) bool {
	if !k.until.IsZero() && !rc.now().Before(k.until) {
		return false
	}
	if len(k.keys) == 0 {
		return true
	}
	if mg, ok := rc.defs.(kv.MultiGetter); ok {
		got, err := mg.GetMany(ctx, k.keys...)
		if err != nil || len(got) != len(k.keys) {
			return false
		}
		for i, want := range k.wants {
			if got[i] == nil || string(got[i]) != want {
				return false
			}
		}
		return true
	}
	for i, key := range k.keys {
		got, err := rc.defs.Get(ctx, key)
		if err != nil || string(got) != k.wants[i] {
			return false
		}
	}
	return true
}

// cacheableOperation reports whether every root field of op may start a
// kept response (no fragments at the root: their fields are not looked at).
func cacheableOperation(op *ast.OperationDefinition) bool {
	return len(op.SelectionSet) > 0 && !slices.ContainsFunc(op.SelectionSet, func(s ast.Selection) bool {
		f, ok := s.(*ast.Field)
		return !ok || !cacheableRoots[f.Name] || len(f.Directives) > 0
	})
}

// guardResolvers makes a kept response uncacheable when a resolver that
// does not record its dependencies runs inside it, or a field that says
// how this request was served (servingFields) is asked for.
func guardResolvers(ctx context.Context, next graphql.Resolver) (any, error) {
	if d := respcache.From(ctx); d != nil {
		if fc := graphql.GetFieldContext(ctx); fc != nil {
			name := fc.Object + "." + fc.Field.Name
			switch {
			case fc.IsResolver && !cacheableResolvers[name]:
				d.SetUncacheable("resolver " + name + " records no dependencies")
			case servingFields[name]:
				d.SetUncacheable(name + " describes this request's serving")
			}
		}
	}
	return next(ctx)
}
