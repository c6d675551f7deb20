// Package chembedded is the embedded ClickHouse backend: the chDB engine
// (ClickHouse 26.7 as a shared library) running inside the process, bound
// lazily with purego so that a binary linking this package starts without
// the library until Open is called.
//
// The engine is process-wide (one data directory per process, see engine);
// each Backend is a pool of connections whose sessions use one database, so
// several Backends on different databases share one engine.
package chembedded

import (
	"context"
	"sync"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// Defaults for zero Options fields.
const (
	DefaultPath     = "data/clickhouse"
	DefaultDatabase = "analytics"
	DefaultPoolSize = 4
)

// Options configure Open.
type Options struct {
	// LibPath is libchdb.so; empty means DefaultLibPath(). Ignored once the
	// library is loaded in this process.
	LibPath string
	// Path is the engine's data directory; empty means DefaultPath. Every
	// Backend in one process must use the same path.
	Path string
	// Database is where unqualified table names resolve; it is created if
	// missing. Empty means DefaultDatabase.
	Database string
	// PoolSize is the number of connections (statements that can run at
	// once); zero means DefaultPoolSize.
	PoolSize int
	// TextInserts sends every insert as JSONCompactEachRow text, the format
	// before RowBinary (binencode.go); false (the default) sends inserts in
	// RowBinary whenever their columns and values allow. For benchmarks and
	// tests that compare the two.
	TextInserts bool
}

// Backend implements store.Backend on the embedded engine. It is safe for
// concurrent use.
//
// A context is honoured while waiting for a connection, between result
// chunks and between insert chunks. A call into the engine cannot be
// interrupted from Go, so a context deadline also caps the statement's
// max_execution_time and the engine stops on its own.
type Backend struct {
	api      *chdbAPI
	pool     *pool
	database string
	dataPath string
	text     bool // Options.TextInserts
	// jsonStrings remembers the engine's type for JSON string values
	// (binjson.go).
	jsonStrings jsonStrings
	closeOnce   sync.Once
}

var _ store.Backend = (*Backend)(nil)

// Open loads the library if needed, starts the engine on opts.Path if it
// is not running yet, and returns a backend whose connections use
// opts.Database. A missing library is a KindUnavailable error that says how
// to get it.
func Open(ctx context.Context, opts Options) (*Backend, error) {
	return openOn(ctx, &proc, opts)
}

// openOn opens a backend on engine e (the process engine outside tests).
func openOn(ctx context.Context, e *engine, opts Options) (*Backend, error) {
	const op = "chembedded.Open"
	if opts.LibPath == "" {
		opts.LibPath = DefaultLibPath()
	}
	if opts.Path == "" {
		opts.Path = DefaultPath
	}
	if opts.Database == "" {
		opts.Database = DefaultDatabase
	}
	if opts.PoolSize <= 0 {
		opts.PoolSize = DefaultPoolSize
	}
	api, dataPath, err := e.start(opts.LibPath, opts.Path)
	if err != nil {
		return nil, err
	}
	b := &Backend{
		api:      api,
		pool:     newPool(api, connArgs(dataPath), opts.Database, opts.PoolSize),
		database: opts.Database,
		dataPath: dataPath,
		text:     opts.TextInserts,
	}
	// One connection now, so a bad database name fails here, not later.
	c, err := b.pool.get(ctx, op)
	if err != nil {
		return nil, err
	}
	b.pool.put(c)
	return b, nil
}

// Database is the database the backend's connections use.
func (b *Backend) Database() string { return b.database }

// DataPath is the engine's absolute data directory.
func (b *Backend) DataPath() string { return b.dataPath }

// Query runs a statement and streams its rows (see rows).
func (b *Backend) Query(ctx context.Context, st store.Statement) (store.Rows, error) {
	const op = "chembedded.Query"
	sql, params, err := store.NamedParams(st.SQL, st.Args)
	if err != nil {
		return nil, err
	}
	c, text, restore, err := b.prepare(ctx, op, sql, st.Settings)
	if err != nil {
		return nil, err
	}
	if !streams(sql) {
		return b.queryWhole(ctx, c, text, restore, params)
	}
	r := &rows{ctx: ctx, b: b, c: c, restore: restore, binary: true}
	r.start(text, params)
	if r.err == nil && r.unsupported && r.c != nil {
		// A column type the binary decoder does not read (rare: aggregate
		// states, intervals, geo types …): the same query as text.
		r.abandon()
		r = &rows{ctx: ctx, b: b, c: c, restore: restore}
		r.start(text, params)
	}
	if r.err != nil {
		return nil, r.err
	}
	return r, nil
}

// queryWhole runs a statement the engine cannot stream (SHOW, DESCRIBE,
// EXPLAIN, EXISTS …; their results are small) to completion and serves its
// rows from memory.
func (b *Backend) queryWhole(ctx context.Context, c *conn, text, restore string, params []store.Param) (store.Rows, error) {
	const op = "chembedded.Query"
	out, msg := c.query(text, resultFormat, params)
	if msg != "" {
		c.broken = true
	}
	b.finish(c, restore)
	if msg != "" {
		return nil, failure(ctx, op, msg)
	}
	r := &rows{ctx: ctx, b: b, buf: out}
	if len(out) > 0 {
		r.readHeader()
	}
	if r.err != nil {
		return nil, r.err
	}
	return r, nil
}

// Exec runs a statement and discards its output.
func (b *Backend) Exec(ctx context.Context, st store.Statement) error {
	const op = "chembedded.Exec"
	sql, params, err := store.NamedParams(st.SQL, st.Args)
	if err != nil {
		return err
	}
	c, text, restore, err := b.prepare(ctx, op, sql, st.Settings)
	if err != nil {
		return err
	}
	_, msg := c.query(text, "Null", params)
	if msg != "" {
		c.broken = true
	}
	b.finish(c, restore)
	if msg != "" {
		return failure(ctx, op, msg)
	}
	return nil
}

// Ping runs SELECT 1.
func (b *Backend) Ping(ctx context.Context) error {
	return b.Exec(ctx, store.Statement{SQL: "SELECT 1"})
}

// ServerVersion returns the engine's version, e.g. "26.7.2.1".
func (b *Backend) ServerVersion(ctx context.Context) (string, error) {
	const op = "chembedded.ServerVersion"
	c, err := b.pool.get(ctx, op)
	if err != nil {
		return "", err
	}
	out, msg := c.query("SELECT version()", "JSONCompactEachRow", nil)
	if msg != "" {
		c.broken = true
	}
	b.pool.put(c)
	if msg != "" {
		return "", failure(ctx, op, msg)
	}
	var v [1]any
	if err := decodeRow(bytesTrimNewline(out), []*colType{{kind: kindText}}, v[:]); err != nil {
		return "", errs.Wrap(op, errs.KindInternal, err, "")
	}
	s, _ := v[0].(string)
	return s, nil
}

// Close closes the backend's connections (those in use close when they are
// returned). The engine itself stays up for the rest of the process.
func (b *Backend) Close() error {
	b.closeOnce.Do(b.pool.close)
	return nil
}

// prepare checks out a connection and arranges st's settings for one
// statement: a SETTINGS clause on SELECT-like text, or SET now and a restore
// statement for later (see settings.go). ctx's deadline caps
// max_execution_time.
func (b *Backend) prepare(ctx context.Context, op, sql string, s store.Settings) (c *conn, text, restore string, err error) {
	s = withDeadline(ctx, s)
	list, err := settingsList(s)
	if err != nil {
		return nil, "", "", errs.Wrap(op, errs.KindInternal, err, "")
	}
	c, err = b.pool.get(ctx, op)
	if err != nil {
		return nil, "", "", err
	}
	if list == "" || takesClause(sql) {
		return c, appendClause(sql, list), "", nil
	}
	if _, msg := c.query("SET "+list, "Null", nil); msg != "" {
		c.broken = true
		b.pool.put(c)
		return nil, "", "", classify(op, msg)
	}
	return c, sql, "SET " + restoreList(s), nil
}

// finish restores the session if the statement changed it and returns c to
// the pool; a connection that cannot be restored is closed instead.
func (b *Backend) finish(c *conn, restore string) {
	if restore != "" && !c.broken {
		if _, msg := c.query(restore, "Null", nil); msg != "" {
			c.broken = true
		}
	}
	b.pool.put(c)
}

func bytesTrimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
