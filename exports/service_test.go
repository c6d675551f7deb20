package exports_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/exports"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/jobs/jobstest"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
)

var secret = []byte("exports-test-secret-0123456789")

type harness struct {
	svc   *exports.Service
	blobs *blob.Local
	bus   *bus.Bus
	q     *jobstest.Recorder
	db    *store.DB
	now   time.Time
}

// harnessOption adjusts the Service's dependencies and configuration
// before it is built (db is the harness's migrated database).
type harnessOption func(db *store.DB, d *exports.Deps, c *exports.Config)

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	ctx := context.Background()
	db := storetest.Embedded(t)
	_, err := store.Migrate(ctx, db, store.MigrateOptions{})
	require.NoError(t, err)
	h := &harness{q: &jobstest.Recorder{}, db: db, now: time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	blobs, err := blob.NewLocal(blob.LocalConfig{Dir: t.TempDir(), BaseURL: srv.URL + "/blobs", Secret: secret, Now: func() time.Time { return h.now }})
	require.NoError(t, err)
	mux.Handle("/blobs/", http.StripPrefix("/blobs", blob.LocalHandler(blobs, secret)))
	b, err := bus.Open(ctx, bus.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	h.blobs, h.bus = blobs, b
	deps := exports.Deps{DB: db, Blobs: blobs, Jobs: h.q, Bus: b}
	cfg := exports.Config{ProgressEvery: 2, Now: func() time.Time { return h.now }}
	for _, o := range opts {
		o(db, &deps, &cfg)
	}
	h.svc, err = exports.NewService(deps, cfg)
	require.NoError(t, err)
	require.NoError(t, db.Insert(ctx, store.Insert{
		Table:   "events",
		Columns: []string{"tenant_id", "event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"},
		Rows: [][]any{
			{"a", "e1", "lesson.completed", "ü1", "s", time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC), h.now, map[string]any{"course_id": "c1"}},
			{"a", "e2", "quiz.submitted", "用户", "s", time.Date(2026, 5, 2, 8, 0, 0, 0, time.UTC), h.now, map[string]any{"score": 90}},
			{"a", "e3", "user.login", "u3", "s", time.Date(2026, 5, 3, 8, 0, 0, 0, time.UTC), h.now, map[string]any{}},
			{"b", "e4", "user.login", "b-secret", "s", time.Date(2026, 5, 3, 8, 0, 0, 0, time.UTC), h.now, map[string]any{}},
		},
	}))
	return h
}

func tenantCtx(tenant string) context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{Subject: "u-" + tenant, Tenant: tenant, Roles: []auth.Role{auth.RoleAnalyst}})
}

// runLast runs the last enqueued task through the worker handler.
func (h *harness) runLast(t *testing.T) error {
	t.Helper()
	task := h.q.Last()
	id, params, err := jobs.TaskID(task)
	require.NoError(t, err)
	return h.svc.Runner().ProcessJob(context.Background(), jobs.Job{ID: id, Kind: task.Kind, Tenant: task.Tenant, Params: params, MaxRetry: 3})
}

func (h *harness) msgs(t *testing.T, subject string) uint64 {
	t.Helper()
	s, err := h.bus.JetStream().Stream(context.Background(), bus.DefaultStream)
	require.NoError(t, err)
	info, err := s.Info(context.Background(), jetstreamSubjects(subject))
	require.NoError(t, err)
	return info.State.Subjects[subject]
}

func eventsSpec(f exports.Format) exports.Spec {
	from, to := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	return exports.Spec{
		Events: &exports.EventsSource{TimeRange: timerangeAbs(from, to), Columns: []string{"event_id", "user_id", "occurred_at"}},
		Format: f, Options: exports.Options{Timezone: "Asia/Tokyo"},
	}
}

func TestExportFlow(t *testing.T) {
	h := newHarness(t)
	ctxA, ctxB := tenantCtx("a"), tenantCtx("b")
	j, err := h.svc.Request(ctxA, eventsSpec(exports.FormatCSV))
	require.NoError(t, err)
	assert.Equal(t, exports.StatusQueued, j.Status)
	assert.Equal(t, "tenants/a/exports/"+j.ID+"/export-"+j.ID+".csv", j.ObjectKey)
	require.Len(t, h.q.Tasks(), 1)
	assert.Equal(t, exports.KindRun, h.q.Tasks()[0].Kind)
	assert.Equal(t, "a", h.q.Tasks()[0].Tenant)

	// the worker run twice: one object, one event
	require.NoError(t, h.runLast(t))
	require.NoError(t, h.runLast(t))
	objs, err := h.blobs.List(context.Background(), "tenants/")
	require.NoError(t, err)
	require.Len(t, objs, 1)
	assert.Equal(t, uint64(1), h.msgs(t, exports.SubjectCompleted))

	got, err := h.svc.Get(ctxA, j.ID)
	require.NoError(t, err)
	assert.Equal(t, exports.StatusSucceeded, got.Status)
	assert.Equal(t, uint64(3), got.Rows, "tenant b's event is not exported")
	assert.Equal(t, uint64(objs[0].Size), got.Bytes)
	require.NotNil(t, got.URLExpiresAt)
	assert.Equal(t, h.now.Add(exports.DefaultURLTTL), *got.URLExpiresAt)

	// the event
	s, err := h.bus.JetStream().Stream(context.Background(), bus.DefaultStream)
	require.NoError(t, err)
	raw, err := s.GetLastMsgForSubject(context.Background(), exports.SubjectCompleted)
	require.NoError(t, err)
	var ev exports.Completed
	require.NoError(t, json.Unmarshal(raw.Data, &ev))
	assert.Equal(t, "a", ev.Tenant)
	assert.Equal(t, j.ID, ev.ExportID)
	assert.Equal(t, uint64(3), ev.Rows)
	assert.Equal(t, got.Bytes, ev.Bytes)

	// download through the signed URL
	u, _, err := h.svc.URL(ctxA, got)
	require.NoError(t, err)
	res, err := http.Get(u)
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, `attachment; filename=export-`+j.ID+`.csv`, res.Header.Get("Content-Disposition"))
	recs, err := csv.NewReader(bytesReader(body)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, [][]string{
		{"event_id", "user_id", "occurred_at"},
		{"e1", "ü1", "2026-05-01T17:00:00.000+09:00"},
		{"e2", "用户", "2026-05-02T17:00:00.000+09:00"},
		{"e3", "u3", "2026-05-03T17:00:00.000+09:00"},
	}, recs)

	// another tenant sees nothing
	_, err = h.svc.Get(ctxB, j.ID)
	assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
	_, _, err = h.svc.URL(ctxB, got)
	assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
	page, err := h.svc.List(ctxB, 0, "")
	require.NoError(t, err)
	assert.Empty(t, page.Jobs)
	_, err = h.svc.Cancel(ctxB, j.ID)
	assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
	_, err = h.svc.Get(context.Background(), j.ID)
	assert.True(t, errs.Is(err, errs.KindUnauthenticated), "fails closed without a tenant")

	page, err = h.svc.List(ctxA, 0, "")
	require.NoError(t, err)
	require.Len(t, page.Jobs, 1)

	// the janitor deletes expired objects
	h.now = h.now.Add(exports.DefaultRetention + time.Minute)
	require.NoError(t, h.svc.Janitor().ProcessJob(context.Background(), jobs.Job{Kind: exports.KindJanitor}))
	got, err = h.svc.Get(ctxA, j.ID)
	require.NoError(t, err)
	assert.Equal(t, exports.StatusExpired, got.Status)
	objs, err = h.blobs.List(context.Background(), "tenants/")
	require.NoError(t, err)
	assert.Empty(t, objs)
}

// The download is named exactly as the caller asked (fileName plus the
// format's extension), as GraphQL's ExportJob.fileName says.
func TestDownloadNameIsFileName(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		fileName string
		format   exports.Format
		gzip     bool
		want     string
	}{
		{"q3-enrolments", exports.FormatCSV, false, "q3-enrolments.csv"},
		{"Report_2026.05", exports.FormatNDJSON, true, "Report_2026.05.ndjson.gz"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			spec := eventsSpec(tc.format)
			spec.Options.FileName, spec.Options.Gzip = tc.fileName, tc.gzip
			j, err := h.svc.Request(tenantCtx("a"), spec)
			require.NoError(t, err)
			require.NoError(t, h.runLast(t))
			got, err := h.svc.Get(tenantCtx("a"), j.ID)
			require.NoError(t, err)
			require.Equal(t, exports.StatusSucceeded, got.Status)
			assert.Equal(t, tc.want, got.FileName())
			u, _, err := h.svc.URL(tenantCtx("a"), got)
			require.NoError(t, err)
			res, err := http.Get(u)
			require.NoError(t, err)
			_ = res.Body.Close()
			require.Equal(t, http.StatusOK, res.StatusCode)
			_, params, err := mime.ParseMediaType(res.Header.Get("Content-Disposition"))
			require.NoError(t, err)
			assert.Equal(t, tc.want, params["filename"], "the saved file is named as requested")
		})
	}
}

func TestCapCancelRecoverFail(t *testing.T) {
	h := newHarness(t)
	ctxA := tenantCtx("a")
	j1, err := h.svc.Request(ctxA, eventsSpec(exports.FormatJSON))
	require.NoError(t, err)
	h.now = h.now.Add(time.Millisecond)
	_, err = h.svc.Request(ctxA, eventsSpec(exports.FormatParquet))
	require.NoError(t, err)
	_, err = h.svc.Request(ctxA, eventsSpec(exports.FormatCSV))
	assert.True(t, errs.Is(err, errs.KindRateLimited), "%v", err)
	assert.Contains(t, errs.PublicMessage(err), "limit is 2")
	_, err = h.svc.Request(tenantCtx("b"), eventsSpec(exports.FormatCSV))
	assert.NoError(t, err, "the cap is per tenant")

	// recoverer re-enqueues the active jobs with the same task ids
	before := len(h.q.Tasks())
	require.NoError(t, h.svc.Recoverer().Recover(context.Background()))
	assert.Len(t, h.q.Tasks(), before+3)
	id0, _, _ := jobs.TaskID(h.q.Tasks()[0])
	var ids []string
	for _, task := range h.q.Tasks()[before:] {
		id, _, _ := jobs.TaskID(task)
		ids = append(ids, id)
	}
	assert.Contains(t, ids, id0)

	// cancel: the worker writes nothing
	c, err := h.svc.Cancel(ctxA, j1.ID)
	require.NoError(t, err)
	assert.Equal(t, exports.StatusCancelled, c.Status)
	_, err = h.svc.Cancel(ctxA, j1.ID)
	assert.True(t, errs.Is(err, errs.KindConflict))
	id, params, _ := jobs.TaskID(h.q.Tasks()[0])
	require.NoError(t, h.svc.Runner().ProcessJob(context.Background(), jobs.Job{ID: id, Kind: exports.KindRun, Tenant: "a", Params: params}))
	objs, _ := h.blobs.List(context.Background(), "tenants/a/")
	assert.Empty(t, objs)

	// bad input is refused up front
	bad := eventsSpec(exports.FormatXLSX)
	bad.Options.Gzip = true
	_, err = h.svc.Request(ctxA, bad)
	assert.True(t, errs.Is(err, errs.KindInvalid))
	bad = eventsSpec(exports.FormatCSV)
	bad.Events.Columns = []string{"tenant_id"}
	_, err = h.svc.Request(ctxA, bad)
	assert.True(t, errs.Is(err, errs.KindInvalid))
}
