package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationsTable records applied migrations in the service's database.
const migrationsTable = "schema_migrations"

// MigrateOptions shape the DDL.
type MigrateOptions struct {
	// Cluster, when set, makes every statement ON CLUSTER, every table
	// Replicated*, and puts a Distributed table in front of each sharded
	// local table. Empty (the default) targets a single node or the
	// embedded engine.
	Cluster string
}

// Migration is one versioned schema step, rendered for a topology.
type Migration struct {
	Version    int
	Name       string
	Checksum   string   // of the template source, so topology does not change it
	Statements []string // rendered DDL, executed in order
}

// Migrations renders every migration for opts, ordered by version.
func Migrations(opts MigrateOptions) ([]Migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, name := range names {
		base := path.Base(name)
		num, label, ok := strings.Cut(strings.TrimSuffix(base, ".sql"), "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration file %q must be named NNNN_name.sql", base)
		}
		src, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		stmts, err := renderMigration(base, string(src), opts)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(src)
		out = append(out, Migration{Version: version, Name: label, Checksum: hex.EncodeToString(sum[:8]), Statements: stmts})
	}
	return out, nil
}

// Migrate applies every migration not yet recorded, in order, and returns the
// versions it applied. Each statement is idempotent (IF NOT EXISTS), so two
// instances migrating at once are harmless. A recorded migration whose source
// changed since is refused: migrations are append-only.
func Migrate(ctx context.Context, db *DB, opts MigrateOptions) ([]int, error) {
	const op = "store.Migrate"
	if err := db.Exec(ctx, migrationsTableDDL(opts)); err != nil {
		return nil, errs.Wrap(op, errs.KindUnavailable, err, "could not create the migrations table")
	}
	applied := map[int]string{}
	rows, err := db.Query(ctx, "SELECT version, checksum FROM "+QuoteIdent(migrationsTable)+" FINAL")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var v int
		var sum string
		if err := rows.Scan(&v, &sum); err != nil {
			rows.Close()
			return nil, err
		}
		applied[v] = sum
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	all, err := Migrations(opts)
	if err != nil {
		return nil, errs.Wrap(op, errs.KindInternal, err, "")
	}
	var done []int
	for _, m := range all {
		if sum, ok := applied[m.Version]; ok {
			if sum != m.Checksum {
				return done, errs.E(op, errs.KindInternal, fmt.Sprintf(
					"migration %04d_%s changed after it was applied (checksum %s, recorded %s); add a new migration instead", m.Version, m.Name, m.Checksum, sum))
			}
			continue
		}
		for _, st := range m.Statements {
			if err := db.Exec(ctx, st); err != nil {
				return done, errs.Wrap(op, errs.KindInternal, err, fmt.Sprintf("migration %04d_%s failed", m.Version, m.Name))
			}
		}
		err := db.Insert(ctx, Insert{
			Table:   migrationsTable,
			Columns: []string{"version", "name", "checksum", "applied_at"},
			Rows:    [][]any{{uint32(m.Version), m.Name, m.Checksum, time.Now().UTC()}},
		})
		if err != nil {
			return done, err
		}
		done = append(done, m.Version)
	}
	return done, nil
}

func migrationsTableDDL(opts MigrateOptions) string {
	engine := "ReplacingMergeTree(applied_at)"
	if opts.Cluster != "" {
		// One registry per cluster (no {shard} in the path): every node sees every record.
		engine = "ReplicatedReplacingMergeTree('/clickhouse/tables/{database}/" + migrationsTable + "', '{replica}', applied_at)"
	}
	return "CREATE TABLE IF NOT EXISTS " + QuoteIdent(migrationsTable) + onCluster(opts) +
		" (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC')) ENGINE = " + engine + " ORDER BY version"
}

func onCluster(opts MigrateOptions) string {
	if opts.Cluster == "" {
		return ""
	}
	return " ON CLUSTER " + QuoteIdent(opts.Cluster)
}

// renderMigration expands the topology helpers of a migration template and
// splits it into statements:
//
//	{{table "t"}}            the table that holds rows: t, or t_local on a cluster
//	{{onCluster}}            ON CLUSTER `c` on a cluster
//	{{engine "E" "args"…}}   E(args) or ReplicatedE('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', args)
//	{{dedupWindow}}          lets a single-node MergeTree honour insert_deduplication_token
//	{{distributed "t" "k"}}  on a cluster: the Distributed table t over t_local sharded by k
func renderMigration(name, src string, opts MigrateOptions) ([]string, error) {
	clustered := opts.Cluster != ""
	funcs := template.FuncMap{
		"table": func(t string) string {
			if clustered {
				return QuoteIdent(t + "_local")
			}
			return QuoteIdent(t)
		},
		"onCluster": func() string { return strings.TrimSpace(onCluster(opts)) },
		"engine": func(e string, args ...string) string {
			if !clustered {
				return e + "(" + strings.Join(args, ", ") + ")"
			}
			all := append([]string{"'/clickhouse/tables/{shard}/{database}/{table}'", "'{replica}'"}, args...)
			return "Replicated" + e + "(" + strings.Join(all, ", ") + ")"
		},
		"dedupWindow": func() string {
			if clustered {
				return "" // replicated tables deduplicate by default
			}
			return "SETTINGS non_replicated_deduplication_window = 1000"
		},
		"distributed": func(t, key string) string {
			if !clustered {
				return ""
			}
			c := QuoteIdent(opts.Cluster)
			return "CREATE TABLE IF NOT EXISTS " + QuoteIdent(t) + " ON CLUSTER " + c +
				" AS " + QuoteIdent(t+"_local") +
				" ENGINE = Distributed(" + c + ", currentDatabase(), " + QuoteIdent(t+"_local") + ", " + key + ")"
		},
	}
	tpl, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("store: migration %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := tpl.Execute(&buf, nil); err != nil {
		return nil, fmt.Errorf("store: migration %s: %w", name, err)
	}
	var stmts []string
	for _, part := range strings.Split(buf.String(), ";\n") {
		if st := strings.TrimSpace(stripComments(part)); st != "" {
			stmts = append(stmts, strings.TrimSuffix(st, ";"))
		}
	}
	return stmts, nil
}

// stripComments drops whole-line "--" comments so comment-only fragments
// do not become empty statements.
func stripComments(s string) string {
	lines := strings.Split(s, "\n")
	kept := lines[:0]
	for _, l := range lines {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n")
}

// MutationTarget is the table an ALTER … DELETE/UPDATE must name for the
// rows of table: the table itself on a single node; on a cluster the local
// replicated table ON CLUSTER (a Distributed table takes no mutations).
func MutationTarget(table, cluster string) string {
	if cluster == "" {
		return QuoteIdent(table)
	}
	return QuoteIdent(table+"_local") + onCluster(MigrateOptions{Cluster: cluster})
}
