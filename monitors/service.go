package monitors

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/learnhub/analytics-service/audit"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/kv"
	"github.com/learnhub/analytics-service/store"
)

// systemActor is the principal of scheduled evaluations.
const systemActor = "system:monitors"

// Metrics is what monitors read of the metric registry (*metrics.Registry
// implements it); both calls read the caller's tenant from the context.
type Metrics interface {
	GetByKey(ctx context.Context, key string) (*metrics.Definition, error)
	List(ctx context.Context, f metrics.ListFilter, first int, after string) (*metrics.Page, error)
}

// Querier answers metric requests of the caller's tenant (*metrics.Querier
// implements it).
type Querier interface {
	QueryBatch(ctx context.Context, reqs []metrics.Request) ([]*metrics.Result, []error)
}

// Enqueuer queues tasks (queue.Client implements it).
type Enqueuer interface {
	Enqueue(ctx context.Context, t jobs.Task) (jobs.Receipt, error)
}

// Config tunes a Service.
type Config struct {
	// Locks serialises changes per monitor across replicas; nil means no
	// locks (one instance).
	Locks kv.Locker
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Queue enqueues backfills and the per-tenant evaluations of a tick;
	// nil in a process without workers: creation then stores no backfill
	// task (the first tick backfills instead) and ticks fail saying so.
	Queue Enqueuer
	// HourSpec and DaySpec override the tick schedules; empty means
	// HourSpec and DaySpec.
	HourSpec, DaySpec string
	// Reviewer is the LLM reviewer (review.go); nil when the AI gateway is
	// not configured: then every monitor's llmReview must be OFF.
	Reviewer *Reviewer
}

// Service stores monitors, evaluates them and answers their scores,
// anomalies and forecasts for the caller's tenant.
type Service struct {
	db    *store.DB
	defs  Metrics
	query Querier
	locks kv.Locks
	cfg   Config
}

// NewService returns a Service over db (migrated to at least 0013).
func NewService(db *store.DB, defs Metrics, q Querier, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{db: db, defs: defs, query: q, locks: kv.NewLocks(cfg.Locks, 0), cfg: cfg}
}

// Create validates and stores a new monitor at version 1 and queues its
// backfill.
func (s *Service) Create(ctx context.Context, m Monitor) (*Monitor, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	m.ID, m.Version, m.Default = uuid.NewString(), 1, false
	if err := s.validate(ctx, &m); err != nil {
		return nil, err
	}
	if err := s.write(ctx, scope, "create", nil, &m, false); err != nil {
		return nil, err
	}
	return &m, s.enqueueBackfill(ctx, scope, &m)
}

// Update replaces a monitor's settings; expectedVersion must be current (0
// for a key-metric default never tuned before). It queues the new
// version's backfill.
func (s *Service) Update(ctx context.Context, id string, expectedVersion uint64, m Monitor) (*Monitor, error) {
	return s.change(ctx, id, expectedVersion, "update", func(cur *Monitor) (*Monitor, bool, error) {
		if cur.Default && m.MetricKey != cur.MetricKey {
			return nil, false, errs.Invalid("monitors.Update", "metricKey",
				fmt.Sprintf("metricKey: the default monitor %s watches %q; create a new monitor to watch another metric", id, cur.MetricKey))
		}
		m.ID, m.Version, m.Default = cur.ID, cur.Version+1, cur.Default
		return &m, false, nil
	})
}

// Delete removes a monitor and hides its scores. Key-metric defaults cannot
// be deleted: switch them off (active: false) instead.
func (s *Service) Delete(ctx context.Context, id string, expectedVersion uint64) error {
	_, err := s.change(ctx, id, expectedVersion, "delete", func(cur *Monitor) (*Monitor, bool, error) {
		if cur.Default {
			return nil, false, errs.Invalid("monitors.Delete", "id",
				fmt.Sprintf("id: %s is a key-metric default and cannot be deleted; update it with active: false to switch it off", id))
		}
		next := *cur
		next.Version++
		return &next, true, nil
	})
	return err
}

func (s *Service) change(ctx context.Context, id string, expected uint64, action string, apply func(*Monitor) (*Monitor, bool, error)) (*Monitor, error) {
	const op = "monitors.change"
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	unlock, err := s.locks.Lock(ctx, "lock:monitor:"+scope.Tenant()+":"+id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	cur, err := s.get(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	if cur.Version != expected {
		return nil, errs.E(op, errs.KindConflict, fmt.Sprintf("monitor %s is at version %d, not %d; reload and retry", id, cur.Version, expected)).
			With("currentVersion", cur.Version)
	}
	next, deleted, err := apply(cur)
	if err != nil {
		return nil, err
	}
	if !deleted {
		if err := s.validate(ctx, next); err != nil {
			return nil, err
		}
	}
	var before *Monitor
	if cur.Version > 0 {
		before = cur
	}
	if err := s.write(ctx, scope, action, before, next, deleted); err != nil {
		return nil, err
	}
	if deleted {
		return next, nil
	}
	return next, s.enqueueBackfill(ctx, scope, next)
}

// Get returns one monitor of the caller's tenant (a key-metric default
// included).
func (s *Service) Get(ctx context.Context, id string) (*Monitor, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	return s.get(ctx, scope, id)
}

// Monitors returns the caller's effective monitors: the stored ones and
// the key-metric defaults not tuned yet, ordered by id.
func (s *Service) Monitors(ctx context.Context) ([]*Monitor, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	return s.effective(ctx, scope)
}

// List returns tenant's effective monitors (the key-metric defaults
// included), for system work such as alert rule evaluation that names its
// tenant from its own trusted input. A caller in ctx of another tenant is
// refused.
func (s *Service) List(ctx context.Context, tenant string) ([]*Monitor, error) {
	ctx, scope, err := systemContext(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return s.effective(ctx, scope)
}

// systemContext returns a context acting for tenant (the metric registry
// reads the tenant from the caller, as for a request) and its scope. A
// verified caller of another tenant in ctx is refused.
func systemContext(ctx context.Context, tenant string) (context.Context, store.Scope, error) {
	if p, ok := auth.PrincipalFrom(ctx); ok && p.Tenant != "" && p.Tenant != tenant {
		return nil, store.Scope{}, errs.E("monitors.systemContext", errs.KindForbidden, "the caller's tenant differs from the tenant asked for")
	}
	scope, err := store.DangerousScopeForTenant(tenant)
	if err != nil {
		return nil, store.Scope{}, err
	}
	ctx = auth.WithPrincipal(ctx, auth.Principal{Subject: systemActor, Tenant: tenant, Roles: []auth.Role{auth.RoleAnalyst}})
	return ctx, scope, nil
}

func (s *Service) get(ctx context.Context, scope store.Scope, id string) (*Monitor, error) {
	guard, tenant := scope.Predicate("")
	ms, err := s.read(ctx, "SELECT definition FROM monitors FINAL WHERE "+guard+" AND monitor_id = ? AND is_deleted = 0", tenant, id)
	if err != nil {
		return nil, err
	}
	if len(ms) > 0 {
		return ms[0], nil
	}
	if key, ok := strings.CutPrefix(id, DefaultIDPrefix); ok {
		defaults, err := s.defaults(ctx)
		if err != nil {
			return nil, err
		}
		for _, d := range defaults {
			if d.MetricKey == key {
				return d, nil
			}
		}
	}
	return nil, errs.E("monitors.get", errs.KindNotFound, fmt.Sprintf("no monitor %q", id)).With("field", "id")
}

// stored returns the tenant's stored monitors, ordered by id.
func (s *Service) stored(ctx context.Context, scope store.Scope) ([]*Monitor, error) {
	guard, tenant := scope.Predicate("")
	return s.read(ctx, "SELECT definition FROM monitors FINAL WHERE "+guard+" AND is_deleted = 0 ORDER BY monitor_id", tenant)
}

func (s *Service) read(ctx context.Context, sql string, args ...any) ([]*Monitor, error) {
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Monitor{}
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var m Monitor
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return nil, errs.Wrap("monitors.read", errs.KindInternal, err, "")
		}
		out = append(out, &m)
	}
	return out, rows.Err()
}

func (s *Service) write(ctx context.Context, scope store.Scope, action string, before, after *Monitor, deleted bool) error {
	now := s.cfg.Now().UTC().Truncate(time.Millisecond)
	after.UpdatedAt, after.UpdatedBy = now, audit.Actor(ctx)
	raw, err := json.Marshal(after)
	if err != nil {
		return err
	}
	if err := s.db.Insert(ctx, store.Insert{Table: "monitors",
		Columns: []string{"tenant_id", "monitor_id", "version", "is_deleted", "name", "active", "definition", "updated_at", "updated_by"},
		Rows:    [][]any{{scope.Tenant(), after.ID, after.Version, flag(deleted), after.Name, flag(after.Active), string(raw), now, after.UpdatedBy}},
	}); err != nil {
		return err
	}
	var prev string
	if before != nil {
		b, _ := json.Marshal(before)
		prev = string(b)
	}
	next := string(raw)
	if deleted {
		next = ""
	}
	return audit.Write(ctx, s.db, [][]any{audit.Row(ctx, scope.Tenant(), now, action, "monitor", after.ID, prev, next)})
}

// enqueueBackfill queues the backfill of m's current version; without a
// queue the first tick backfills it.
func (s *Service) enqueueBackfill(ctx context.Context, scope store.Scope, m *Monitor) error {
	if s.cfg.Queue == nil || !m.Active {
		return nil
	}
	_, err := s.cfg.Queue.Enqueue(ctx, jobs.Task{Kind: KindBackfill, Tenant: scope.Tenant(), Queue: jobs.QueueLow,
		Params: backfillParams{MonitorID: m.ID, Version: m.Version, ScheduledFor: s.cfg.Now().UTC().Truncate(time.Minute)}})
	return err
}

func flag(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
