package adhoc_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/adhoc"
)

// TestLegitCorpus runs every query of testdata/legit.sql through the
// service as tenantA and compares the rows with the same text run
// directly on the oracle database, where `events` is a view with an
// explicit tenantA filter.
func TestLegitCorpus(t *testing.T) {
	f := newFixture(t)
	cases := readCorpus(t, "testdata/legit.sql")
	require.GreaterOrEqual(t, len(cases), 100, "the legit corpus must hold at least 100 queries")
	// The PII-free relation (the AI gateway's) must answer every query
	// that reads no PII exactly as the stored data does: the fixture
	// holds none of these keys.
	for _, svc := range []struct {
		name string
		svc  *adhoc.Service
	}{{"stored", newService(f.full)}, {"pii-free", newPIIFreeService(f.full, adhoc.PIIHidden, "email", "phone")}} {
		t.Run(svc.name, func(t *testing.T) { runLegit(t, f, svc.svc, cases) })
	}
	t.Logf("legit corpus: %d queries", len(cases))
}

func runLegit(t *testing.T, f *fixture, svc *adhoc.Service, cases []corpusCase) {
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
}
