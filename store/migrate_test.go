package store

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestMigrationsGolden pins the DDL for both topologies: a change to a
// migration or to the cluster rewriting shows up as a diff in review.
func TestMigrationsGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts MigrateOptions
	}{
		{"single", MigrateOptions{}},
		{"cluster", MigrateOptions{Cluster: "analytics"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := Migrations(tc.opts)
			require.NoError(t, err)
			require.NotEmpty(t, ms)
			var b strings.Builder
			b.WriteString(migrationsTableDDL(tc.opts) + ";\n\n")
			for _, m := range ms {
				for _, st := range m.Statements {
					b.WriteString("-- " + m.Name + "\n" + st + ";\n\n")
				}
			}
			golden := filepath.Join("testdata", "migrations."+tc.name+".golden.sql")
			if *update {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./store -run Golden -update to create it")
			assert.Equal(t, string(want), b.String())
		})
	}
}

func TestMigrationsClusterShape(t *testing.T) {
	ms, err := Migrations(MigrateOptions{Cluster: "c1"})
	require.NoError(t, err)
	all := ""
	for _, m := range ms {
		all += strings.Join(m.Statements, "\n")
	}
	assert.Contains(t, all, "ON CLUSTER `c1`")
	assert.Contains(t, all, "ReplicatedReplacingMergeTree(")
	assert.Contains(t, all, "ENGINE = Distributed(`c1`")
	assert.NotContains(t, all, "non_replicated_deduplication_window")

	single, err := Migrations(MigrateOptions{})
	require.NoError(t, err)
	require.Len(t, single, len(ms))
	for i := range ms {
		assert.Equal(t, single[i].Checksum, ms[i].Checksum, "topology must not change the checksum")
	}
}

func TestMutationTarget(t *testing.T) {
	assert.Equal(t, "`metrics_daily`", MutationTarget("metrics_daily", ""))
	assert.Equal(t, "`metrics_daily_local` ON CLUSTER `analytics`", MutationTarget("metrics_daily", "analytics"))
}
