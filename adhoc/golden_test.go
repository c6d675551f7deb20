package adhoc_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/adhoc"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenCases name the corpus queries whose printed SQL is pinned: the
// printed SQL is the product of the first wall, so a change to guards,
// binding or limits shows up as a diff in review.
var goldenCases = []struct{ corpus, name string }{
	{"legit.sql", "count all"},
	{"legit.sql", "count per type"},
	{"legit.sql", "where type in list"},
	{"legit.sql", "interval arithmetic"},
	{"legit.sql", "quiz score quantile"},
	{"legit.sql", "countIf combinator"},
	{"legit.sql", "group by position"},
	{"legit.sql", "with totals"},
	{"legit.sql", "limit by"},
	{"legit.sql", "order with fill"},
	{"legit.sql", "two ctes"},
	{"legit.sql", "scalar with"},
	{"legit.sql", "in subquery"},
	{"legit.sql", "self join funnel"},
	{"legit.sql", "join using"},
	{"legit.sql", "left outer join table"},
	{"legit.sql", "full join"},
	{"legit.sql", "comma join"},
	{"legit.sql", "union all"},
	{"legit.sql", "case searched"},
	{"legit.sql", "ternary"},
	{"legit.sql", "nullable cast"},
	{"legit.sql", "lambda over groupArray"},
	{"legit.sql", "tuple access"},
	{"legit.sql", "window row_number"},
	{"legit.sql", "windowFunnel"},
	{"legit.sql", "quoted identifiers"},
	{"legit.sql", "negative and float literals"},
	{"escapes.sql", "comma join different tenants"},
	{"escapes.sql", "tuple alias shadows table alias"},
	{"escapes.sql", "parameter syntax in string"},
	{"escapes.sql", "user final is harmless"},
	{"escapes.sql", "long or chain"},
}

func TestPrintedGolden(t *testing.T) {
	svc := adhoc.NewService(nil, adhoc.Config{})
	byName := map[string]corpusCase{}
	for _, corpus := range []string{"legit.sql", "escapes.sql"} {
		for _, c := range readCorpus(t, filepath.Join("testdata", corpus)) {
			byName[corpus+"/"+c.Name] = c
		}
	}
	var b strings.Builder
	for _, g := range goldenCases {
		c, ok := byName[g.corpus+"/"+g.name]
		require.True(t, ok, "no case %q in %s", g.name, g.corpus)
		p, err := svc.Print(as(tenantA), c.SQL, 0)
		require.NoError(t, err, c.SQL)
		fmt.Fprintf(&b, "-- %s: %s\n-- args: %#v\n%s;\n\n", g.corpus, g.name, p.Args, p.SQL)
	}
	golden := filepath.Join("testdata", "printed.golden.sql")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test ./adhoc -run Golden -update to create it")
	assert.Equal(t, string(want), b.String())
}
