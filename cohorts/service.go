package cohorts

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/learnhub/analytics-service/audit"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/kv"
	"github.com/learnhub/analytics-service/store"
)

// Publisher sends outgoing events (platform/bus.Bus implements it).
type Publisher interface {
	Publish(ctx context.Context, subject string, v any, msgID string) error
}

// Config tunes a Service.
type Config struct {
	// Locks serialises commands per cohort across replicas; nil means no
	// locks (one instance).
	Locks kv.Locker
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Queue enqueues the per-cohort evaluations of the hourly run
	// (*queue.Client implements it); nil in a process that runs no
	// workers, where the hourly run fails saying so.
	Queue Enqueuer
	// Spec is the hourly schedule of the evaluate-all run; empty means
	// DefaultSpec.
	Spec string
	// Metrics resolves the metric keys of Metric conditions
	// (*metrics.Registry implements it); nil means no metric exists, so
	// such conditions are refused.
	Metrics MetricLookup
}

// MetricLookup finds the caller's metric by key, KindNotFound when none.
type MetricLookup interface {
	GetByKey(ctx context.Context, key string) (*metrics.Definition, error)
}

// Service stores, evaluates and answers cohorts of the caller's tenant.
type Service struct {
	db    *store.DB
	pub   Publisher
	locks kv.Locks
	now   func() time.Time
	defs  MetricLookup
	cfg   Config
}

// NewService returns a Service; pub may be nil (no events are published).
func NewService(db *store.DB, pub Publisher, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{db: db, pub: pub, locks: kv.NewLocks(cfg.Locks, 0), now: cfg.Now, defs: cfg.Metrics, cfg: cfg}
}

const maxStatic = 100_000

// Create validates and stores a new cohort at version 1.
func (s *Service) Create(ctx context.Context, c Cohort) (*Cohort, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	c.ID, c.Version = uuid.NewString(), 1
	if err := s.validate(ctx, scope, &c); err != nil {
		return nil, err
	}
	return &c, s.write(ctx, scope, "create", nil, &c, false)
}

// Update replaces a cohort's definition; expectedVersion must be current.
func (s *Service) Update(ctx context.Context, id string, expectedVersion uint64, c Cohort) (*Cohort, error) {
	return s.change(ctx, id, expectedVersion, "update", func(cur *Cohort) (*Cohort, bool, error) {
		c.ID, c.Version = cur.ID, cur.Version+1
		return &c, false, nil
	})
}

// Delete removes a cohort; its past memberships stay for audit.
func (s *Service) Delete(ctx context.Context, id string, expectedVersion uint64) error {
	_, err := s.change(ctx, id, expectedVersion, "delete", func(cur *Cohort) (*Cohort, bool, error) {
		next := *cur
		next.Version++
		return &next, true, nil
	})
	return err
}

func (s *Service) change(ctx context.Context, id string, expected uint64, action string, apply func(*Cohort) (*Cohort, bool, error)) (*Cohort, error) {
	const op = "cohorts.change"
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	unlock, err := s.locks.Lock(ctx, "lock:cohort:"+scope.Tenant()+":"+id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	cur, err := s.get(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	if cur.Version != expected {
		return nil, errs.E(op, errs.KindConflict, fmt.Sprintf("cohort %s is at version %d, not %d; reload and retry", id, cur.Version, expected)).
			With("currentVersion", cur.Version)
	}
	next, deleted, err := apply(cur)
	if err != nil {
		return nil, err
	}
	if !deleted {
		if err := s.validate(ctx, scope, next); err != nil {
			return nil, err
		}
	}
	return next, s.write(ctx, scope, action, cur, next, deleted)
}

// Get returns one cohort of the caller's tenant.
func (s *Service) Get(ctx context.Context, id string) (*Cohort, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	return s.get(ctx, scope, id)
}

// List returns the tenant's cohorts, ordered by name.
func (s *Service) List(ctx context.Context) ([]*Cohort, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	guard, tenant := scope.Predicate("")
	return s.query(ctx, "SELECT definition FROM cohorts FINAL WHERE "+guard+" AND is_deleted = 0 ORDER BY name, cohort_id", tenant)
}

func (s *Service) get(ctx context.Context, scope store.Scope, id string) (*Cohort, error) {
	guard, tenant := scope.Predicate("")
	cs, err := s.query(ctx, "SELECT definition FROM cohorts FINAL WHERE "+guard+" AND cohort_id = ? AND is_deleted = 0", tenant, id)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, errs.E("cohorts.get", errs.KindNotFound, fmt.Sprintf("no cohort %q", id)).With("field", "id")
	}
	return cs[0], nil
}

func (s *Service) query(ctx context.Context, sql string, args ...any) ([]*Cohort, error) {
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Cohort{}
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var c Cohort
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			return nil, errs.Wrap("cohorts.query", errs.KindInternal, err, "")
		}
		out = append(out, &c)
	}
	return out, rows.Err()
}

// validate checks the name, the criteria (by compiling them) and that
// cohort references exist and form no cycle.
func (s *Service) validate(ctx context.Context, scope store.Scope, c *Cohort) error {
	const op = "cohorts.validate"
	if c.Name == "" || len(c.Name) > 200 {
		return errs.Invalid(op, "name", "name is required (at most 200 characters)")
	}
	if (c.Criteria == nil) == (len(c.Static) == 0) {
		return errs.Invalid(op, "criteria", "give criteria (a behavioural cohort) or static user ids, not both")
	}
	if len(c.Static) > maxStatic {
		return errs.Invalid(op, "static", fmt.Sprintf("a static cohort holds at most %d users", maxStatic))
	}
	for i, u := range c.Static {
		if u == "" || len(u) > 200 {
			return errs.Invalid(op, fmt.Sprintf("static[%d]", i), fmt.Sprintf("static[%d]: a user id is 1 to 200 characters", i))
		}
	}
	if c.Criteria == nil {
		return nil
	}
	defs, err := s.metricDefs(ctx, *c.Criteria)
	if err != nil {
		return err
	}
	_, _, refs, err := membersSQL(scope, c.Criteria, s.now(), defs)
	if err != nil {
		return err
	}
	return s.checkRefs(ctx, scope, c.ID, refs, map[string]bool{c.ID: true})
}

// metricDefs resolves the metric keys crit names; a missing one is left
// out, so compiling reports it with the node's path.
func (s *Service) metricDefs(ctx context.Context, crit Criteria) (map[string]*metrics.Definition, error) {
	_, keys := crit.references()
	defs := make(map[string]*metrics.Definition, len(keys))
	if s.defs == nil {
		return defs, nil
	}
	for _, k := range keys {
		d, err := s.defs.GetByKey(ctx, k)
		if errs.Is(err, errs.KindNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		defs[k] = d
	}
	return defs, nil
}

// checkRefs follows InCohort references depth-first; meeting a cohort on
// the current path is a cycle.
func (s *Service) checkRefs(ctx context.Context, scope store.Scope, from string, refs []string, path map[string]bool) error {
	const op = "cohorts.validate"
	for _, ref := range refs {
		if path[ref] {
			return errs.Invalid(op, "criteria", fmt.Sprintf("criteria: cohort %s refers back to %s (a cycle)", from, ref))
		}
		other, err := s.get(ctx, scope, ref)
		if errs.Is(err, errs.KindNotFound) {
			return errs.Invalid(op, "criteria", fmt.Sprintf("criteria: inCohort %q does not exist", ref))
		}
		if err != nil {
			return err
		}
		if other.Criteria == nil {
			continue
		}
		next, _ := other.Criteria.references()
		path[ref] = true
		if err := s.checkRefs(ctx, scope, ref, next, path); err != nil {
			return err
		}
		delete(path, ref)
	}
	return nil
}

func (s *Service) write(ctx context.Context, scope store.Scope, action string, before, after *Cohort, deleted bool) error {
	now := s.now().UTC()
	after.UpdatedAt, after.UpdatedBy = now, audit.Actor(ctx)
	raw, err := json.Marshal(after)
	if err != nil {
		return err
	}
	del := uint8(0)
	if deleted {
		del = 1
	}
	active := uint8(0)
	if after.Active {
		active = 1
	}
	if err := s.db.Insert(ctx, store.Insert{Table: "cohorts",
		Columns: []string{"tenant_id", "cohort_id", "version", "is_deleted", "name", "active", "definition", "updated_at", "updated_by"},
		Rows:    [][]any{{scope.Tenant(), after.ID, after.Version, del, after.Name, active, string(raw), now, after.UpdatedBy}},
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
	return audit.Write(ctx, s.db, [][]any{audit.Row(ctx, scope.Tenant(), now, action, "cohort", after.ID, prev, next)})
}
