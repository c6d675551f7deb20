// Package store is the one way the service talks to ClickHouse. Every package
// uses *DB; the engines behind it (store/chembedded for the in-process chDB
// engine, store/chserver for a ClickHouse server over the native protocol)
// implement Backend and nothing else.
//
// SQL text passed to DB is always written by this service's code. Values go
// as `?` placeholders with arguments (bound by the backend, never spliced
// into text by hand); identifiers pass QuoteIdent; reads of tenant tables go
// through a Scope taken from the verified caller (see guard.go).
package store

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Backend is a ClickHouse engine. Implementations must be safe for
// concurrent use and must map engine failures to *errs.Error (with an
// *Exception as the cause when the engine reported one).
type Backend interface {
	// Query runs a statement that returns rows and streams them: a caller
	// that stops early must Close the rows, and memory stays bounded.
	Query(ctx context.Context, st Statement) (Rows, error)
	// Exec runs a statement whose result is not needed (DDL, mutations).
	Exec(ctx context.Context, st Statement) error
	// Insert writes rows into a table with an explicit column list.
	Insert(ctx context.Context, in Insert) error
	// Ping checks that the engine answers.
	Ping(ctx context.Context) error
	// ServerVersion is the engine's version string, e.g. "26.7.3.1".
	ServerVersion(ctx context.Context) (string, error)
	// Close releases the engine's resources.
	Close() error
}

// Statement is one SQL statement with positional `?` arguments and the
// ClickHouse settings to run it with.
type Statement struct {
	SQL      string
	Args     []any
	Settings Settings
}

// Insert is a batch of rows for one table.
type Insert struct {
	Table   string   // unquoted table name; the backend quotes it
	Columns []string // unquoted column names, in the order of each row's values
	Rows    [][]any
	// DedupToken, when set, makes a retried insert of the same batch a no-op
	// (ClickHouse insert_deduplication_token). Derive it from the input, e.g.
	// topic-partition-firstOffset-lastOffset.
	DedupToken string
	Settings   Settings
}

// ValidJSON is JSON text its producer has already checked to be exactly one
// complete JSON value, for an Insert row. Backends store it as they store a
// json.RawMessage, except that the embedded one sends it without checking
// it again (as a length-prefixed string in RowBinary, appended as it is to
// a JSON text row); it checks a json.RawMessage so that no value can end
// its text row early and start another. Only text that
// was validated in this process may be ValidJSON: the ingest decoder's,
// whose fuzz test holds it to encoding/json.
type ValidJSON []byte

// Settings are ClickHouse settings for one statement. Values are strings,
// integers, floats or booleans.
type Settings map[string]any

// Column describes one result column.
type Column struct {
	Name string
	Type string // ClickHouse type name, e.g. "LowCardinality(String)"
}

// Rows is a streamed result. Scan converts each value to the destination's
// Go type with the same rules on every backend (see Assign).
type Rows interface {
	Columns() []Column
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Options configure a DB.
type Options struct {
	// Mode names the backend for serverInfo and logs: "embedded" or "server".
	Mode string
	// MaxExecutionTime bounds every query; zero means DefaultMaxExecutionTime.
	MaxExecutionTime time.Duration
	// Observe, when set, is called after every statement with its kind
	// ("query", "exec", "insert"), duration and error (for metrics).
	Observe func(kind string, d time.Duration, err error)
	// Charge, when set, is called after every statement with the
	// statement's context and duration, so its time can be charged to the
	// caller's tenant (analytics_tenant_query_seconds_total).
	Charge func(ctx context.Context, d time.Duration)
	// Tracer, when set, records a span per statement: its kind, the SQL
	// text with its placeholders (never the bound values), the table of an
	// insert and the request id the statement carries as log_comment.
	Tracer trace.Tracer
}

// DefaultMaxExecutionTime bounds a query when Options.MaxExecutionTime is zero.
const DefaultMaxExecutionTime = 60 * time.Second
