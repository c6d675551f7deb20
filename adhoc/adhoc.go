// Package adhoc runs SQL that tenant admins write themselves
// (GraphQL eventsQuery) without ever running their text. Three walls:
//
//  1. The query is parsed by our own restricted SELECT grammar
//     (adhoc/sqlparse) and printed back from the tree by guard: every
//     literal bound as a `?` argument, every allowed table replaced by a
//     derived table that carries the tenant guard, table functions,
//     system and database-qualified tables, SETTINGS/FORMAT/INTO OUTFILE,
//     several statements and unlisted functions refused with line:column.
//  2. ClickHouse's analyzer checks the printed SQL (EXPLAIN QUERY TREE):
//     no table function and no table outside the allow-list may appear.
//  3. It runs readonly=1 with a time limit, a result-row cap
//     (result_overflow_mode=break → Result.Truncated), rows-to-read and
//     memory limits and log_comment = request id; at most
//     MaxConcurrentPerTenant queries run at once per tenant.
//
// Every query, run or refused, is written to query_audit.
//
// Reads of events use FINAL (Table.Final): at-least-once delivery leaves
// duplicates until merges collapse them, and an analyst's count must match
// the product's metrics, which also read with FINAL. The housekeeping job
// merges closed months so FINAL over them costs little.
package adhoc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/learnhub/analytics-service/adhoc/sqlparse"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/reqid"
	"github.com/learnhub/analytics-service/store"
)

// Defaults for Config.
const (
	DefaultLimit                  = 100
	DefaultMaxLimit               = 10000
	DefaultMaxExecutionTime       = 10 * time.Second
	DefaultMaxRowsToRead          = 200_000_000
	DefaultMaxMemoryUsage         = 2 << 30
	DefaultMaxConcurrentPerTenant = 2
)

// Config shapes the service. Zero values mean the defaults above.
type Config struct {
	// DefaultLimit is the row cap when the caller gives none (0: DefaultLimit).
	DefaultLimit int
	// MaxLimit is the largest row cap a caller may ask for (0: DefaultMaxLimit).
	MaxLimit int
	// MaxExecutionTime bounds one query in the engine (0: DefaultMaxExecutionTime).
	MaxExecutionTime time.Duration
	// MaxRowsToRead bounds the rows one query may scan (0: DefaultMaxRowsToRead).
	MaxRowsToRead int64
	// MaxMemoryUsage bounds one query's memory in bytes (0: DefaultMaxMemoryUsage).
	MaxMemoryUsage int64
	// MaxConcurrentPerTenant caps queries running at once per tenant
	// (0: DefaultMaxConcurrentPerTenant).
	MaxConcurrentPerTenant int
	// Tables is the table allow-list (nil: DefaultTables()).
	Tables []Table
	// Parse bounds the parser (zero: sqlparse defaults).
	Parse sqlparse.Limits
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Service runs tenant-written SQL safely.
type Service struct {
	db      *store.DB
	cfg     Config
	tables  []Table
	funcs   functionIndex
	limiter *limiter

	dbNameMu sync.Mutex
	dbName   string
}

// NewService returns a Service on db.
func NewService(db *store.DB, cfg Config) *Service {
	if cfg.DefaultLimit <= 0 {
		cfg.DefaultLimit = DefaultLimit
	}
	if cfg.MaxLimit <= 0 {
		cfg.MaxLimit = DefaultMaxLimit
	}
	cfg.DefaultLimit = min(cfg.DefaultLimit, cfg.MaxLimit)
	if cfg.MaxExecutionTime <= 0 {
		cfg.MaxExecutionTime = DefaultMaxExecutionTime
	}
	if cfg.MaxRowsToRead <= 0 {
		cfg.MaxRowsToRead = DefaultMaxRowsToRead
	}
	if cfg.MaxMemoryUsage <= 0 {
		cfg.MaxMemoryUsage = DefaultMaxMemoryUsage
	}
	if cfg.MaxConcurrentPerTenant <= 0 {
		cfg.MaxConcurrentPerTenant = DefaultMaxConcurrentPerTenant
	}
	if cfg.Tables == nil {
		cfg.Tables = DefaultTables()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{
		db: db, cfg: cfg, tables: cfg.Tables, funcs: newFunctionIndex(),
		limiter: newLimiter(cfg.MaxConcurrentPerTenant),
	}
}

// Printed is a tenant query as it would run: the SQL text and its
// arguments (the tenant guard values and the bound literals, in order).
type Printed struct {
	SQL  string
	Args []any
	// Exact is set when the query's own LIMIT is within the row cap, so
	// it cannot be truncated.
	Exact bool
	// Settings are the engine settings of the third wall (readonly,
	// rows-to-read and memory limits) that the query must run with; set by
	// Prepare. The caller adds its own time limit and result-row handling.
	Settings store.Settings
}

// Print parses sql and prints it for the caller's tenant with at most
// limit rows (the first wall only; nothing runs). Run uses it; it is
// exported for tests, golden files and an "explain" view.
func (s *Service) Print(ctx context.Context, sql string, limit int) (*Printed, error) {
	const op = "adhoc.Print"
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	q, err := sqlparse.Parse(sql, s.cfg.Parse)
	if err != nil {
		return nil, syntaxError(op, err)
	}
	nameColumns(q.Selects[0])
	unsignedScales(q)
	q, exact := capRows(q, s.rowCap(limit))
	g := newGuard(s.tables, s.funcs, scope.Tenant())
	text, err := sqlparse.Print(q, g)
	if err != nil {
		return nil, syntaxError(op, err)
	}
	return &Printed{SQL: text, Args: g.args, Exact: exact}, nil
}

// Prepare is Print followed by the second wall (the engine's EXPLAIN QUERY
// TREE must show only allowed tables and no table function): the SQL and
// arguments it returns are safe to run, with Printed.Settings, for the
// caller's tenant. Exports run tenant SQL through it.
func (s *Service) Prepare(ctx context.Context, sql string, limit int) (*Printed, error) {
	pq, err := s.Print(ctx, sql, limit)
	if err != nil {
		return nil, err
	}
	pq.Settings = s.runSettings()
	if err := s.checkPlan(store.WithSettings(ctx, pq.Settings), pq.SQL, pq.Args); err != nil {
		return nil, err
	}
	return pq, nil
}

// Run executes sql for the caller's tenant and returns at most limit rows
// (limit ≤ 0 means Config.DefaultLimit; above Config.MaxLimit it is
// lowered to it). Refusals are BAD_USER_INPUT with line and column fields
// where they apply; too many concurrent queries is RATE_LIMITED; without a
// verified tenant it fails closed (UNAUTHENTICATED). The query is audited
// whatever the outcome.
func (s *Service) Run(ctx context.Context, sql string, limit int) (*Result, error) {
	start := s.cfg.Now()
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, _ := auth.PrincipalFrom(ctx)
	rec := auditRecord{tenant: scope.Tenant(), at: start, subject: p.Subject, requestID: reqid.From(ctx), sql: sql}
	res, err := s.run(ctx, scope, sql, limit, &rec)
	rec.duration = s.cfg.Now().Sub(start)
	if res != nil {
		res.Elapsed = rec.duration
		rec.rows = len(res.Rows)
	}
	if aerr := s.audit(ctx, rec, err); aerr != nil && err == nil {
		return nil, aerr
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Service) run(ctx context.Context, scope store.Scope, sql string, limit int, rec *auditRecord) (*Result, error) {
	const op = "adhoc.Run"
	if !s.limiter.acquire(scope.Tenant()) {
		return nil, errs.E(op, errs.KindRateLimited,
			"too many ad-hoc queries are running for your tenant; retry when one has finished")
	}
	defer s.limiter.release(scope.Tenant())
	pq, err := s.Print(ctx, sql, limit)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(pq.SQL))
	rec.printed = hex.EncodeToString(sum[:])
	rowCap := s.rowCap(limit)
	ctx = store.WithSettings(store.WithSettings(ctx, s.runSettings()), store.Settings{
		"max_execution_time": max(1, int(s.cfg.MaxExecutionTime/time.Second)),
	})
	if err := s.checkPlan(ctx, pq.SQL, pq.Args); err != nil {
		return nil, err
	}
	ctx = store.WithSettings(ctx, store.Settings{
		"max_result_rows":      rowCap + 1,
		"result_overflow_mode": "break",
	})
	rows, err := s.db.Query(ctx, pq.SQL, pq.Args...)
	if err != nil {
		return nil, engineError(op, err)
	}
	defer rows.Close()
	res := &Result{Limit: rowCap, Rows: [][]any{}}
	for _, c := range rows.Columns() {
		res.Columns = append(res.Columns, Column{Name: c.Name, Type: c.Type})
	}
	for rows.Next() {
		if len(res.Rows) == rowCap {
			res.Truncated = true
			break
		}
		vals := make([]any, len(res.Columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, errs.Wrap(op, errs.KindInternal, err, "")
		}
		for i, v := range vals {
			vals[i] = jsonValue(v)
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, engineError(op, err)
	}
	return res, nil
}

// runSettings are the third wall's engine settings, bar the time limit.
func (s *Service) runSettings() store.Settings {
	return store.Settings{
		"readonly":         1,
		"max_rows_to_read": s.cfg.MaxRowsToRead,
		"max_memory_usage": s.cfg.MaxMemoryUsage,
	}
}

// rowCap is the row cap for a requested limit.
func (s *Service) rowCap(limit int) int {
	if limit <= 0 {
		return s.cfg.DefaultLimit
	}
	return min(limit, s.cfg.MaxLimit)
}
