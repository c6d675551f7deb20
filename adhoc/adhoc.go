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
//  3. It runs readonly=1 with a time limit, a result-row cap (a LIMIT
//     one above the cap → Result.Truncated), a result-size cap (the
//     engine's max_result_bytes with result_overflow_mode=throw, and our
//     own count of the bytes read → BAD_USER_INPUT with reason
//     RESULT_TOO_LARGE naming the cap), rows-to-read and memory limits;
//     at most MaxConcurrentPerTenant queries run at once per tenant and
//     MaxConcurrent in the whole process, so ad-hoc queries hold at most
//     MaxConcurrent × MaxMemoryUsage of engine memory and about
//     MaxConcurrent × MaxResultBytes of decoded rows.
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
	"fmt"
	"log/slog"
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
	DefaultMaxMemoryUsage         = 1 << 30
	DefaultMaxConcurrentPerTenant = 2
	DefaultMaxConcurrent          = 4
	DefaultMaxResultBytes         = 16 << 20
)

// ReasonResultTooLarge is the extensions.reason of a BAD_USER_INPUT whose
// result is over Config.MaxResultBytes; extensions.maxResultBytes names
// the cap.
const ReasonResultTooLarge = "RESULT_TOO_LARGE"

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
	// MaxResultBytes bounds the size of one result: the engine's
	// max_result_bytes and our own count of the decoded values (0:
	// DefaultMaxResultBytes). Run only; exports stream to files instead.
	MaxResultBytes int64
	// MaxConcurrentPerTenant caps queries running at once per tenant
	// (0: DefaultMaxConcurrentPerTenant).
	MaxConcurrentPerTenant int
	// MaxConcurrent caps Run's queries running at once in this Service,
	// whatever their tenants (0: DefaultMaxConcurrent). The process builds
	// one Service for eventsQuery, so this is the process-wide cap.
	MaxConcurrent int
	// Logger gets one line per refused query (INFO for the caller's own
	// mistakes, WARN when the process-wide cap refuses), without SQL; the
	// query itself is in query_audit (nil: no log).
	Logger *slog.Logger
	// PIIKeys are the property keys and column names of personal data
	// (ANALYTICS_PII_KEYS); PII says which callers read the PII-free
	// relation without them (see PIIPolicy). Without keys every caller
	// reads the data as stored.
	PIIKeys []string
	PII     PIIPolicy
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
	pii     *piiView

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
	if cfg.MaxResultBytes <= 0 {
		cfg.MaxResultBytes = DefaultMaxResultBytes
	}
	if cfg.MaxConcurrentPerTenant <= 0 {
		cfg.MaxConcurrentPerTenant = DefaultMaxConcurrentPerTenant
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Tables == nil {
		cfg.Tables = DefaultTables()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{
		db: db, cfg: cfg, tables: cfg.Tables, funcs: newFunctionIndex(),
		limiter: newLimiter(cfg.MaxConcurrentPerTenant, cfg.MaxConcurrent),
		pii:     newPIIView(cfg.PIIKeys),
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
	p, _ := auth.PrincipalFrom(ctx)
	pii := policyView(s.pii, s.cfg.PII, p)
	var reads map[*sqlparse.TableRef][]pathRead
	if pii != nil {
		reads = pii.rewritePaths(q, s.tableIndex())
	}
	q, exact := capRows(q, s.rowCap(limit))
	g := newGuard(s.tables, s.funcs, scope.Tenant(), pii)
	g.reads = reads
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
// verified tenant it fails closed (UNAUTHENTICATED); a result over
// Config.MaxResultBytes is BAD_USER_INPUT with reason RESULT_TOO_LARGE.
// Engine errors the query itself causes (bad casts, too large strings …)
// are BAD_USER_INPUT with the engine's explanation, without SQL. The query
// is audited whatever the outcome.
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
	s.logRefusal(ctx, scope.Tenant(), err)
	if aerr := s.audit(ctx, rec, err); aerr != nil && err == nil {
		return nil, aerr
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// PIIFree reports whether the caller of ctx reads the PII-free relation.
func (s *Service) PIIFree(ctx context.Context) bool {
	p, _ := auth.PrincipalFrom(ctx)
	return policyView(s.pii, s.cfg.PII, p) != nil
}

func (s *Service) tableIndex() map[string]Table {
	m := make(map[string]Table, len(s.tables))
	for _, t := range s.tables {
		m[t.Name] = t
	}
	return m
}

// Running is how many queries of this Service are running now (the
// analytics_adhoc_queries_running gauge reads it).
func (s *Service) Running() int { return s.limiter.inUse() }

func (s *Service) run(ctx context.Context, scope store.Scope, sql string, limit int, rec *auditRecord) (*Result, error) {
	const op = "adhoc.Run"
	switch s.limiter.acquire(scope.Tenant()) {
	case capTenant:
		return nil, errs.E(op, errs.KindRateLimited, fmt.Sprintf(
			"too many ad-hoc queries are running for your tenant (at most %d at once); retry when one has finished", s.cfg.MaxConcurrentPerTenant))
	case capProcess:
		return nil, errs.E(op, errs.KindRateLimited, fmt.Sprintf(
			"the server is running its maximum of %d ad-hoc queries at once; retry in a few seconds", s.cfg.MaxConcurrent)).
			With("reason", "SERVER_BUSY")
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
	// The printed LIMIT is rowCap+1, so the row limit never throws; the
	// byte limit does, before the engine builds a result we would refuse.
	ctx = store.WithSettings(ctx, store.Settings{
		"max_result_rows":      rowCap + 1,
		"max_result_bytes":     s.cfg.MaxResultBytes,
		"result_overflow_mode": "throw",
	})
	rows, err := s.db.Query(ctx, pq.SQL, pq.Args...)
	if err != nil {
		return nil, s.engineError(op, err)
	}
	defer rows.Close()
	res := &Result{Limit: rowCap, Rows: [][]any{}}
	for _, c := range rows.Columns() {
		res.Columns = append(res.Columns, Column{Name: c.Name, Type: c.Type})
	}
	var size int64
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
			size += valueSize(vals[i])
		}
		if size > s.cfg.MaxResultBytes {
			return nil, s.resultTooLarge(op, nil)
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, s.engineError(op, err)
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
