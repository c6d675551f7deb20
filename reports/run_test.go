package reports_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/reports"
	"github.com/learnhub/analytics-service/timerange"
)

// webhookSink records signed POSTs; status answers each one.
type webhookSink struct {
	mu     sync.Mutex
	bodies [][]byte
	sigs   []string
	ids    []string
	status atomic.Int32
}

func startWebhook(t *testing.T) (*webhookSink, string) {
	t.Helper()
	w := &webhookSink{}
	w.status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.mu.Lock()
		w.bodies = append(w.bodies, b)
		w.sigs = append(w.sigs, r.Header.Get(reports.HeaderSignature))
		w.ids = append(w.ids, r.Header.Get(reports.HeaderDelivery))
		w.mu.Unlock()
		rw.WriteHeader(int(w.status.Load()))
	}))
	t.Cleanup(srv.Close)
	return w, srv.URL + "/hooks/reports"
}

const hookSecret = "whsec-0123456789abcdef"

// samplePDF, when set, receives the PDF of TestScheduledPDFRun; docs/report-sample.png is
// its first page: pdftoppm -png -r 80 -f 1 -l 1 <pdf> docs/report-sample.
var samplePDF = flag.String("sample-pdf", "", "write the PDF of TestScheduledPDFRun to this path")

// TestScheduledPDFRun runs a scheduled slot end to end: the tick enqueues
// it, the run renders the PDF into the blob store and publishes the event,
// the email arrives with the file attached and the webhook body verifies.
func TestScheduledPDFRun(t *testing.T) {
	h := newHarness(t)
	hook, hookURL := startWebhook(t)
	ctx := as("acme")
	in := dashboardReport(reports.FormatPDF,
		reports.Delivery{Kind: reports.DeliveryEmail, To: []string{"lead@acme.test"}},
		reports.Delivery{Kind: reports.DeliveryWebhook, URL: hookURL, Secret: hookSecret})
	courses := []metrics.Filter{{Dimension: "properties.course_id", Op: metrics.OpIn, Values: []string{"c0", "c1", "c2"}}}
	in.Source.Filters = courses
	rep, err := h.svc.Create(ctx, in)
	require.NoError(t, err)

	// 06:00 Berlin on 1 Feb is 05:00Z; the report was created at 05:00Z
	// itself, so the first slot is 2 Feb 05:00Z
	next := h.svc.NextRun(rep)
	require.NotNil(t, next)
	assert.Equal(t, time.Date(2026, 2, 2, 5, 0, 0, 0, time.UTC), *next)
	h.clock.Set(next.Add(30 * time.Second))
	require.NoError(t, h.svc.Tick(nil).ProcessJob(context.Background(), reportsTickJob()))
	runs := h.q.Take(reports.KindRun)
	require.Len(t, runs, 1)
	require.NoError(t, h.process(t, h.svc.Runner(), runs[0], 0, 3))

	run := h.onlyRun(t, ctx, rep.ID)
	require.Equal(t, reports.RunSucceeded, run.Status, "error: %s", run.Error)
	assert.Equal(t, reports.TriggerScheduled, run.Trigger)
	assert.Equal(t, *next, run.ScheduledFor)
	assert.Equal(t, reports.RunID(rep.ID, reports.TriggerScheduled, *next), run.ID)
	assert.Equal(t, "tenants/acme/reports/"+rep.ID+"/"+run.ID+".pdf", run.ObjectKey)
	require.NotNil(t, run.StartedAt)
	require.NotNil(t, run.FinishedAt)
	pdf := h.object(t, run.ObjectKey)
	assert.Equal(t, "%PDF", string(pdf[:4]))
	if *samplePDF != "" {
		require.NoError(t, os.WriteFile(*samplePDF, pdf, 0o644))
	}
	assert.Equal(t, uint64(len(pdf)), run.Bytes)
	assert.Equal(t, uint64(1), h.msgs(t, reports.SubjectGenerated))
	ev := h.lastGenerated(t)
	assert.Equal(t, run.ID, ev.RunID)
	assert.Equal(t, "acme", ev.Tenant)
	assert.Equal(t, reports.FormatPDF, ev.Format)
	assert.Equal(t, uint64(len(pdf)), ev.Bytes)
	got, err := http.Get(ev.URL)
	require.NoError(t, err)
	body, _ := io.ReadAll(got.Body)
	_ = got.Body.Close()
	assert.Equal(t, http.StatusOK, got.StatusCode)
	assert.Equal(t, pdf, body, "the signed URL serves the file")

	t.Run("the PDF shows the dashboard's KPI numbers", func(t *testing.T) {
		text := pdfText(t, pdf)
		r, err := h.dash.Render(ctx, dashboards.PresetSlug, courses, ptr(january()))
		require.NoError(t, err)
		unfiltered, err := h.dash.Render(ctx, dashboards.PresetSlug, nil, ptr(january()))
		require.NoError(t, err)
		kpis := 0
		for i, w := range r.Dashboard.Widgets {
			if w.Kind != dashboards.KindKPI {
				continue
			}
			v := r.Widgets[i].Results[0].Totals.Value
			require.NotNil(t, v, w.Title)
			assert.Contains(t, text, reports.MetricFormat(r.Widgets[i].Results[0].Metric).Format(v), "KPI %q", w.Title)
			if u := unfiltered.Widgets[i].Results[0].Totals.Value; w.Title == "Active learners" {
				assert.NotEqual(t, *u, *v, "the filter narrows the numbers")
			}
			assert.Contains(t, text, strings.ToUpper(w.Title))
			kpis++
		}
		assert.Equal(t, 2, kpis)
		for i, w := range r.Dashboard.Widgets {
			if w.Title != "Completion rate by course" {
				continue
			}
			res := r.Widgets[i].Results[0]
			require.Equal(t, "0.0%", res.Metric.Format, "a ratio metric")
			require.NotEmpty(t, res.Series)
			for _, se := range res.Series {
				want := reports.MetricFormat(res.Metric).Format(se.Total.Value)
				assert.Regexp(t, `^\d{1,3}\.\d%$`, want, "a rate shows as a percentage")
				assert.Regexp(t, regexp.QuoteMeta(se.Values[0])+`\s+`+regexp.QuoteMeta(want), text, "course %s", se.Values[0])
			}
		}
		for _, want := range []string{"Weekly learner progress", "Learner progress", "1 Jan 2026 – 31 Jan 2026 (UTC)", "Course in c0, c1, c2",
			"Completion rate by course", "Top courses", "Page 1 of"} {
			assert.Contains(t, text, want)
		}
	})

	deliveries := h.q.Take(reports.KindDeliver)
	require.Len(t, deliveries, 2)
	for _, d := range deliveries {
		require.NoError(t, h.process(t, h.svc.Deliverer(), d, 0, 6))
	}
	run = h.onlyRun(t, ctx, rep.ID)
	require.Len(t, run.Deliveries, 2)
	for _, d := range run.Deliveries {
		assert.Equal(t, reports.DeliverySucceeded, d.Status, "%s: %s", d.Kind, d.LastError)
		assert.Equal(t, 1, d.Attempts)
		assert.NotNil(t, d.DeliveredAt)
	}

	t.Run("the email carries the PDF", func(t *testing.T) {
		msgs := h.mail.received()
		require.Len(t, msgs, 1)
		assert.Equal(t, "reports@analytics.test", msgs[0].From)
		assert.Equal(t, []string{"lead@acme.test"}, msgs[0].To)
		name, att := attachment(t, msgs[0].Data)
		assert.Equal(t, run.FileName(), name)
		assert.Equal(t, pdf, att)
	})
	t.Run("the webhook signature verifies", func(t *testing.T) {
		hook.mu.Lock()
		defer hook.mu.Unlock()
		require.Len(t, hook.bodies, 1)
		assert.NoError(t, reports.VerifySignature(hookSecret, hook.sigs[0], hook.bodies[0], h.clock.Now(), 5*time.Minute))
		assert.Error(t, reports.VerifySignature("another-secret-0123456", hook.sigs[0], hook.bodies[0], h.clock.Now(), 5*time.Minute))
		tampered := bytes.Replace(hook.bodies[0], []byte("acme"), []byte("acmf"), 1)
		assert.Error(t, reports.VerifySignature(hookSecret, hook.sigs[0], tampered, h.clock.Now(), 5*time.Minute))
		assert.Equal(t, run.ID+"/1", hook.ids[0])
		assert.Contains(t, string(hook.bodies[0]), `"run_id":"`+run.ID+`"`)
	})
	t.Run("the next tick in the same slot enqueues nothing", func(t *testing.T) {
		h.clock.Set(next.Add(5 * time.Minute))
		require.NoError(t, h.svc.Tick(nil).ProcessJob(context.Background(), reportsTickJob()))
		assert.Empty(t, h.q.Take(reports.KindRun))
	})
}

// TestXLSXAndCSV checks the XLSX cells and the CSV files against the
// dashboard render.
func TestXLSXAndCSV(t *testing.T) {
	h := newHarness(t)
	ctx := as("acme")
	r, err := h.dash.Render(ctx, dashboards.PresetSlug, nil, ptr(january()))
	require.NoError(t, err)

	xrep, err := h.svc.Create(ctx, dashboardReport(reports.FormatXLSX))
	require.NoError(t, err)
	run, err := h.svc.RunNow(ctx, xrep.ID)
	require.NoError(t, err)
	assert.Equal(t, reports.RunQueued, run.Status)
	require.Equal(t, []error{nil}, h.runAll(t, reports.KindRun, h.svc.Runner(), 0, 3))
	run = h.onlyRun(t, ctx, xrep.ID)
	require.Equal(t, reports.RunSucceeded, run.Status, run.Error)
	assert.Equal(t, reports.TriggerManual, run.Trigger)

	f, err := excelize.OpenReader(bytes.NewReader(h.object(t, run.ObjectKey)))
	require.NoError(t, err)
	defer f.Close()
	var titles []string
	for _, w := range r.Dashboard.Widgets {
		titles = append(titles, w.Title)
	}
	assert.Equal(t, titles, f.GetSheetList(), "one sheet per widget, in order")
	for i, w := range r.Dashboard.Widgets {
		res := r.Widgets[i].Results[0]
		switch w.Kind {
		case dashboards.KindKPI:
			raw, err := f.GetCellValue(w.Title, "B2", excelize.Options{RawCellValue: true})
			require.NoError(t, err)
			assert.Equal(t, formatExcel(*res.Totals.Value), raw, w.Title)
			shown, err := f.GetCellValue(w.Title, "B2")
			require.NoError(t, err)
			assert.Equal(t, reports.MetricFormat(res.Metric).Format(res.Totals.Value), shown, "%s in its display format %q", w.Title, res.Metric.Format)
			typ, err := f.GetCellType(w.Title, "B2")
			require.NoError(t, err)
			assert.NotEqual(t, excelize.CellTypeSharedString, typ, "a number, not text")
		case dashboards.KindTable, dashboards.KindBar:
			rows, err := f.GetRows(w.Title, excelize.Options{RawCellValue: true})
			require.NoError(t, err)
			shown, err := f.GetRows(w.Title)
			require.NoError(t, err)
			require.Len(t, rows, len(res.Series)+1)
			assert.Equal(t, []string{"properties.course_id", res.Metric.Name}, rows[0])
			for j, se := range res.Series {
				assert.Equal(t, []string{se.Values[0], formatExcel(*se.Total.Value)}, rows[j+1])
				assert.Equal(t, []string{se.Values[0], reports.MetricFormat(res.Metric).Format(se.Total.Value)}, shown[j+1])
			}
			if w.Kind == dashboards.KindBar {
				assert.Contains(t, shown[1][1], "%", "the completion rate is a percentage")
			}
		case dashboards.KindLine:
			rows, err := f.GetRows(w.Title)
			require.NoError(t, err)
			assert.Equal(t, len(res.Series[0].Points)+1, len(rows), w.Title)
		}
	}

	crun := h.runNow(t, ctx, dashboardReport(reports.FormatCSVZip))
	zr, err := zip.NewReader(bytes.NewReader(h.object(t, crun.ObjectKey)), int64(crun.Bytes))
	require.NoError(t, err)
	var names []string
	for _, zf := range zr.File {
		names = append(names, zf.Name)
	}
	assert.Equal(t, []string{"01-active-learners.csv", "02-average-quiz-score.csv", "03-completions-trend.csv",
		"04-completion-rate-by-course.csv", "05-top-courses.csv", "06-learning-minutes.csv", "07-enrolments-vs-completions.csv"}, names)
	rc, err := zr.File[0].Open()
	require.NoError(t, err)
	csvText, _ := io.ReadAll(rc)
	_ = rc.Close()
	assert.Contains(t, string(csvText), "Metric,Value\n")
}

// TestMetricsSource renders a report of metric queries: a KPI, a daily
// line and a bar per course, in the schedule's zone.
func TestMetricsSource(t *testing.T) {
	h := newHarness(t)
	ctx := as("acme")
	in := reports.Input{Name: "Metrics", Format: reports.FormatXLSX, Enabled: true,
		Schedule: reports.Schedule{Preset: reports.PresetMonthly, Timezone: "UTC"},
		Source: reports.Source{TimeRange: january(), Metrics: []reports.MetricQuery{
			{Title: "Enrolments", MetricKey: "enrolments"},
			{Title: "Completions per day", MetricKey: "course_completions", Chart: dashboards.KindLine, Grain: timerange.GrainDay},
			{Title: "Enrolments by course", MetricKey: "enrolments", Chart: dashboards.KindBar, Dimensions: []string{"properties.course_id"}},
			{Title: "Broken", MetricKey: "quiz_passes"},
		}}}
	rep, err := h.svc.Create(ctx, in)
	require.NoError(t, err)
	// The last metric is retired after the report was defined: its section
	// fails, the run does not.
	def, err := h.reg.GetByKey(ctx, "quiz_passes")
	require.NoError(t, err)
	sunset := h.clock.Now().Add(time.Minute)
	_, err = h.reg.Deprecate(ctx, def.ID, def.Version, metrics.DeprecateInput{Sunset: &sunset})
	require.NoError(t, err)
	h.clock.Set(sunset.Add(time.Minute))
	run := h.runReport(t, ctx, rep)

	f, err := excelize.OpenReader(bytes.NewReader(h.object(t, run.ObjectKey)))
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, []string{"Enrolments", "Completions per day", "Enrolments by course", "Broken"}, f.GetSheetList())
	v, err := f.GetCellValue("Enrolments", "B2")
	require.NoError(t, err)
	assert.Equal(t, "500", v, "3000 events cycle through six types: 500 enrolments in January")
	days, err := f.GetRows("Completions per day")
	require.NoError(t, err)
	assert.Len(t, days, 32, "a header and 31 days")
	courses, err := f.GetRows("Enrolments by course")
	require.NoError(t, err)
	assert.Len(t, courses, 6, "a header and five courses")
	broken, err := f.GetCellValue("Broken", "A2")
	require.NoError(t, err)
	assert.Contains(t, broken, "quiz_passes", "a failed section says why and does not fail the run")
	assert.Contains(t, broken, "retired")
}

// TestFailingWebhookRetried: a webhook answering 500 is recorded as
// RETRYING with its error and attempt count, retried, and SUCCEEDED once it
// answers 200; one that never recovers ends FAILED.
func TestFailingWebhookRetried(t *testing.T) {
	h := newHarness(t)
	hook, hookURL := startWebhook(t)
	hook.status.Store(http.StatusInternalServerError)
	ctx := as("acme")
	rep, err := h.svc.Create(ctx, dashboardReport(reports.FormatCSVZip, reports.Delivery{Kind: reports.DeliveryWebhook, URL: hookURL, Secret: hookSecret}))
	require.NoError(t, err)
	_, err = h.svc.RunNow(ctx, rep.ID)
	require.NoError(t, err)
	require.Equal(t, []error{nil}, h.runAll(t, reports.KindRun, h.svc.Runner(), 0, 3))
	tasks := h.q.Take(reports.KindDeliver)
	require.Len(t, tasks, 1)

	err = h.process(t, h.svc.Deliverer(), tasks[0], 0, 2)
	require.Error(t, err, "the failure goes back to Asynq, which retries with backoff")
	assert.True(t, errs.Is(err, errs.KindUnavailable))
	d := h.onlyRun(t, ctx, rep.ID).Deliveries[0]
	assert.Equal(t, reports.DeliveryRetrying, d.Status)
	assert.Equal(t, 1, d.Attempts)
	assert.Equal(t, "webhook answered 500", d.LastError)
	assert.Nil(t, d.DeliveredAt)

	// Redis lost the retry: the recoverer enqueues the same task again
	require.NoError(t, h.svc.Recoverer().Recover(context.Background()))
	again := h.q.Take(reports.KindDeliver)
	require.Len(t, again, 1)
	want, _, _ := jobs.TaskID(tasks[0])
	got, _, _ := jobs.TaskID(again[0])
	assert.Equal(t, want, got)

	hook.status.Store(http.StatusNoContent)
	require.NoError(t, h.process(t, h.svc.Deliverer(), tasks[0], 1, 2))
	d = h.onlyRun(t, ctx, rep.ID).Deliveries[0]
	assert.Equal(t, reports.DeliverySucceeded, d.Status)
	assert.Equal(t, 2, d.Attempts)
	assert.Empty(t, d.LastError)
	// a redelivered task does not post again
	require.NoError(t, h.process(t, h.svc.Deliverer(), tasks[0], 2, 2))
	hook.mu.Lock()
	assert.Len(t, hook.bodies, 2)
	hook.mu.Unlock()

	t.Run("a private address is refused at once", func(t *testing.T) {
		strict, err := reports.NewService(reports.Deps{DB: h.db, Blobs: h.blobs, Jobs: h.q, Bus: h.bus, Dashboards: h.dash},
			reports.Config{Now: h.clock.Now})
		require.NoError(t, err)
		h.clock.Set(h.clock.Now().Add(time.Minute))
		_, err = strict.RunNow(ctx, rep.ID)
		require.NoError(t, err)
		require.Equal(t, []error{nil}, h.runAll(t, reports.KindRun, strict.Runner(), 0, 3))
		tasks := h.q.Take(reports.KindDeliver)
		require.Len(t, tasks, 1)
		err = h.process(t, strict.Deliverer(), tasks[0], 0, 6)
		assert.True(t, errs.Is(err, errs.KindInvalid), "not retried: %v", err)
		page, err := strict.Runs(ctx, rep.ID, 1, "")
		require.NoError(t, err)
		d := page.Runs[0].Deliveries[0]
		assert.Equal(t, reports.DeliveryFailed, d.Status)
		assert.Contains(t, d.LastError, "private")
	})
	t.Run("never recovering ends FAILED", func(t *testing.T) {
		hook.status.Store(http.StatusBadGateway)
		h.clock.Set(h.clock.Now().Add(time.Minute))
		_, err := h.svc.RunNow(ctx, rep.ID)
		require.NoError(t, err)
		require.Equal(t, []error{nil}, h.runAll(t, reports.KindRun, h.svc.Runner(), 0, 3))
		tasks := h.q.Take(reports.KindDeliver)
		require.Len(t, tasks, 1)
		for attempt := range 3 {
			require.Error(t, h.process(t, h.svc.Deliverer(), tasks[0], attempt, 2))
		}
		page, err := h.svc.Runs(ctx, rep.ID, 10, "")
		require.NoError(t, err)
		require.Len(t, page.Runs, 3)
		d := page.Runs[0].Deliveries[0]
		assert.Equal(t, reports.DeliveryFailed, d.Status)
		assert.Equal(t, 3, d.Attempts)
		assert.Equal(t, "webhook answered 502", d.LastError)
	})
}

// flakyBus fails the first Publish (a worker that dies after writing the
// file and marking the run, before announcing it).
type flakyBus struct {
	reports.Publisher
	failed atomic.Bool
}

func (f *flakyBus) Publish(ctx context.Context, subject string, v any, msgID string) error {
	if f.failed.CompareAndSwap(false, true) {
		return errs.E("bus.Publish", errs.KindUnavailable, "NATS is gone")
	}
	return f.Publisher.Publish(ctx, subject, v, msgID)
}

// putThenDie is a blob.Store whose first Put stores the object and then
// reports failure (a worker killed right after the write).
type putThenDie struct {
	blob.Store
	died atomic.Bool
}

func (p *putThenDie) Put(ctx context.Context, key string, r io.Reader) error {
	if err := p.Store.Put(ctx, key, r); err != nil {
		return err
	}
	if p.died.CompareAndSwap(false, true) {
		return errs.E("blob.Put", errs.KindUnavailable, "worker killed")
	}
	return nil
}

// TestRunRetriedAfterCrash: a run interrupted after its file was written
// (or after it was marked, before the event) and retried leaves one object
// and one event.
func TestRunRetriedAfterCrash(t *testing.T) {
	for _, c := range []struct {
		name   string
		opt    harnessOption
		format reports.Format
	}{
		{"killed after the write", func(d *reports.Deps, _ *reports.Config) { d.Blobs = &putThenDie{Store: d.Blobs} }, reports.FormatXLSX},
		{"killed before the event", func(d *reports.Deps, _ *reports.Config) { d.Bus = &flakyBus{Publisher: d.Bus} }, reports.FormatPDF},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.opt)
			ctx := as("acme")
			rep, task := h.manualRun(t, ctx, c.format)
			require.Error(t, h.process(t, h.svc.Runner(), task, 0, 3))
			assert.Zero(t, h.msgs(t, reports.SubjectGenerated))
			assert.NotEqual(t, reports.RunFailed, h.onlyRun(t, ctx, rep.ID).Status, "not final before the last attempt")
			require.NoError(t, h.process(t, h.svc.Runner(), task, 1, 3))
			require.NoError(t, h.process(t, h.svc.Runner(), task, 2, 3), "a redelivered task of a finished run")

			objs, err := h.blobs.List(context.Background(), "tenants/acme/reports/")
			require.NoError(t, err)
			assert.Len(t, objs, 1)
			assert.Equal(t, uint64(1), h.msgs(t, reports.SubjectGenerated))
			run := h.onlyRun(t, ctx, rep.ID)
			assert.Equal(t, reports.RunSucceeded, run.Status)
			assert.Equal(t, objs[0].Key, run.ObjectKey)
			assert.Equal(t, uint64(objs[0].Size), run.Bytes)
		})
	}
}

// TestCatchUp: slots missed while no worker ticked run once, for the
// latest slot; a lost task is recovered; a disabled report does not run.
func TestCatchUp(t *testing.T) {
	h := newHarness(t)
	ctx := as("acme")
	in := dashboardReport(reports.FormatCSVZip)
	in.Schedule = reports.Schedule{Preset: reports.PresetDaily, Timezone: "America/New_York"}
	rep, err := h.svc.Create(ctx, in)
	require.NoError(t, err)
	off := in
	off.Enabled = false
	_, err = h.svc.Create(ctx, off)
	require.NoError(t, err)

	// down for three days and a bit: slots on 1, 2, 3 and 4 Feb at 11:00Z
	h.clock.Set(time.Date(2026, 2, 4, 13, 0, 0, 0, time.UTC))
	tick := func() []jobs.Task {
		require.NoError(t, h.svc.Tick(nil).ProcessJob(context.Background(), reportsTickJob()))
		return h.q.Take(reports.KindRun)
	}
	ids := func(tasks []jobs.Task) []string {
		var out []string
		for _, task := range tasks {
			id, _, err := jobs.TaskID(task)
			require.NoError(t, err)
			out = append(out, id)
		}
		return out
	}
	first := tick()
	require.Len(t, first, 1, "one run for the missed slots")
	assert.Empty(t, tick(), "a second tick finds the slot enqueued")
	queued := h.onlyRun(t, ctx, rep.ID)
	assert.Equal(t, reports.RunQueued, queued.Status, "the tick records the run before enqueuing it")
	_, err = h.svc.RunNow(ctx, rep.ID) // a manual run does not count as the slot
	require.NoError(t, err)
	require.Equal(t, []error{nil}, h.runAll(t, reports.KindRun, h.svc.Runner(), 0, 3))
	// Redis lost the scheduled task: the recoverer enqueues the same TaskID
	require.NoError(t, h.svc.Recoverer().Recover(context.Background()))
	again := h.q.Take(reports.KindRun)
	require.Len(t, again, 1)
	assert.Equal(t, ids(first), ids(again))
	require.NoError(t, h.process(t, h.svc.Runner(), again[0], 0, 3))
	page, err := h.svc.Runs(ctx, rep.ID, 10, "")
	require.NoError(t, err)
	var scheduled []time.Time
	for _, r := range page.Runs {
		if r.Trigger == reports.TriggerScheduled {
			scheduled = append(scheduled, r.ScheduledFor)
		}
	}
	assert.Equal(t, []time.Time{time.Date(2026, 2, 4, 11, 0, 0, 0, time.UTC)}, scheduled, "06:00 New York on 4 Feb")
	assert.Empty(t, tick(), "the slot ran; nothing is due")
	h.clock.Set(time.Date(2026, 2, 5, 11, 0, 0, 0, time.UTC))
	assert.Len(t, tick(), 1, "the next day's slot")
}

// TestTenantIsolation: tenant beta cannot see, change or run acme's report.
func TestTenantIsolation(t *testing.T) {
	h := newHarness(t)
	rep, err := h.svc.Create(as("acme"), dashboardReport(reports.FormatPDF))
	require.NoError(t, err)
	beta := as("beta")
	_, err = h.svc.Get(beta, rep.ID)
	assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
	_, err = h.svc.RunNow(beta, rep.ID)
	assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
	_, err = h.svc.Runs(beta, rep.ID, 10, "")
	assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
	_, err = h.svc.Update(beta, rep.ID, rep.Version, dashboardReport(reports.FormatXLSX))
	assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
	assert.True(t, errs.Is(h.svc.Delete(beta, rep.ID, rep.Version), errs.KindNotFound))
	page, err := h.svc.List(beta, 10, "")
	require.NoError(t, err)
	assert.Empty(t, page.Reports)
	assert.Empty(t, h.q.Take(reports.KindRun))
	page, err = h.svc.List(as("acme"), 10, "")
	require.NoError(t, err)
	assert.Len(t, page.Reports, 1)
}

// TestValidation: bad definitions say what is wrong.
func TestValidation(t *testing.T) {
	h := newHarness(t)
	ctx := as("acme")
	for _, c := range []struct {
		name string
		edit func(*reports.Input)
		want string
	}{
		{"no source", func(in *reports.Input) { in.Source = reports.Source{} }, "exactly one source"},
		{"unknown dashboard", func(in *reports.Input) { in.Source.Dashboard = "nope" }, "not found"},
		{"bad cron", func(in *reports.Input) { in.Schedule.Cron = "61 * * * *" }, "does not parse"},
		{"bad zone", func(in *reports.Input) { in.Schedule.Timezone = "Europe/Nowhere" }, "timezone"},
		{"bad format", func(in *reports.Input) { in.Format = "DOCX" }, "use PDF, XLSX or CSV_ZIP"},
		{"short secret", func(in *reports.Input) {
			in.Deliveries = []reports.Delivery{{Kind: reports.DeliveryWebhook, URL: "https://x.test/h", Secret: "short"}}
		}, "at least 16"},
		{"bad email", func(in *reports.Input) {
			in.Deliveries = []reports.Delivery{{Kind: reports.DeliveryEmail, To: []string{"not an address"}}}
		}, "not a plain email address"},
		{"unknown metric key", func(in *reports.Input) {
			in.Source = reports.Source{Metrics: []reports.MetricQuery{{MetricKey: "enrolments"}, {MetricKey: "no_such_metric"}}}
		}, `source.metrics[1].metricKey "no_such_metric": metric "no_such_metric" not found`},
		{"dimension the metric does not allow", func(in *reports.Input) {
			in.Source = reports.Source{Metrics: []reports.MetricQuery{{MetricKey: "enrolments", Chart: dashboards.KindBar, Dimensions: []string{"properties.nope"}}}}
		}, "source.metrics[0]: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := dashboardReport(reports.FormatPDF)
			c.edit(&in)
			_, err := h.svc.Create(ctx, in)
			require.Error(t, err)
			if c.name != "unknown dashboard" { // NOT_FOUND, as dashboard(idOrSlug) says
				assert.Equal(t, errs.KindInvalid, errs.KindOf(err), "%v", err)
			}
			assert.Contains(t, errs.PublicMessage(err), c.want)
		})
	}
}

// attachment returns the name and bytes of a message's attachment.
func attachment(t *testing.T, raw []byte) (string, []byte) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		require.NoError(t, err, "no attachment")
		if p.FileName() != "" {
			b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
			require.NoError(t, err)
			return p.FileName(), b
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestUpdateAndDelete: a stale version is CONFLICT; a webhook re-sent
// without its secret keeps it; a new schedule takes effect from the update
// (its earlier slots never run); a deleted report stops ticking.
func TestUpdateAndDelete(t *testing.T) {
	h := newHarness(t)
	hook, hookURL := startWebhook(t)
	ctx := as("acme")
	rep, err := h.svc.Create(ctx, dashboardReport(reports.FormatCSVZip, reports.Delivery{Kind: reports.DeliveryWebhook, URL: hookURL, Secret: hookSecret}))
	require.NoError(t, err)

	in := dashboardReport(reports.FormatCSVZip, reports.Delivery{Kind: reports.DeliveryWebhook, URL: hookURL})
	in.Schedule = reports.Schedule{Cron: "0 * * * *", Timezone: "UTC"}
	_, err = h.svc.Update(ctx, rep.ID, rep.Version+1, in)
	assert.True(t, errs.Is(err, errs.KindConflict), "%v", err)

	h.clock.Set(time.Date(2026, 2, 1, 7, 30, 0, 0, time.UTC))
	upd, err := h.svc.Update(ctx, rep.ID, rep.Version, in)
	require.NoError(t, err)
	assert.Greater(t, upd.Version, rep.Version)
	assert.Equal(t, time.Date(2026, 2, 1, 7, 30, 0, 0, time.UTC), upd.ScheduledFrom)
	require.NoError(t, h.svc.Tick(nil).ProcessJob(context.Background(), reportsTickJob()))
	assert.Empty(t, h.q.Take(reports.KindRun), "07:00 is before the new schedule took effect")

	h.clock.Set(time.Date(2026, 2, 1, 8, 0, 10, 0, time.UTC))
	require.NoError(t, h.svc.Tick(nil).ProcessJob(context.Background(), reportsTickJob()))
	require.Equal(t, []error{nil}, h.runAll(t, reports.KindRun, h.svc.Runner(), 0, 3))
	require.Equal(t, []error{nil}, h.runAll(t, reports.KindDeliver, h.svc.Deliverer(), 0, 6))
	hook.mu.Lock()
	require.Len(t, hook.sigs, 1)
	assert.NoError(t, reports.VerifySignature(hookSecret, hook.sigs[0], hook.bodies[0], h.clock.Now(), time.Minute), "the stored secret was kept")
	hook.mu.Unlock()

	require.NoError(t, h.svc.Delete(ctx, rep.ID, upd.Version))
	_, err = h.svc.Get(ctx, rep.ID)
	assert.True(t, errs.Is(err, errs.KindNotFound))
	h.clock.Set(time.Date(2026, 2, 1, 9, 0, 10, 0, time.UTC))
	require.NoError(t, h.svc.Tick(nil).ProcessJob(context.Background(), reportsTickJob()))
	assert.Empty(t, h.q.Take(reports.KindRun))
}
