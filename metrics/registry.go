package metrics

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/learnhub/analytics-service/audit"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/kv"
	"github.com/learnhub/analytics-service/store"
)

// Tables of the registry (migration 0004).
const (
	metricsTable  = "metrics"
	versionsTable = "metric_versions"
)

// Limits of List.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// Actions written to metric_versions and audit_log.
const (
	ActionCreate    = "metric.create"
	ActionUpdate    = "metric.update"
	ActionDeprecate = "metric.deprecate"
	ActionInstall   = "metric.install"
)

// metricColumns and versionColumns are the insert column lists.
var (
	metricColumns  = []string{"tenant_id", "metric_id", "key", "version", "is_deleted", "status", "definition", "updated_at", "updated_by"}
	versionColumns = []string{"tenant_id", "metric_id", "version", "action", "definition", "updated_at", "updated_by"}
)

// Config configures a Registry.
type Config struct {
	// Locks takes the per-metric command locks across replicas. Nil (the
	// default) takes no locks: right for a single instance; expected
	// versions still reject stale writes.
	Locks kv.Locker
	// LockTTL bounds a held lock; zero means kv.DefaultLockTTL.
	LockTTL time.Duration
	// Cache publishes each tenant's definitions generation to every
	// replica, so queries reuse an in-process copy of the definitions while
	// it is current (defcache.go). Nil reads them on every query.
	Cache kv.Cache
	// Usage answers "who uses this metric" on Deprecate; nil means nobody.
	Usage UsageFinder
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Registry stores tenants' metric definitions: versioned, audited, scoped
// by the verified tenant. It installs the learning catalog for a tenant on
// its first access. Safe for concurrent use.
type Registry struct {
	db        *store.DB
	cfg       Config
	locks     kv.Locks
	installed sync.Map // tenant → struct{}: catalog checked in this process
	defs      sync.Map // tenant → cachedDefs
}

// ListFilter narrows List; zero fields match everything.
type ListFilter struct {
	Status    Status // ACTIVE or DEPRECATED
	Tag       string
	KeyMetric bool   // only key metrics
	Search    string // case-insensitive substring of key or name
}

// Page is one page of List, ordered by key.
type Page struct {
	Metrics   []*Definition
	EndCursor string // pass as after for the next page; empty when none
	HasNext   bool
	Total     int // matches over all pages
}

// Deprecation is Deprecate's answer: the new state and who uses the metric.
type Deprecation struct {
	Metric *Definition
	UsedBy []Usage
}

// DeprecateInput says how a metric is retired.
type DeprecateInput struct {
	// Replacement is the key of the metric to use instead; empty means none.
	Replacement string
	// Sunset is when queries stop answering; nil means they never stop.
	Sunset *time.Time
}

// NewRegistry returns a Registry on db (migrated to at least 0004).
func NewRegistry(db *store.DB, cfg Config) *Registry {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Registry{db: db, cfg: cfg, locks: kv.NewLocks(cfg.Locks, cfg.LockTTL)}
}

// Create validates and stores a new metric at version 1.
func (r *Registry) Create(ctx context.Context, in Input) (*Definition, error) {
	const op = "metrics.Create"
	scope, _, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	unlock, err := r.locks.Lock(ctx, lockKey(scope, "key:"+in.Key))
	if err != nil {
		return nil, err
	}
	defer unlock()
	_, all, err := r.reload(ctx, scope)
	if err != nil {
		return nil, err
	}
	if _, dup := byKey(all)[in.Key]; dup {
		return nil, errs.E(op, errs.KindConflict, fmt.Sprintf("a metric with key %q already exists", in.Key)).With("field", "key")
	}
	now := r.now()
	d := &Definition{ID: uuid.NewString(), Status: StatusActive, Version: 1, CreatedAt: now, UpdatedAt: now, UpdatedBy: audit.Actor(ctx)}
	in.apply(d)
	if err := Validate(d, lookupIn(all)); err != nil {
		return nil, err
	}
	return d, r.write(ctx, scope, ActionCreate, nil, d)
}

// Update replaces a metric's editable fields. expectedVersion must be the
// version the caller read; otherwise KindConflict names the current one.
// The key cannot change (formulas refer to it).
func (r *Registry) Update(ctx context.Context, id string, expectedVersion uint64, in Input) (*Definition, error) {
	return r.change(ctx, id, expectedVersion, ActionUpdate, func(d *Definition, all []*Definition) error {
		if in.Key != d.Key {
			return invalid("metrics.Update", "key", "key cannot change (from %q to %q): formulas refer to it; create a new metric and deprecate this one", d.Key, in.Key)
		}
		in.apply(d)
		return Validate(d, lookupIn(all))
	})
}

// Deprecate marks a metric DEPRECATED with an optional replacement and
// sunset, and returns who uses it. A deprecated metric keeps answering
// queries, with a notice, until its sunset.
func (r *Registry) Deprecate(ctx context.Context, id string, expectedVersion uint64, in DeprecateInput) (*Deprecation, error) {
	const op = "metrics.Deprecate"
	d, err := r.change(ctx, id, expectedVersion, ActionDeprecate, func(d *Definition, all []*Definition) error {
		if in.Replacement != "" {
			rep, ok := byKey(all)[in.Replacement]
			switch {
			case in.Replacement == d.Key:
				return invalid(op, "replacement", "replacement %q is the metric itself", in.Replacement)
			case !ok:
				return invalid(op, "replacement", "replacement %q is not a metric of this tenant", in.Replacement)
			case rep.Status != StatusActive:
				return invalid(op, "replacement", "replacement %q is deprecated itself; pick an active metric", in.Replacement)
			}
		}
		if in.Sunset != nil && !in.Sunset.After(r.now()) {
			return invalid(op, "sunset", "sunset %s is not in the future", in.Sunset.UTC().Format(time.RFC3339))
		}
		d.Status, d.Replacement, d.Sunset = StatusDeprecated, in.Replacement, in.Sunset
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &Deprecation{Metric: d, UsedBy: []Usage{}}
	if r.cfg.Usage != nil {
		scope, err := store.ScopeFrom(ctx)
		if err != nil {
			return nil, err
		}
		if out.UsedBy, err = r.cfg.Usage.MetricUsages(ctx, scope.Tenant(), d.ID, d.Key); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Get returns the caller's metric with this id, or KindNotFound.
func (r *Registry) Get(ctx context.Context, id string) (*Definition, error) {
	_, all, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range all {
		if d.ID == id {
			return clone(d), nil // the caller may edit its copy, not the cached one
		}
	}
	return nil, errs.E("metrics.Get", errs.KindNotFound, fmt.Sprintf("metric %q not found", id))
}

// GetByKey returns the caller's metric with this key, or KindNotFound.
func (r *Registry) GetByKey(ctx context.Context, key string) (*Definition, error) {
	_, all, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	if d, ok := byKey(all)[key]; ok {
		return clone(d), nil
	}
	return nil, errs.E("metrics.GetByKey", errs.KindNotFound, fmt.Sprintf("metric %q not found", key))
}

// List returns the caller's metrics matching f, ordered by key, first at a
// time (0 means DefaultPageSize) after the cursor of a previous page.
func (r *Registry) List(ctx context.Context, f ListFilter, first int, after string) (*Page, error) {
	const op = "metrics.List"
	first, err := store.PageSize(op, first, DefaultPageSize, MaxPageSize)
	if err != nil {
		return nil, err
	}
	var afterKey string
	if after != "" {
		raw, err := base64.RawURLEncoding.DecodeString(after)
		if err != nil {
			return nil, invalid(op, "after", "after is not a cursor from a previous page")
		}
		afterKey = string(raw)
	}
	_, all, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	matched := slices.DeleteFunc(slices.Clone(all), func(d *Definition) bool { return !f.matches(d) })
	page := &Page{Metrics: []*Definition{}, Total: len(matched)}
	for _, d := range matched {
		if d.Key <= afterKey {
			continue
		}
		if len(page.Metrics) == first {
			page.HasNext = true
			break
		}
		page.Metrics = append(page.Metrics, clone(d))
	}
	if n := len(page.Metrics); n > 0 && page.HasNext {
		page.EndCursor = Cursor(page.Metrics[n-1])
	}
	return page, nil
}

// History returns every stored version of a metric, oldest first.
func (r *Registry) History(ctx context.Context, id string) ([]*Definition, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	guard, tenant := scope.Predicate("")
	return r.query(ctx, "SELECT definition FROM "+store.QuoteIdent(versionsTable)+" FINAL WHERE "+guard+
		" AND metric_id = ? ORDER BY version", tenant, id)
}

func (f ListFilter) matches(d *Definition) bool {
	switch {
	case f.Status != "" && d.Status != f.Status,
		f.Tag != "" && !slices.Contains(d.Tags, f.Tag),
		f.KeyMetric && !d.KeyMetric:
		return false
	case f.Search != "":
		s := strings.ToLower(f.Search)
		return strings.Contains(strings.ToLower(d.Key), s) || strings.Contains(strings.ToLower(d.Name), s)
	}
	return true
}

// change runs one read-check-write command on a metric under its lock.
func (r *Registry) change(ctx context.Context, id string, expected uint64, action string, edit func(d *Definition, all []*Definition) error) (*Definition, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.ensureCatalog(ctx, scope); err != nil {
		return nil, err
	}
	unlock, err := r.locks.Lock(ctx, lockKey(scope, "id:"+id))
	if err != nil {
		return nil, err
	}
	defer unlock()
	_, all, err := r.reload(ctx, scope)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(all, func(d *Definition) bool { return d.ID == id })
	if i < 0 {
		return nil, errs.E("metrics."+strings.TrimPrefix(action, "metric."), errs.KindNotFound, fmt.Sprintf("metric %q not found", id))
	}
	before := all[i]
	if before.Version != expected {
		return nil, errs.E("metrics."+strings.TrimPrefix(action, "metric."), errs.KindConflict, fmt.Sprintf(
			"metric %q is at version %d, not the expected %d; reload it and retry", before.Key, before.Version, expected)).
			With("currentVersion", before.Version)
	}
	after := clone(before)
	all[i] = after
	if err := edit(after, all); err != nil {
		return nil, err
	}
	after.Version = before.Version + 1
	after.UpdatedAt, after.UpdatedBy = r.now(), audit.Actor(ctx)
	return after, r.write(ctx, scope, action, before, after)
}

// write stores a new version of one metric with its history and audit rows.
func (r *Registry) write(ctx context.Context, scope store.Scope, action string, before, after *Definition) error {
	return r.writeMany(ctx, scope, action, []*Definition{after}, func(*Definition) *Definition { return before })
}

// writeMany stores several metrics with one insert per table.
func (r *Registry) writeMany(ctx context.Context, scope store.Scope, action string, defs []*Definition, before func(*Definition) *Definition) error {
	var cur, hist, auditRows [][]any
	for _, d := range defs {
		js, err := json.Marshal(d)
		if err != nil {
			return errs.Wrap("metrics.write", errs.KindInternal, err, "")
		}
		cur = append(cur, []any{scope.Tenant(), d.ID, d.Key, d.Version, uint8(0), string(d.Status), string(js), d.UpdatedAt, d.UpdatedBy})
		hist = append(hist, []any{scope.Tenant(), d.ID, d.Version, action, string(js), d.UpdatedAt, d.UpdatedBy})
		auditRows = append(auditRows, auditRow(ctx, scope.Tenant(), d.UpdatedAt, action, before(d), d))
	}
	// History and audit first: a failure after them leaves a record of an
	// attempted change, never a change without a record.
	if err := r.db.Insert(ctx, store.Insert{Table: versionsTable, Columns: versionColumns, Rows: hist}); err != nil {
		return err
	}
	if err := audit.Write(ctx, r.db, auditRows); err != nil {
		return err
	}
	if err := r.db.Insert(ctx, store.Insert{Table: metricsTable, Columns: metricColumns, Rows: cur}); err != nil {
		return err
	}
	r.newGeneration(ctx, scope.Tenant())
	return nil
}

// load returns the caller's scope and current metrics (the in-process copy
// while its generation is current), installing the catalog on first
// access. Commands read fresh with reload under their lock.
func (r *Registry) load(ctx context.Context) (store.Scope, []*Definition, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return store.Scope{}, nil, err
	}
	if err := r.ensureCatalog(ctx, scope); err != nil {
		return store.Scope{}, nil, err
	}
	all, err := r.cached(ctx, scope)
	return scope, all, err
}

// reload reads the tenant's current metrics, ordered by key.
func (r *Registry) reload(ctx context.Context, scope store.Scope) (store.Scope, []*Definition, error) {
	guard, tenant := scope.Predicate("")
	all, err := r.query(ctx, "SELECT definition FROM "+store.QuoteIdent(metricsTable)+" FINAL WHERE "+guard+" ORDER BY key", tenant)
	return scope, all, err
}

func (r *Registry) query(ctx context.Context, sql string, args ...any) ([]*Definition, error) {
	rows, err := r.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Definition{}
	for rows.Next() {
		var js string
		if err := rows.Scan(&js); err != nil {
			return nil, err
		}
		d := &Definition{}
		if err := json.Unmarshal([]byte(js), d); err != nil {
			return nil, errs.Wrap("metrics.load", errs.KindInternal, err, "")
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (r *Registry) now() time.Time { return r.cfg.Now().UTC().Truncate(time.Millisecond) }

// lockKey names the Redis lock of one entity of a tenant.
func lockKey(scope store.Scope, entity string) string {
	return "lock:metrics:" + scope.Tenant() + ":" + entity
}

// byKey indexes metrics by key.
func byKey(all []*Definition) map[string]*Definition {
	m := make(map[string]*Definition, len(all))
	for _, d := range all {
		m[d.Key] = d
	}
	return m
}

// lookupIn is a Lookup over a loaded set.
func lookupIn(all []*Definition) Lookup {
	m := byKey(all)
	return func(key string) (*Definition, bool) { d, ok := m[key]; return d, ok }
}

// clone deep-copies a definition through JSON (definitions are small).
func clone(d *Definition) *Definition {
	b, _ := json.Marshal(d)
	out := &Definition{}
	_ = json.Unmarshal(b, out)
	return out
}

// Cursor is the opaque paging cursor that points just after d in a listing.
func Cursor(d *Definition) string {
	return base64.RawURLEncoding.EncodeToString([]byte(d.Key))
}
