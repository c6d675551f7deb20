package adhoc_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLegitCorpus runs every query of testdata/legit.sql through the
// service as tenantA and compares the rows with the same text run
// directly on the oracle database, where `events` is a view with an
// explicit tenantA filter.
func TestLegitCorpus(t *testing.T) {
	f := newFixture(t)
	svc := newService(f.full)
	cases := readCorpus(t, "testdata/legit.sql")
	require.GreaterOrEqual(t, len(cases), 100, "the legit corpus must hold at least 100 queries")
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			hand := c.SQL
			if c.Hand != "" {
				hand = c.Hand
			}
			want, err := queryDirect(context.Background(), f.oracle, hand)
			require.NoError(t, err, "the query must run as written on the oracle")
			got, err := svc.Run(as(tenantA), c.SQL, 10000)
			require.NoError(t, err)
			assert.False(t, got.Truncated)
			assert.Equal(t, rowSet(want), rowSet(got.Rows))
		})
	}
	t.Logf("legit corpus: %d queries", len(cases))
}
