package api

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/learnhub/analytics-service/graph"
	"github.com/learnhub/analytics-service/resolvers"
)

// TestCostMatchesGqlgen pins the memoised walk to gqlgen's own calculator
// for ordinary operations, so the configured limits keep their meaning.
func TestCostMatchesGqlgen(t *testing.T) {
	es := graph.NewExecutableSchema((&resolvers.Resolver{}).Config())
	ctx := context.Background()
	for _, q := range []string{
		`{ viewer { tenant subject roles } serverInfo { version mode } }`,
		`query { viewer { tenant ... on Viewer { roles } } a: viewer { tenant } }`,
		`query { ...V ...V } fragment V on Query { viewer { tenant } }`,
		`query { ...A } fragment A on Query { ...B b: viewer { ...R } } fragment B on Query { viewer { ...R } } fragment R on Viewer { roles tenant }`,
		`{ metrics(first: 5) { edges { node { key name } } pageInfo { hasNextPage } totalCount } dashboards { nodes { id } } }`,
		`{ __schema { types { name } } viewer { tenant } }`,
	} {
		t.Run(q, func(t *testing.T) {
			doc, errs := gqlparser.LoadQueryWithRules(es.Schema(), q, nil)
			require.Empty(t, errs)
			op := doc.Operations[0]
			want := complexity.Calculate(ctx, es, op, nil)
			assert.Equal(t, want, newCostWalker(ctx, es, nil).complexity(op.SelectionSet))
		})
	}
}

// TestLimitsRememberCostsOfVariableFreeOperations: an operation without
// variables is measured once per text (its depth refused again from the
// memo); one with variables is measured with each request's values.
func TestLimitsRememberCostsOfVariableFreeOperations(t *testing.T) {
	es := graph.NewExecutableSchema((&resolvers.Resolver{}).Config())
	l := &limits{maxComplexity: 60, maxDepth: 4, es: es, costs: lru.New[opCost](costCacheSize), traced: true}
	ctx := context.Background()
	run := func(q string, vars map[string]any) (int, *gqlerror.Error) {
		t.Helper()
		doc, errs := gqlparser.LoadQueryWithRules(es.Schema(), q, nil)
		require.Empty(t, errs)
		oc := &graphql.OperationContext{RawQuery: q, Doc: doc, Operation: doc.Operations[0], Variables: vars}
		err := l.MutateOperationContext(ctx, oc)
		c, _ := oc.Stats.GetExtension(complexityStat).(int)
		return c, err
	}
	cases := []struct {
		name, query string
		vars        map[string]any
		want        int
		wantErr     string
	}{
		{"measured", `{ viewer { tenant } }`, nil, 2, ""},
		{"from the memo", `{ viewer { tenant } }`, nil, 2, ""},
		{"too deep", `{ metrics(first: 5) { edges { node { dimensions { path } } } } }`, nil, 0, "query depth 5 exceeds the limit of 4"},
		{"too deep again, from the memo", `{ metrics(first: 5) { edges { node { dimensions { path } } } } }`, nil, 0, "query depth 5 exceeds the limit of 4"},
		{"variables: small page", `query($n: Int) { metrics(first: $n) { edges { node { key } } } }`, map[string]any{"n": 2}, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := run(tc.query, tc.vars)
			if tc.wantErr != "" {
				require.NotNil(t, err)
				assert.Contains(t, err.Message, tc.wantErr)
				return
			}
			require.Nil(t, err)
			if tc.want != 0 {
				assert.Equal(t, tc.want, c)
			}
		})
	}
	_, ok := l.costs.Get(ctx, costKey("{ viewer { tenant } }", ""))
	assert.True(t, ok, "a variable-free operation is remembered")
	_, ok = l.costs.Get(ctx, costKey("query($n: Int) { metrics(first: $n) { edges { node { key } } } }", ""))
	assert.False(t, ok, "an operation with variables is measured with each request's values")
}
