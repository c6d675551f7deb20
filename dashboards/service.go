package dashboards

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/learnhub/analytics-service/audit"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/kv"
	"github.com/learnhub/analytics-service/platform/resultcache"
	"github.com/learnhub/analytics-service/store"
)

// Actions written to audit_log.
const (
	ActionCreate        = "dashboard.create"
	ActionUpdate        = "dashboard.update"
	ActionDelete        = "dashboard.delete"
	ActionInstall       = "dashboard.install"
	ActionWidgetAdd     = "dashboard.widget.add"
	ActionWidgetUpdate  = "dashboard.widget.update"
	ActionWidgetRemove  = "dashboard.widget.remove"
	ActionWidgetReorder = "dashboard.widget.reorder"
)

// DefaultCacheTTL is how long rendered widget data stays fresh when
// Config.CacheTTL is zero.
const DefaultCacheTTL = 60 * time.Second

// LoaderFactory makes the metrics.Loader of one render; every widget of
// the render loads through it so compatible requests share a query.
type LoaderFactory func() *metrics.Loader

// Config configures a Service.
type Config struct {
	// Locks takes the per-dashboard command locks across replicas. Nil
	// (the default) takes no locks: right for one instance; expected
	// versions still reject stale writes.
	Locks kv.Locker
	// LockTTL bounds a held lock; zero means kv.DefaultLockTTL.
	LockTTL time.Duration
	// Cache holds rendered widget data for every replica. Nil (the
	// default) caches nothing; concurrent identical renders still share
	// one computation.
	Cache kv.Cache
	// ResultCache keeps widget data on this replica keyed by the tenant's
	// data version (see results.go); widgets it can version skip Cache.
	// Nil (the default) leaves every widget on Cache.
	ResultCache *resultcache.Cache
	// CacheTTL is how long widget data stays fresh; zero means DefaultCacheTTL.
	CacheTTL time.Duration
	// Now is the clock (ranges, freshness, audit); nil means time.Now.
	Now func() time.Time
	// Cohorts checks the cohorts widgets name (*cohorts.Service implements
	// it). Nil (the default) refuses widgets with cohort filters or a
	// cohort breakdown, since their cohorts cannot be checked.
	Cohorts metrics.CohortChecker
	// Journeys checks and answers FUNNEL, RETENTION and PATHS widgets
	// (*journeys.Service implements it). Nil (the default) refuses such
	// widgets on save.
	Journeys JourneyRunner
	// Monitors answers the forecasts and anomaly scores of widget overlays
	// (*monitors.Service implements it). Nil (the default) refuses
	// widgets with an overlay on save.
	Monitors Monitors
	// Insights reads the stored charts INSIGHT widgets pin
	// (*insights.Service implements it). Nil (the default) refuses such
	// widgets on save.
	Insights Insights
}

// Service stores and renders the caller's dashboards, scoped by the
// verified tenant. Role checks are the caller's (the GraphQL directive).
// Safe for concurrent use.
type Service struct {
	db      *store.DB
	reg     *metrics.Registry
	loaders LoaderFactory
	cfg     Config
	locks   kv.Locks
	// flights share a widget computation among identical concurrent
	// renders on the Redis-cached path (a results cache that stores
	// nothing: single-flight, told to each render's batch).
	flights   *resultcache.Cache
	installed sync.Map // tenant → struct{}: preset checked in this process
	defs      sync.Map // tenant\x00idOrSlug → cachedDef: definitions for renders
}

// NewService returns a Service on db (migrated to at least 0005) that
// validates widgets against reg and renders through loaders.
func NewService(db *store.DB, reg *metrics.Registry, loaders LoaderFactory, cfg Config) *Service {
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{db: db, reg: reg, loaders: loaders, cfg: cfg, locks: kv.NewLocks(cfg.Locks, cfg.LockTTL),
		flights: resultcache.New(resultcache.Config{MaxEntries: -1})}
}

// Create validates and stores a new dashboard at version 1 with its widgets.
func (s *Service) Create(ctx context.Context, in Input, widgets []WidgetInput) (*Dashboard, error) {
	const op = "dashboards.Create"
	scope, err := s.scope(ctx)
	if err != nil {
		return nil, err
	}
	if err := validateInput(op, in, s.now()); err != nil {
		return nil, err
	}
	if len(widgets) > MaxWidgets {
		return nil, errs.Invalid(op, "widgets", fmt.Sprintf("a dashboard has at most %d widgets", MaxWidgets))
	}
	placed := make([]Widget, 0, len(widgets))
	for i, w := range widgets {
		w = place(w, placed, columnsOf(in.Layout))
		if err := s.validateWidget(ctx, op, fmt.Sprintf("widgets[%d]", i), w, columnsOf(in.Layout)); err != nil {
			return nil, err
		}
		placed = append(placed, Widget{WidgetInput: w})
	}
	unlock, err := s.locks.Lock(ctx, lockKey(scope, "slug:"+in.Slug))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := s.slugFree(ctx, scope, op, in.Slug, ""); err != nil {
		return nil, err
	}
	now, who := s.now(), audit.Actor(ctx)
	d := &Dashboard{ID: uuid.NewString(), Input: in, Widgets: []Widget{}, Version: 1,
		CreatedAt: now, CreatedBy: who, UpdatedAt: now, UpdatedBy: who}
	for _, w := range placed {
		d.Widgets = append(d.Widgets, Widget{ID: uuid.NewString(), WidgetInput: w.WidgetInput, Version: 1})
	}
	return d, s.write(ctx, scope, ActionCreate, nil, d, false)
}

// Update replaces the dashboard-level fields (not the widgets).
// expectedVersion must be the version the caller read; otherwise
// KindConflict names the current one.
func (s *Service) Update(ctx context.Context, id string, expectedVersion uint64, in Input) (*Dashboard, error) {
	const op = "dashboards.Update"
	if err := validateInput(op, in, s.now()); err != nil {
		return nil, err
	}
	return s.change(ctx, op, id, expectedVersion, ActionUpdate, func(scope store.Scope, d *Dashboard) error {
		if in.Slug != d.Slug {
			unlock, err := s.locks.Lock(ctx, lockKey(scope, "slug:"+in.Slug))
			if err != nil {
				return err
			}
			defer unlock()
			if err := s.slugFree(ctx, scope, op, in.Slug, d.ID); err != nil {
				return err
			}
		}
		for i, w := range d.Widgets {
			p := w.Position
			if p.X+p.W > columnsOf(in.Layout) {
				return errs.Invalid(op, "layout.columns", fmt.Sprintf(
					"layout.columns %d is too narrow for widget %d (%q ends at column %d)", columnsOf(in.Layout), i, w.Title, p.X+p.W))
			}
		}
		d.Input = in
		return nil
	})
}

// Delete removes a dashboard (a tombstone version; the audit row keeps it).
func (s *Service) Delete(ctx context.Context, id string, expectedVersion uint64) error {
	_, err := s.change(ctx, "dashboards.Delete", id, expectedVersion, ActionDelete, func(store.Scope, *Dashboard) error { return nil })
	return err
}

// Get returns the caller's dashboard with this id or slug, or KindNotFound.
func (s *Service) Get(ctx context.Context, idOrSlug string) (*Dashboard, error) {
	scope, err := s.scope(ctx)
	if err != nil {
		return nil, err
	}
	// A read: the in-process copy while Redis says its version is current
	// (commands read fresh under their lock). Callers must not modify it.
	return s.getForRender(ctx, scope, "dashboards.Get", idOrSlug)
}

// change runs one read-check-write command on a dashboard under its lock;
// the edit works on a copy whose version is then bumped.
func (s *Service) change(ctx context.Context, op, id string, expected uint64, action string,
	edit func(scope store.Scope, d *Dashboard) error) (*Dashboard, error) {
	scope, err := s.scope(ctx)
	if err != nil {
		return nil, err
	}
	unlock, err := s.locks.Lock(ctx, lockKey(scope, "id:"+id))
	if err != nil {
		return nil, err
	}
	defer unlock()
	before, err := s.get(ctx, scope, op, id)
	if err != nil {
		return nil, err
	}
	if before.ID != id {
		return nil, notFound(op, id) // commands take the id, not the slug
	}
	if before.Version != expected {
		return nil, errs.E(op, errs.KindConflict, fmt.Sprintf(
			"dashboard %q is at version %d, not the expected %d; reload it and retry", before.Slug, before.Version, expected)).
			With("currentVersion", before.Version)
	}
	after := clone(before)
	if err := edit(scope, after); err != nil {
		return nil, err
	}
	after.Version = before.Version + 1
	after.UpdatedAt, after.UpdatedBy = s.now(), audit.Actor(ctx)
	return after, s.write(ctx, scope, action, before, after, action == ActionDelete)
}

// scope is the caller's tenant scope, with the preset installed.
func (s *Service) scope(ctx context.Context) (store.Scope, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return store.Scope{}, err
	}
	return scope, s.ensurePreset(ctx, scope)
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// lockKey names the Redis lock of one dashboard entity of a tenant.
func lockKey(scope store.Scope, entity string) string {
	return "lock:dashboards:" + scope.Tenant() + ":" + entity
}

func notFound(op, idOrSlug string) error {
	return errs.E(op, errs.KindNotFound, fmt.Sprintf("dashboard %q not found", idOrSlug))
}
