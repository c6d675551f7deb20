package reports

import (
	"context"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// Audit actions.
const (
	ActionCreate = "report.create"
	ActionUpdate = "report.update"
	ActionDelete = "report.delete"
	ActionRunNow = "report.run_now"
)

// runNamespace derives run ids from (report, trigger, scheduled time).
var runNamespace = uuid.MustParse("5d0c9f3e-8a7b-4f2e-b1c6-2e9d7a4f6b10")

// chartKinds are the section kinds a metric query may ask for.
var chartKinds = []dashboards.WidgetKind{dashboards.KindKPI, dashboards.KindLine, dashboards.KindBar,
	dashboards.KindArea, dashboards.KindTable, dashboards.KindPie}

// Service is the report domain: definitions, runs now and on schedule,
// history, and (through Runner, Deliverer, Tick and Recoverer) the
// background work. Safe for concurrent use.
type Service struct {
	deps  Deps
	cfg   Config
	repo  repo
	hooks *Webhooks
}

// NewService returns a Service. DB, Blobs, Jobs and Dashboards are required.
func NewService(d Deps, cfg Config) (*Service, error) {
	if d.DB == nil || d.Blobs == nil || d.Jobs == nil || d.Dashboards == nil {
		return nil, errs.E("reports.NewService", errs.KindInternal, "reports need a DB, a blob store, a job client and dashboards")
	}
	cfg = cfg.withDefaults()
	hooks := &Webhooks{HTTP: d.HTTP, Resolver: d.Resolver, AllowPrivate: cfg.AllowPrivateWebhooks, Now: cfg.Now}
	return &Service{deps: d, cfg: cfg, repo: repo{db: d.DB, now: cfg.Now}, hooks: hooks}, nil
}

// Create validates in and stores a report of the caller's tenant, owned
// by the caller. Its schedule takes effect now: earlier slots never run.
func (s *Service) Create(ctx context.Context, in Input) (*Report, error) {
	const op = "reports.Create"
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.validate(ctx, op, &in); err != nil {
		return nil, err
	}
	page, err := s.repo.pageReports(ctx, scope, s.cfg.MaxReports, "")
	if err != nil {
		return nil, err
	}
	if len(page.Reports) >= s.cfg.MaxReports {
		return nil, errs.Invalid(op, "input", fmt.Sprintf("the tenant has the maximum of %d reports; delete one first", s.cfg.MaxReports))
	}
	p, _ := auth.PrincipalFrom(ctx)
	now := s.now()
	rep := &Report{ID: uuid.NewString(), Tenant: scope.Tenant(), Input: in, Owner: p.Subject, CreatedAt: now, ScheduledFrom: now}
	if err := s.repo.saveReport(ctx, rep, false); err != nil {
		return nil, err
	}
	if err := s.reschedule(ctx, rep, false); err != nil {
		return nil, err
	}
	return rep, s.repo.audit(ctx, ActionCreate, nil, rep)
}

// Update replaces a report's definition. expectedVersion must be the
// version the caller read (a stale one is CONFLICT). A webhook delivery
// given without a secret keeps the secret of the same URL. A changed
// schedule (or re-enabling) takes effect now: slots before it never run.
func (s *Service) Update(ctx context.Context, id string, expectedVersion uint64, in Input) (*Report, error) {
	const op = "reports.Update"
	before, err := s.current(ctx, op, id, expectedVersion)
	if err != nil {
		return nil, err
	}
	for i, d := range in.Deliveries {
		if d.Kind == DeliveryWebhook && d.Secret == "" {
			if j := slices.IndexFunc(before.Deliveries, func(o Delivery) bool { return o.Kind == DeliveryWebhook && o.URL == d.URL }); j >= 0 {
				in.Deliveries[i].Secret = before.Deliveries[j].Secret
			}
		}
	}
	if err := s.validate(ctx, op, &in); err != nil {
		return nil, err
	}
	after := *before
	after.Input = in
	if in.Schedule != before.Schedule || (in.Enabled && !before.Enabled) {
		after.ScheduledFrom = s.now()
	}
	if err := s.repo.saveReport(ctx, &after, false); err != nil {
		return nil, err
	}
	if err := s.reschedule(ctx, &after, false); err != nil {
		return nil, err
	}
	return &after, s.repo.audit(ctx, ActionUpdate, before, &after)
}

// Delete removes a report; its past runs and files stay.
func (s *Service) Delete(ctx context.Context, id string, expectedVersion uint64) error {
	const op = "reports.Delete"
	before, err := s.current(ctx, op, id, expectedVersion)
	if err != nil {
		return err
	}
	after := *before
	after.Enabled = false
	if err := s.repo.saveReport(ctx, &after, true); err != nil {
		return err
	}
	if err := s.reschedule(ctx, &after, true); err != nil {
		return err
	}
	return s.repo.audit(ctx, ActionDelete, before, &after)
}

// Get returns the caller's report, or KindNotFound (also for another
// tenant's).
func (s *Service) Get(ctx context.Context, id string) (*Report, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	return s.repo.getReport(ctx, scope, id)
}

// List returns the caller's reports newest first, first at a time (0
// means DefaultPageSize) after the cursor of a previous page.
func (s *Service) List(ctx context.Context, first int, after string) (*Page, error) {
	first, err := store.PageSize("reports.List", first, DefaultPageSize, MaxPageSize)
	if err != nil {
		return nil, err
	}
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	return s.repo.pageReports(ctx, scope, first, after)
}

// NextRun is when rep runs next on its schedule; nil when disabled.
func (s *Service) NextRun(rep *Report) *time.Time {
	if !rep.Enabled {
		return nil
	}
	clock, err := rep.Schedule.Parse("schedule")
	if err != nil {
		return nil
	}
	next := clock.Next(s.cfg.Now()).UTC()
	if next.IsZero() {
		return nil
	}
	return &next
}

// RunNow queues a MANUAL run of the caller's report (enabled or not) and
// returns it QUEUED. Its period is resolved at the request time.
func (s *Service) RunNow(ctx context.Context, id string) (*Run, error) {
	rep, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	run := s.newRun(rep, TriggerManual, s.now())
	if err := s.repo.saveRun(ctx, run); err != nil {
		return nil, err
	}
	if err := s.repo.audit(ctx, ActionRunNow, rep, rep); err != nil {
		return nil, err
	}
	if _, err := s.deps.Jobs.Enqueue(ctx, s.runTask(run)); err != nil {
		return nil, err
	}
	return run, nil
}

// Runs returns the runs of the caller's report, newest slot first, each
// with its deliveries.
func (s *Service) Runs(ctx context.Context, reportID string, first int, after string) (*RunPage, error) {
	first, err := store.PageSize("reports.Runs", first, DefaultPageSize, MaxPageSize)
	if err != nil {
		return nil, err
	}
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	rep, err := s.repo.getReport(ctx, scope, reportID)
	if err != nil {
		return nil, err
	}
	page, err := s.repo.pageRuns(ctx, scope, rep.ID, first, after)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(page.Runs))
	for i, r := range page.Runs {
		ids[i] = r.ID
	}
	ds, err := s.repo.deliveries(ctx, scope, rep.ID, ids...)
	if err != nil {
		return nil, err
	}
	for _, r := range page.Runs {
		r.Deliveries = ds[r.ID]
		if r.Deliveries == nil {
			r.Deliveries = []*DeliveryState{}
		}
	}
	return page, nil
}

// URL signs a download URL of a SUCCEEDED run of the caller's tenant,
// valid for Config.URLTTL; a run whose file expired (ExpiredAt) has none
// (KindConflict).
func (s *Service) URL(ctx context.Context, run *Run) (string, time.Time, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	if run.Tenant != scope.Tenant() {
		return "", time.Time{}, errs.E("reports.URL", errs.KindNotFound, fmt.Sprintf("report run %q not found", run.ID))
	}
	if run.Status != RunSucceeded {
		return "", time.Time{}, errs.E("reports.URL", errs.KindConflict, fmt.Sprintf("run %q is %s; only SUCCEEDED runs have a file", run.ID, run.Status))
	}
	if run.ExpiredAt != nil {
		return "", time.Time{}, errs.E("reports.URL", errs.KindConflict, fmt.Sprintf("the file of run %q was deleted on %s, after the retention period",
			run.ID, run.ExpiredAt.UTC().Format(time.DateOnly)))
	}
	exp := s.cfg.Now().Add(s.cfg.URLTTL)
	u, err := s.deps.Blobs.SignedURL(ctx, run.ObjectKey, exp)
	return u, exp, err
}

// ObjectKey is where the file of a tenant's report run lives.
func ObjectKey(tenant, reportID, runID string, f Format) string {
	return "tenants/" + tenant + "/reports/" + reportID + "/" + runID + f.Extension()
}

// RunID is the id of the run of report for (trigger, scheduled time): the
// unique run key, so a slot enqueued or run twice is one run.
func RunID(reportID string, trigger Trigger, at time.Time) string {
	return uuid.NewSHA1(runNamespace, []byte(reportID+"/"+string(trigger)+"/"+at.UTC().Format(time.RFC3339Nano))).String()
}

// newRun is a QUEUED run of rep for a slot.
func (s *Service) newRun(rep *Report, trigger Trigger, at time.Time) *Run {
	at = at.UTC().Truncate(time.Millisecond)
	id := RunID(rep.ID, trigger, at)
	return &Run{ID: id, Tenant: rep.Tenant, ReportID: rep.ID, Trigger: trigger, ScheduledFor: at, Status: RunQueued,
		Format: rep.Format, ObjectKey: ObjectKey(rep.Tenant, rep.ID, id, rep.Format), CreatedAt: s.now()}
}

// runTask is the Asynq task of a run; its TaskID derives from the run.
func (s *Service) runTask(run *Run) jobs.Task {
	return jobs.Task{Kind: KindRun, Tenant: run.Tenant, Queue: s.cfg.Queue, MaxRetry: s.cfg.RunMaxRetry, Timeout: s.cfg.RunTimeout,
		Params: runParams{ReportID: run.ReportID, RunID: run.ID, Trigger: run.Trigger, ScheduledFor: run.ScheduledFor.UTC()}}
}

// runParams is the payload of a KindRun task.
type runParams struct {
	ReportID     string    `json:"report_id"`
	RunID        string    `json:"run_id"`
	Trigger      Trigger   `json:"trigger"`
	ScheduledFor time.Time `json:"scheduled_for"`
}

// current reads a report for a command and checks the expected version.
func (s *Service) current(ctx context.Context, op, id string, expectedVersion uint64) (*Report, error) {
	rep, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if rep.Version != expectedVersion {
		return nil, errs.E(op, errs.KindConflict, fmt.Sprintf("report %q is at version %d, not %d; read it again and retry",
			id, rep.Version, expectedVersion)).With("currentVersion", rep.Version)
	}
	return rep, nil
}

// validate checks in and normalises it (trimmed name, zone name).
func (s *Service) validate(ctx context.Context, op string, in *Input) error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > MaxNameLen {
		return errs.Invalid(op, "name", fmt.Sprintf("name must have 1 to %d characters", MaxNameLen))
	}
	if in.Format.Extension() == "" {
		return errs.Invalid(op, "format", fmt.Sprintf("format %q is not supported; use PDF, XLSX or CSV_ZIP", in.Format))
	}
	if _, err := in.Schedule.Parse("schedule"); err != nil {
		return err
	}
	if err := s.validateSource(ctx, op, &in.Source, in.Schedule.Timezone); err != nil {
		return err
	}
	return s.validateDeliveries(ctx, op, in.Deliveries)
}

func (s *Service) validateSource(ctx context.Context, op string, src *Source, timezone string) error {
	if (src.Dashboard == "") == (len(src.Metrics) == 0) {
		return errs.Invalid(op, "source", "give exactly one source: a dashboard (id or slug) or a list of metric queries")
	}
	if src.TimeRange != (timerange.Spec{}) {
		if _, err := timerange.Resolve(src.TimeRange, s.cfg.Now(), "source.timeRange"); err != nil {
			return err
		}
	}
	if src.Dashboard != "" {
		d, err := s.deps.Dashboards.Get(ctx, src.Dashboard)
		if err != nil {
			return err
		}
		src.Dashboard = d.ID
		for i, f := range src.Filters {
			if f.Dimension == "" {
				return errs.Invalid(op, fmt.Sprintf("source.filters[%d].dimension", i), "a filter needs a dimension, e.g. properties.course_id")
			}
		}
		return nil
	}
	if len(src.Filters) > 0 {
		return errs.Invalid(op, "source.filters", "filters apply to a dashboard source; put them on the dashboard")
	}
	if s.deps.Metrics == nil {
		return errs.E(op, errs.KindInternal, "metric reports are not configured")
	}
	if len(src.Metrics) > MaxMetricQueries {
		return errs.Invalid(op, "source.metrics", fmt.Sprintf("at most %d metric queries", MaxMetricQueries))
	}
	for i := range src.Metrics {
		q := &src.Metrics[i]
		field := fmt.Sprintf("source.metrics[%d]", i)
		if q.Chart == "" {
			q.Chart = dashboards.KindKPI
		}
		switch {
		case q.MetricKey == "":
			return errs.Invalid(op, field+".metricKey", field+".metricKey is required, e.g. lesson_completions")
		case !slices.Contains(chartKinds, q.Chart):
			return errs.Invalid(op, field+".chart", fmt.Sprintf("%s.chart %q is not a chart; use one of %v", field, q.Chart, chartKinds))
		case q.Limit < 0:
			return errs.Invalid(op, field+".limit", field+".limit must not be negative")
		}
		if q.Title == "" {
			q.Title = q.MetricKey
		}
		if err := s.checkMetricQuery(ctx, op, field, *q, timezone); err != nil {
			return err
		}
	}
	return nil
}

// checkMetricQuery asks the metric layer q's question over the last
// second, as a run would ask it, so that a key the tenant does not have
// (or a dimension, grain or limit the metric does not allow) is refused
// when the report is defined, naming the field, instead of each run
// "succeeding" with an error line in its file.
func (s *Service) checkMetricQuery(ctx context.Context, op, field string, q MetricQuery, timezone string) error {
	loc, err := timerange.Location(timezone, "schedule.timezone")
	if err != nil {
		return err
	}
	to := s.cfg.Now().UTC()
	_, err = s.deps.Metrics.Query(ctx, q.request(loc, timerange.Range{From: to.Add(-time.Second), To: to}))
	switch {
	case err == nil:
		return nil
	case errs.Is(err, errs.KindNotFound):
		return errs.Invalid(op, field+".metricKey", fmt.Sprintf("%s.metricKey %q: %s; list the tenant's metrics with the metrics query",
			field, q.MetricKey, errs.PublicMessage(err)))
	case errs.Is(err, errs.KindInvalid):
		sub := field
		if f, ok := errs.PublicFields(err)["field"].(string); ok && f != "" && f != "timeRange" {
			sub += "." + f
		}
		return errs.Invalid(op, sub, field+": "+errs.PublicMessage(err))
	}
	return err
}

func (s *Service) validateDeliveries(ctx context.Context, op string, ds []Delivery) error {
	if len(ds) > MaxDeliveries {
		return errs.Invalid(op, "deliveries", fmt.Sprintf("at most %d deliveries", MaxDeliveries))
	}
	for i, d := range ds {
		field := fmt.Sprintf("deliveries[%d]", i)
		switch d.Kind {
		case DeliveryEmail:
			if s.deps.Mailer == nil {
				return errs.Invalid(op, field, "email delivery is not configured on this server (ANALYTICS_SMTP_ADDR); use a webhook")
			}
			if len(d.To) == 0 || len(d.To) > MaxRecipients {
				return errs.Invalid(op, field+".to", fmt.Sprintf("%s.to needs 1 to %d addresses", field, MaxRecipients))
			}
			for j, a := range d.To {
				if addr, err := mail.ParseAddress(a); err != nil || addr.Address != a {
					return errs.Invalid(op, fmt.Sprintf("%s.to[%d]", field, j), fmt.Sprintf("%q is not a plain email address such as ops@example.com", a))
				}
			}
		case DeliveryWebhook:
			u, err := url.Parse(d.URL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return errs.Invalid(op, field+".url", fmt.Sprintf("%s.url must be an absolute http(s) URL, e.g. https://hooks.example.com/reports", field))
			}
			if len(d.Secret) < MinSecretLen {
				return errs.Invalid(op, field+".secret", fmt.Sprintf("%s.secret must have at least %d characters (it keys the body's HMAC-SHA256 signature)", field, MinSecretLen))
			}
			if err := s.checkWebhookURL(ctx, d.URL); err != nil {
				if !errs.Is(err, errs.KindInvalid) {
					return err
				}
				return errs.Invalid(op, field+".url", fmt.Sprintf("%s.url: %s", field, errs.PublicMessage(err)))
			}
		default:
			return errs.Invalid(op, field+".kind", fmt.Sprintf("%s.kind %q is not known; use EMAIL or WEBHOOK", field, d.Kind))
		}
	}
	return nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }
