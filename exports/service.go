package exports

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/kv"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// Limits of List.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Audit actions.
const (
	ActionRequest = "export.request"
	ActionCancel  = "export.cancel"
)

// EventColumns are the columns of a raw events export, in default order.
var EventColumns = []string{"event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"}

var fileNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// Service is the export domain: requests, reads, cancellation, URLs, and
// (through Runner, Recoverer and Janitor) the background work. Safe for
// concurrent use.
type Service struct {
	deps Deps
	cfg  Config
	repo repo
	// admitMu serialises the cap check and the insert of a new job within
	// this process; locks does it across replicas (see admit.go).
	admitMu sync.Mutex
	locks   kv.Locks
}

// NewService returns a Service. DB, Blobs and Jobs are required.
func NewService(d Deps, cfg Config) (*Service, error) {
	if d.DB == nil || d.Blobs == nil || d.Jobs == nil {
		return nil, errs.E("exports.NewService", errs.KindInternal, "exports need a DB, a blob store and a job client")
	}
	cfg = cfg.withDefaults()
	return &Service{deps: d, cfg: cfg, repo: repo{db: d.DB, now: cfg.Now}, locks: kv.NewLocks(d.Locks, admitLockTTL)}, nil
}

// Request validates spec, stores a QUEUED job for the caller's tenant and
// enqueues its run. More than MaxConcurrentPerTenant active exports is
// RATE_LIMITED; the cap holds across replicas when Deps.Locks is set.
func (s *Service) Request(ctx context.Context, spec Spec) (*Job, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	src, err := s.validate(ctx, &spec)
	if err != nil {
		return nil, err
	}
	p, _ := auth.PrincipalFrom(ctx)
	now := s.cfg.Now().UTC().Truncate(time.Millisecond)
	id := uuid.NewString()
	j := &Job{
		ID: id, Tenant: scope.Tenant(), Status: StatusQueued, Format: spec.Format, Source: src, Spec: spec,
		RequestedBy: p.Subject, CreatedAt: now,
	}
	j.ObjectKey = ObjectKey(scope.Tenant(), id, j.FileName())
	if err := s.admit(ctx, scope, j); err != nil {
		return nil, err
	}
	if err := s.repo.audit(ctx, ActionRequest, nil, j); err != nil {
		return nil, err
	}
	if err := s.enqueue(ctx, j); err != nil {
		return nil, err
	}
	return j, nil
}

// Get returns the caller's job, or KindNotFound (also for another tenant's).
func (s *Service) Get(ctx context.Context, id string) (*Job, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	return s.repo.get(ctx, scope, id)
}

// List returns the caller's jobs newest first, first at a time (0 means
// DefaultPageSize) after the cursor of a previous page.
func (s *Service) List(ctx context.Context, first int, after string) (*Page, error) {
	first, err := store.PageSize("exports.List", first, DefaultPageSize, MaxPageSize)
	if err != nil {
		return nil, err
	}
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	return s.repo.page(ctx, scope, first, after)
}

// Cancel stops a QUEUED or RUNNING job: it becomes CANCELLED at once, a
// running worker notices at its next progress update and writes no object.
// A job in a final state is CONFLICT.
func (s *Service) Cancel(ctx context.Context, id string) (*Job, error) {
	before, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !before.Status.Active() {
		return nil, errs.E("exports.Cancel", errs.KindConflict, fmt.Sprintf(
			"export %q is %s; only QUEUED or RUNNING exports can be cancelled", id, before.Status)).With("status", string(before.Status))
	}
	after := *before
	now := s.cfg.Now().UTC().Truncate(time.Millisecond)
	after.Status, after.FinishedAt = StatusCancelled, &now
	if err := s.repo.save(ctx, &after); err != nil {
		return nil, err
	}
	if err := s.repo.audit(ctx, ActionCancel, before, &after); err != nil {
		return nil, err
	}
	return &after, nil
}

// URL signs a download URL for a SUCCEEDED job of the caller's tenant,
// valid for URLTTL but never past the object's expiry. It returns the URL
// and when it expires.
func (s *Service) URL(ctx context.Context, j *Job) (string, time.Time, error) {
	const op = "exports.URL"
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	if j.Tenant != scope.Tenant() {
		return "", time.Time{}, errs.E(op, errs.KindNotFound, fmt.Sprintf("export %q not found", j.ID))
	}
	if j.Status != StatusSucceeded {
		return "", time.Time{}, errs.E(op, errs.KindConflict, fmt.Sprintf(
			"export %q is %s; a download URL exists only for SUCCEEDED exports", j.ID, j.Status))
	}
	exp := s.cfg.Now().Add(s.cfg.URLTTL)
	if j.ExpiresAt != nil && j.ExpiresAt.Before(exp) {
		exp = *j.ExpiresAt
	}
	u, err := s.deps.Blobs.SignedURL(ctx, j.ObjectKey, exp)
	return u, exp, err
}

// enqueue adds the run task of j; its TaskID derives from the job id.
func (s *Service) enqueue(ctx context.Context, j *Job) error {
	_, err := s.deps.Jobs.Enqueue(ctx, s.runTask(j))
	return err
}

// runTask is the Asynq task that runs j.
func (s *Service) runTask(j *Job) jobs.Task {
	return jobs.Task{
		Kind: KindRun, Tenant: j.Tenant, Params: runParams{JobID: j.ID},
		Queue: s.cfg.Queue, MaxRetry: s.cfg.MaxRetry, Timeout: s.cfg.Timeout,
	}
}

// runParams is the payload of a KindRun task.
type runParams struct {
	JobID string `json:"job_id"`
}

// validate checks spec, resolves relative parts (the events window) and
// returns the source kind.
func (s *Service) validate(ctx context.Context, spec *Spec) (SourceKind, error) {
	const op = "exports.Request"
	n := 0
	var src SourceKind
	if spec.Metric != nil {
		n, src = n+1, SourceMetric
	}
	if spec.Events != nil {
		n, src = n+1, SourceEvents
	}
	if spec.SQL != nil {
		n, src = n+1, SourceSQL
	}
	if spec.Journey != nil {
		n, src = n+1, SourceKind(spec.Journey.Kind())
		if src == "" {
			return "", errs.Invalid(op, "source", "give exactly one source: metric, events, sql, funnel, retention or paths")
		}
	}
	if n != 1 {
		return "", errs.Invalid(op, "source", "give exactly one source: metric, events, sql, funnel, retention or paths")
	}
	if Extension(spec.Format, false) == "" {
		return "", errs.Invalid(op, "format", fmt.Sprintf("format %q is not supported; use CSV, XLSX, JSON, NDJSON or PARQUET", spec.Format))
	}
	if spec.Options.Gzip && !spec.Format.Text() {
		return "", errs.Invalid(op, "options.gzip", fmt.Sprintf("gzip applies to CSV, JSON and NDJSON; %s is compressed already", spec.Format))
	}
	if _, err := timerange.Location(spec.Options.Timezone, "options.timezone"); err != nil {
		return "", err
	}
	if f := spec.Options.FileName; f != "" && !fileNameRE.MatchString(f) {
		return "", errs.Invalid(op, "options.fileName", "fileName must be 1-100 letters, digits, '.', '-' or '_', starting with a letter or digit")
	}
	switch src {
	case SourceMetric:
		if s.deps.Metrics == nil {
			return "", errs.E(op, errs.KindInternal, "metric exports are not configured")
		}
		if spec.Metric.MetricID == "" && spec.Metric.MetricKey == "" {
			return "", errs.Invalid(op, "metric.metricKey", "name the metric by id or key")
		}
		if err := s.checkMetricRange(spec.Metric); err != nil {
			return "", err
		}
		if _, err := metrics.CheckRequestCohorts(ctx, s.deps.Cohorts, op, *spec.Metric, "metricCohorts", "metricCohortBreakdown"); err != nil {
			return "", err
		}
	case SourceEvents:
		return src, s.validateEvents(spec.Events)
	case SourceSQL:
		if s.deps.SQL == nil {
			return "", errs.E(op, errs.KindInternal, "SQL exports are not configured")
		}
		if _, err := s.deps.SQL.Prepare(ctx, spec.SQL.Query, s.cfg.MaxRows); err != nil {
			return "", err
		}
	case SourceFunnel, SourceRetention, SourcePaths:
		return src, s.validateJourney(ctx, spec.Journey)
	}
	return src, nil
}

// checkMetricRange applies Config.CheckRange to a metric source's range
// and comparison range, as metricQuery does.
func (s *Service) checkMetricRange(m *metrics.Request) error {
	_, rng, cmp, err := metrics.Ranges(*m, s.cfg.Now(), "metric.")
	if err != nil {
		return err
	}
	return metrics.CheckRanges(s.cfg.CheckRange, rng, cmp, "metric.")
}

func (s *Service) validateEvents(ev *EventsSource) error {
	const op = "exports.Request"
	r, err := timerange.Resolve(ev.TimeRange, s.cfg.Now(), "events.timeRange")
	if err != nil {
		return err
	}
	if err := metrics.CheckRanges(s.cfg.CheckRange, r, nil, "events."); err != nil {
		return err
	}
	ev.From, ev.To = r.From, r.To
	for _, c := range ev.Columns {
		if !slices.Contains(EventColumns, c) {
			return errs.Invalid(op, "events.columns", fmt.Sprintf("column %q is not an event column; use one of %v", c, EventColumns))
		}
	}
	for _, t := range ev.Types {
		if t == "" {
			return errs.Invalid(op, "events.types", "event types must not be empty strings")
		}
	}
	return nil
}
