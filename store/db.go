package store

import (
	"context"
	"maps"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/reqid"
)

// DB is the ClickHouse handle every package uses. It adds per-query settings
// (time limit, log_comment = request id, caller overrides) and observation
// to a Backend.
type DB struct {
	b    Backend
	opts Options
}

type settingsKey struct{}

// New wraps a backend.
func New(b Backend, opts Options) *DB {
	if opts.MaxExecutionTime <= 0 {
		opts.MaxExecutionTime = DefaultMaxExecutionTime
	}
	return &DB{b: b, opts: opts}
}

// WithSettings returns ctx whose statements run with s on top of the
// defaults (later calls win). Used for per-request limits such as readonly
// or max_result_rows.
func WithSettings(ctx context.Context, s Settings) context.Context {
	merged := Settings{}
	if prev, ok := ctx.Value(settingsKey{}).(Settings); ok {
		maps.Copy(merged, prev)
	}
	maps.Copy(merged, s)
	return context.WithValue(ctx, settingsKey{}, merged)
}

// Mode is "embedded" or "server".
func (db *DB) Mode() string { return db.opts.Mode }

// Backend returns the engine behind db (for adapters that need it directly).
func (db *DB) Backend() Backend { return db.b }

// Query runs a SELECT-like statement and streams its rows.
func (db *DB) Query(ctx context.Context, sql string, args ...any) (Rows, error) {
	ctx, end := db.span(ctx, "query", sql, "")
	start := time.Now()
	rows, err := db.b.Query(ctx, Statement{SQL: sql, Args: args, Settings: db.settings(ctx, nil)})
	db.observe(ctx, "query", start, err)
	end(err)
	return rows, err
}

// QueryRow runs a statement expected to return one row and scans it into
// dest. No row is a KindNotFound error.
func (db *DB) QueryRow(ctx context.Context, dest []any, sql string, args ...any) error {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return errs.E("store.QueryRow", errs.KindNotFound, "no rows")
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

// Exec runs a statement whose result is not needed.
func (db *DB) Exec(ctx context.Context, sql string, args ...any) error {
	ctx, end := db.span(ctx, "exec", sql, "")
	start := time.Now()
	err := db.b.Exec(ctx, Statement{SQL: sql, Args: args, Settings: db.settings(ctx, nil)})
	db.observe(ctx, "exec", start, err)
	end(err)
	return err
}

// Insert writes a batch. Callers that may retry set in.DedupToken.
func (db *DB) Insert(ctx context.Context, in Insert) error {
	if len(in.Rows) == 0 {
		return nil
	}
	for i, r := range in.Rows {
		if len(r) != len(in.Columns) {
			return errs.E("store.Insert", errs.KindInternal,
				"row has the wrong number of values").With("row", i)
		}
	}
	extra := Settings{}
	if in.DedupToken != "" {
		extra["insert_deduplication_token"] = in.DedupToken
		extra["insert_deduplicate"] = 1
	}
	maps.Copy(extra, in.Settings)
	in.Settings = db.settings(ctx, extra)
	ctx, end := db.span(ctx, "insert", "", in.Table)
	start := time.Now()
	err := db.b.Insert(ctx, in)
	db.observe(ctx, "insert", start, err)
	end(err)
	return err
}

// Ping checks that the engine answers.
func (db *DB) Ping(ctx context.Context) error { return db.b.Ping(ctx) }

// ServerVersion is the engine's version string.
func (db *DB) ServerVersion(ctx context.Context) (string, error) { return db.b.ServerVersion(ctx) }

// Close releases the engine.
func (db *DB) Close() error { return db.b.Close() }

// settings merges, in increasing precedence: the defaults, the context's
// settings, and the statement's own.
func (db *DB) settings(ctx context.Context, own Settings) Settings {
	s := Settings{"max_execution_time": int(db.opts.MaxExecutionTime / time.Second)}
	if id := reqid.From(ctx); id != "" {
		s["log_comment"] = id
	}
	if c, ok := ctx.Value(settingsKey{}).(Settings); ok {
		maps.Copy(s, c)
	}
	maps.Copy(s, own)
	return s
}

func (db *DB) observe(ctx context.Context, kind string, start time.Time, err error) {
	d := time.Since(start)
	if db.opts.Charge != nil {
		db.opts.Charge(ctx, d)
	}
	if db.opts.Observe != nil {
		db.opts.Observe(kind, d, err)
	}
}
