package cohorts

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestMembersSQLGolden pins the SQL of a representative criteria tree: the
// tenant guard on every table, every value bound.
func TestMembersSQLGolden(t *testing.T) {
	scope, err := store.DangerousScopeForTenant("acme")
	require.NoError(t, err)
	crit := &Criteria{And: []Criteria{
		{Performed: &Performed{Type: "lesson.completed", Count: 3, Within: "30d", Where: map[string]string{"course_id": "c1"}}},
		{Not: &Criteria{Performed: &Performed{Type: "certificate.issued", Op: "gt", Count: 0}}},
		{Or: []Criteria{{FirstSeen: &Seen{After: "90d"}}, {InCohort: "cohort-7"}}},
	}}
	sql, args, refs, err := membersSQL(scope, crit, t0)
	require.NoError(t, err)
	assert.Equal(t, []string{"cohort-7"}, refs)
	got := sql + "\n-- args:\n"
	for _, a := range args {
		got += fmt.Sprintf("--   %v\n", a)
	}
	golden := filepath.Join("testdata", "members.golden.sql")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test ./cohorts -run Golden -update")
	assert.Equal(t, string(want), got)
}

var t0 = mustTime("2026-06-01T12:00:00Z")

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
