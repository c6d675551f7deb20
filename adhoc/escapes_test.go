package adhoc_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/platform/errs"
)

// TestEscapeCorpus runs every attempt of testdata/escapes.sql as tenantA.
// A refused attempt must fail as BAD_USER_INPUT (with the expected words);
// a scoped one must return exactly what it returns on a database that
// holds only tenantA's events, with no value of tenantB in it.
func TestEscapeCorpus(t *testing.T) {
	f := newFixture(t)
	cases := readCorpus(t, "testdata/escapes.sql")
	require.GreaterOrEqual(t, len(cases), 100, "the escape corpus must hold at least 100 attempts")
	t.Run("stored", func(t *testing.T) { runEscapes(t, cases, newService(f.full), newService(f.alone)) })
	// The PII-free relation keeps every wall.
	t.Run("pii-free", func(t *testing.T) {
		runEscapes(t, cases, newPIIFreeService(f.full, adhoc.PIIHidden, "email"), newPIIFreeService(f.alone, adhoc.PIIHidden, "email"))
	})
}

func runEscapes(t *testing.T, cases []corpusCase, full, alone *adhoc.Service) {
	counts := map[string]int{}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			want, detail, _ := strings.Cut(c.Want, " ")
			require.Contains(t, []string{"refused", "scoped", "safe"}, want, "case needs a -- want: line")
			got, err := full.Run(as(tenantA), c.SQL, 10000)
			if err != nil {
				counts["refused"]++
				require.NotEqual(t, "scoped", want, "a scoped attempt must run: %v", err)
				assert.Equal(t, errs.KindInvalid, errs.KindOf(err), "refusals are BAD_USER_INPUT: %v", err)
				assert.Contains(t, errs.PublicMessage(err), detail)
				return
			}
			counts["scoped"]++
			require.NotEqual(t, "refused", want, "the attempt ran; it must be refused")
			assert.NotContains(t, fmt.Sprint(got.Rows), tenantB, "another tenant's value leaked")
			ref, err := alone.Run(as(tenantA), c.SQL, 10000)
			require.NoError(t, err)
			assert.Equal(t, rowSet(ref.Rows), rowSet(got.Rows), "the result depends on another tenant's rows")
		})
	}
	t.Logf("escape corpus: %d attempts, %d refused, %d ran scoped", len(cases), counts["refused"], counts["scoped"])
}
