package api

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/complexity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"

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
