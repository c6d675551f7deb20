package reports_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/jobs/jobstest"
	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/metrics/metricstest"
	"github.com/learnhub/analytics-service/monitors"
	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/kv/kvtest"
	"github.com/learnhub/analytics-service/platform/kv/rediskv"
	"github.com/learnhub/analytics-service/reports"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
	"github.com/learnhub/analytics-service/timerange"
)

var blobSecret = []byte("reports-test-secret-0123456789ab")

// waitFor bounds every poll of these tests.
const waitFor = 20 * time.Second

// clock is an injected clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// mail is one message the in-process SMTP server accepted.
type mail struct {
	From string
	To   []string
	Data []byte
}

// smtpSink is an in-process go-smtp server that keeps what it receives.
type smtpSink struct {
	mu   sync.Mutex
	msgs []mail
}

func (s *smtpSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{sink: s}, nil }

func (s *smtpSink) received() []mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mail(nil), s.msgs...)
}

type smtpSession struct {
	sink *smtpSink
	cur  mail
}

func (s *smtpSession) Reset()        { s.cur = mail{} }
func (s *smtpSession) Logout() error { return nil }
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.cur.From = from
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = b
	s.sink.mu.Lock()
	s.sink.msgs = append(s.sink.msgs, s.cur)
	s.sink.mu.Unlock()
	return nil
}

// startSMTP serves an smtpSink on a free port and returns it and its address.
func startSMTP(t *testing.T) (*smtpSink, string) {
	t.Helper()
	sink := &smtpSink{}
	srv := smtp.NewServer(sink)
	srv.Domain = "localhost"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return sink, l.Addr().String()
}

// harness is a migrated embedded database with January data for tenant
// "acme" (and some for "beta"), the metric and dashboard services over it,
// a local blob store served over HTTP, embedded NATS, an SMTP sink and the
// report service.
type harness struct {
	svc   *reports.Service
	dash  *dashboards.Service
	q     *jobstest.Recorder
	clock *clock
	db    *store.DB
	blobs *blob.Local
	bus   *bus.Bus
	mail  *smtpSink
	rc    redis.UniversalClient
	reg   *metrics.Registry
	mon   *monitors.Service
}

// harnessOption adjusts the report service's dependencies before it is built.
type harnessOption func(d *reports.Deps, c *reports.Config)

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	ctx := context.Background()
	db := storetest.Embedded(t)
	_, err := store.Migrate(ctx, db, store.MigrateOptions{})
	require.NoError(t, err)
	metricstest.SeedJanuary(t, db, "acme", 3000, 1)
	metricstest.SeedJanuary(t, db, "beta", 500, 7)
	rc := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
	t.Cleanup(func() { _ = rc.Close() })
	h := &harness{q: &jobstest.Recorder{}, clock: &clock{t: time.Date(2026, 2, 1, 5, 0, 0, 0, time.UTC)}, db: db, rc: rc}
	reg := metrics.NewRegistry(db, metrics.Config{Now: h.clock.Now, Locks: rediskv.New(rc)})
	h.reg = reg
	querier := metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: h.clock.Now})
	h.mon = monitors.NewService(db, reg, querier, monitors.Config{Now: h.clock.Now})
	h.dash = dashboards.NewService(db, reg, func() *metrics.Loader { return metrics.NewLoader(querier, metrics.LoaderConfig{}) },
		dashboards.Config{Locks: rediskv.New(rc), Cache: rediskv.New(rc), Now: h.clock.Now,
			Journeys: journeys.NewService(db, journeys.Config{Now: h.clock.Now}), Monitors: h.mon})

	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	h.blobs, err = blob.NewLocal(blob.LocalConfig{Dir: t.TempDir(), BaseURL: srv.URL + "/blobs", Secret: blobSecret, Now: h.clock.Now})
	require.NoError(t, err)
	mux.Handle("/blobs/", http.StripPrefix("/blobs", blob.LocalHandler(h.blobs, blobSecret)))
	h.bus, err = bus.Open(ctx, bus.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.bus.Close() })
	var addr string
	h.mail, addr = startSMTP(t)

	deps := reports.Deps{DB: db, Blobs: h.blobs, Jobs: h.q, Bus: h.bus, Dashboards: h.dash, Metrics: querier,
		Mailer: &reports.SMTPMailer{Addr: addr, From: "reports@analytics.test"}}
	cfg := reports.Config{Now: h.clock.Now, AllowPrivateWebhooks: true}
	for _, o := range opts {
		o(&deps, &cfg)
	}
	h.svc, err = reports.NewService(deps, cfg)
	require.NoError(t, err)
	return h
}

// january is the whole month of seeded data.
func january() timerange.Spec {
	from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	return timerange.Spec{From: &from, To: &to}
}

// as is a context of a verified admin of tenant.
var as = metricstest.As

// dashboardReport is a report of the learner-progress preset over January.
func dashboardReport(f reports.Format, deliveries ...reports.Delivery) reports.Input {
	return reports.Input{Name: "Weekly learner progress", Format: f, Enabled: true, Deliveries: deliveries,
		Source:   reports.Source{Dashboard: dashboards.PresetSlug, TimeRange: january()},
		Schedule: reports.Schedule{Cron: "0 6 * * *", Timezone: "Europe/Berlin"}}
}

// runAll runs every recorded task of kind through handler as attempt
// retried of maxRetry and returns the errors.
func (h *harness) runAll(t *testing.T, kind string, handler jobs.Handler, retried, maxRetry int) []error {
	t.Helper()
	var out []error
	for _, task := range h.q.Take(kind) {
		out = append(out, h.process(t, handler, task, retried, maxRetry))
	}
	return out
}

func (h *harness) process(t *testing.T, handler jobs.Handler, task jobs.Task, retried, maxRetry int) error {
	t.Helper()
	id, params, err := jobs.TaskID(task)
	require.NoError(t, err)
	return handler.ProcessJob(context.Background(), jobs.Job{ID: id, Kind: task.Kind, Tenant: task.Tenant, Params: params,
		Retried: retried, MaxRetry: maxRetry})
}

// msgs counts the stored messages of subject.
func (h *harness) msgs(t *testing.T, subject string) uint64 {
	t.Helper()
	s, err := h.bus.JetStream().Stream(context.Background(), bus.DefaultStream)
	require.NoError(t, err)
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(subject))
	require.NoError(t, err)
	return info.State.Subjects[subject]
}

// lastGenerated is the last analytics.report.generated.v1 payload.
func (h *harness) lastGenerated(t *testing.T) reports.Generated {
	t.Helper()
	s, err := h.bus.JetStream().Stream(context.Background(), bus.DefaultStream)
	require.NoError(t, err)
	raw, err := s.GetLastMsgForSubject(context.Background(), reports.SubjectGenerated)
	require.NoError(t, err)
	var ev reports.Generated
	require.NoError(t, json.Unmarshal(raw.Data, &ev))
	return ev
}

// object reads a stored object.
func (h *harness) object(t *testing.T, key string) []byte {
	t.Helper()
	r, err := h.blobs.Open(context.Background(), key)
	require.NoError(t, err)
	defer r.Close()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return b
}

// manualRun creates the dashboard report in format f and asks for a run
// now; it returns the report and the run's queued task.
func (h *harness) manualRun(t *testing.T, ctx context.Context, f reports.Format) (*reports.Report, jobs.Task) {
	t.Helper()
	rep, err := h.svc.Create(ctx, dashboardReport(f))
	require.NoError(t, err)
	_, err = h.svc.RunNow(ctx, rep.ID)
	require.NoError(t, err)
	tasks := h.q.Take(reports.KindRun)
	require.Len(t, tasks, 1)
	return rep, tasks[0]
}

// runNow creates a report from in, runs it at once and returns the run,
// which must have succeeded.
func (h *harness) runNow(t *testing.T, ctx context.Context, in reports.Input) *reports.Run {
	t.Helper()
	rep, err := h.svc.Create(ctx, in)
	require.NoError(t, err)
	return h.runReport(t, ctx, rep)
}

// runReport runs a stored report now and returns its succeeded run.
func (h *harness) runReport(t *testing.T, ctx context.Context, rep *reports.Report) *reports.Run {
	t.Helper()
	_, err := h.svc.RunNow(ctx, rep.ID)
	require.NoError(t, err)
	require.Equal(t, []error{nil}, h.runAll(t, reports.KindRun, h.svc.Runner(), 0, 3))
	run := h.onlyRun(t, ctx, rep.ID)
	require.Equal(t, reports.RunSucceeded, run.Status, run.Error)
	return run
}

// onlyRun is the single run of a report.
func (h *harness) onlyRun(t *testing.T, ctx context.Context, reportID string) *reports.Run {
	t.Helper()
	page, err := h.svc.Runs(ctx, reportID, 10, "")
	require.NoError(t, err)
	require.Len(t, page.Runs, 1)
	return page.Runs[0]
}

// reportsTickJob is the job the scheduler's tick entry delivers.
func reportsTickJob() jobs.Job { return jobs.Job{Kind: reports.KindTick} }

// formatExcel is how excelize reads back a float cell.
func formatExcel(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
