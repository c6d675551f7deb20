package alerts_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/alerts"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/jobs/jobstest"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/metrics/metricstest"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/reports"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
	"github.com/learnhub/analytics-service/store/storetest"
)

// waitFor bounds every poll of these tests.
const waitFor = 20 * time.Second

// as is a context of a verified admin of tenant.
var as = metricstest.As

// clock is an injected clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// scoreTable stands in for the monitors package: per-bucket anomaly scores
// by (tenant, monitor), filled by the test, read with the same contract.
// A monitor listed in broken fails.
type scoreTable struct {
	mu      sync.Mutex
	rows    map[string][]alerts.AnomalyPoint
	broken  map[string]bool
	pending map[string]bool // monitors not evaluated yet (alerts.AnomalyReadiness)
}

func newScoreTable() *scoreTable {
	return &scoreTable{rows: map[string][]alerts.AnomalyPoint{}, broken: map[string]bool{}, pending: map[string]bool{}}
}

// SetPending marks monitor as not evaluated yet (true) or evaluated.
func (s *scoreTable) SetPending(monitor string, pending bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[monitor] = pending
}

func (s *scoreTable) Evaluated(_ context.Context, _, monitor string, _ time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.pending[monitor], nil
}

func (s *scoreTable) Add(tenant, monitor string, p alerts.AnomalyPoint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows[tenant+"/"+monitor] = append(s.rows[tenant+"/"+monitor], p)
}

func (s *scoreTable) Break(monitor string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broken[monitor] = true
}

func (s *scoreTable) Scores(_ context.Context, tenant, monitor string, from, to time.Time) ([]alerts.AnomalyPoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken[monitor] {
		return nil, io.ErrUnexpectedEOF
	}
	var out []alerts.AnomalyPoint
	for _, p := range s.rows[tenant+"/"+monitor] {
		if !p.Bucket.Before(from) && p.Bucket.Before(to) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Bucket.Before(out[j].Bucket) })
	return out, nil
}

// mail is one message the in-process SMTP server accepted.
type mail struct {
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

func (s *smtpSession) Reset()                               { s.cur = mail{} }
func (s *smtpSession) Logout() error                        { return nil }
func (s *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
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

// hook is an httptest webhook receiver that keeps every request.
type hook struct {
	mu   sync.Mutex
	reqs []hookReq
	srv  *httptest.Server
}

type hookReq struct {
	Header http.Header
	Body   []byte
}

func (h *hook) received() []hookReq {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookReq(nil), h.reqs...)
}

// harness is a migrated embedded database with January data for "acme" and
// "beta", the metric querier over it, embedded NATS, an SMTP sink, a
// webhook receiver, the score table and the alert service.
type harness struct {
	svc    *alerts.Service
	db     *store.DB
	clock  *clock
	q      *jobstest.Recorder
	jobs   *flakyJobs
	bus    *bus.Bus
	scores *scoreTable
	mail   *smtpSink
	hook   *hook
	// smtpAddr is the SMTP sink's address.
	smtpAddr string
}

func newHarness(t testing.TB, opts ...func(*store.Options)) *harness {
	t.Helper()
	ctx := context.Background()
	dbOpts := store.Options{Mode: "embedded"}
	for _, o := range opts {
		o(&dbOpts)
	}
	db := store.New(storetest.EmbeddedBackend(t, chembedded.Options{}), dbOpts)
	_, err := store.Migrate(ctx, db, store.MigrateOptions{})
	require.NoError(t, err)
	metricstest.SeedJanuary(t, db, "acme", 3000, 1)
	metricstest.SeedJanuary(t, db, "beta", 500, 7)
	h := &harness{db: db, clock: &clock{t: time.Date(2026, 1, 10, 0, 5, 0, 0, time.UTC)}, q: &jobstest.Recorder{}, scores: newScoreTable()}
	reg := metrics.NewRegistry(db, metrics.Config{Now: h.clock.Now})
	querier := metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: h.clock.Now})
	h.bus, err = bus.Open(ctx, bus.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.bus.Close() })

	h.startSinks(t)

	h.jobs = &flakyJobs{Recorder: h.q}
	h.svc, err = alerts.NewService(alerts.Deps{DB: db, Jobs: h.jobs, Bus: h.bus, Metrics: querier, Anomalies: h.scores,
		Mailer:   &reports.SMTPMailer{Addr: h.smtpAddr, From: "alerts@analytics.test"},
		Webhooks: &reports.Webhooks{AllowPrivate: true, Now: h.clock.Now}},
		alerts.Config{Now: h.clock.Now})
	require.NoError(t, err)
	return h
}

// startSinks starts the in-process SMTP server and the webhook receiver,
// both stopped when the test ends.
func (h *harness) startSinks(t testing.TB) {
	t.Helper()
	h.mail = &smtpSink{}
	smtpSrv := smtp.NewServer(h.mail)
	smtpSrv.Domain = "localhost"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = smtpSrv.Serve(l) }()
	h.smtpAddr = l.Addr().String()
	t.Cleanup(func() { _ = smtpSrv.Close() })

	h.hook = &hook{}
	h.hook.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.hook.mu.Lock()
		h.hook.reqs = append(h.hook.reqs, hookReq{Header: r.Header.Clone(), Body: b})
		h.hook.mu.Unlock()
	}))
	t.Cleanup(h.hook.srv.Close)
}

// flakyJobs is the recorder with injected failures: the next fail
// enqueues fail as an unreachable Redis would.
type flakyJobs struct {
	*jobstest.Recorder
	mu   sync.Mutex
	fail int
}

func (f *flakyJobs) Enqueue(ctx context.Context, t jobs.Task) (jobs.Receipt, error) {
	f.mu.Lock()
	if f.fail > 0 {
		f.fail--
		f.mu.Unlock()
		return jobs.Receipt{}, errs.E("test.Enqueue", errs.KindUnavailable, "redis is down")
	}
	f.mu.Unlock()
	return f.Recorder.Enqueue(ctx, t)
}

// msgs counts the stored messages of subject on the outgoing stream.
func (h *harness) msgs(t *testing.T, subject string) uint64 {
	t.Helper()
	s, err := h.bus.JetStream().Stream(context.Background(), bus.DefaultStream)
	require.NoError(t, err)
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(subject))
	require.NoError(t, err)
	return info.State.Subjects[subject]
}

// runNotifications runs every recorded notify task through the handler as
// attempt retried and returns the errors.
func (h *harness) runNotifications(t *testing.T, tasks []jobs.Task, retried int) []error {
	t.Helper()
	var out []error
	for _, task := range tasks {
		id, params, err := jobs.TaskID(task)
		require.NoError(t, err)
		out = append(out, h.svc.Notifier().ProcessJob(context.Background(), jobs.Job{ID: id, Kind: task.Kind, Tenant: task.Tenant,
			Params: params, Retried: retried, MaxRetry: 6}))
	}
	return out
}

// day is midnight UTC of a January 2026 day.
func day(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }

// thresholdRule is a daily rule on lesson completions above threshold.
func thresholdRule(threshold float64, dims ...string) alerts.Input {
	return alerts.Input{Name: "Lesson completions high", Kind: alerts.KindThreshold, MetricKey: "lesson_completions",
		Dimensions: dims, Grain: "DAY", Comparator: alerts.Above, Threshold: threshold, Enabled: true}
}
