package exports_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/exports"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/metrics/metricstest"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// january is the window of the metric fixture's events.
var january = timerangeAbs(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))

// withMetrics gives the Service a metric querier on the harness database.
func withMetrics(q **metrics.Querier) harnessOption {
	return func(db *store.DB, d *exports.Deps, _ *exports.Config) {
		now := func() time.Time { return time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC) }
		reg := metrics.NewRegistry(db, metrics.Config{Now: now})
		*q = metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: now})
		d.Metrics = *q
	}
}

// withSQL gives the Service an ad-hoc service configured by cfg whose row
// cap is the export's, as the composition root does.
func withSQL(a **adhoc.Service, cfg adhoc.Config) harnessOption {
	return func(db *store.DB, d *exports.Deps, c *exports.Config) {
		cfg.MaxLimit = max(c.MaxRows, exports.DefaultMaxRows)
		*a = adhoc.NewService(db, cfg)
		d.SQL = *a
	}
}

// readObject returns the stored object of a SUCCEEDED job.
func (h *harness) readObject(t *testing.T, j *exports.Job) []byte {
	t.Helper()
	r, err := h.blobs.Open(context.Background(), j.ObjectKey)
	require.NoError(t, err)
	defer r.Close()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return b
}

// runRequested requests spec as tenant, runs the enqueued task once and
// returns the job as stored afterwards.
func (h *harness) runRequested(t *testing.T, ctx context.Context, spec exports.Spec) *exports.Job {
	t.Helper()
	j, err := h.svc.Request(ctx, spec)
	require.NoError(t, err)
	require.NoError(t, h.runLast(t))
	got, err := h.svc.Get(ctx, j.ID)
	require.NoError(t, err)
	require.Equal(t, exports.StatusSucceeded, got.Status, "error: %s", got.Error)
	return got
}

func TestMetricExportMatchesQuerier(t *testing.T) {
	var q *metrics.Querier
	h := newHarness(t, withMetrics(&q))
	metricstest.SeedJanuary(t, h.db, "a", 600, 1)
	metricstest.SeedJanuary(t, h.db, "b", 900, 2)
	req := metrics.Request{MetricKey: "enrolments", TimeRange: january, Grain: "WEEK", Dimensions: []string{"properties.course_id"}}

	ctxA := tenantCtx("a")
	got, recs, want := h.exportMetricCSV(t, ctxA, q, req)
	assert.Equal(t, []string{"properties.course_id", "bucket", "value"}, recs[0])
	expect := csvRows(want)
	require.Len(t, want.Series, 5, "one series per course")
	require.NotEmpty(t, want.Series[0].Points)
	assert.Equal(t, expect, recs[1:])
	assert.Equal(t, uint64(len(expect)), got.Rows)

	var sum float64
	for _, r := range recs[1:] {
		f, err := strconv.ParseFloat(r[2], 64)
		require.NoError(t, err)
		sum += f
	}
	require.NotNil(t, want.Totals.Value)
	assert.Equal(t, *want.Totals.Value, sum, "the file adds up to the metric's total")
	assert.Positive(t, sum, "the fixture has enrolments")
}

// exportMetricCSV exports req as CSV for the tenant of ctx and returns
// the job, the file's records (header first) and the querier's answer.
func (h *harness) exportMetricCSV(t *testing.T, ctx context.Context, q *metrics.Querier, req metrics.Request) (*exports.Job, [][]string, *metrics.Result) {
	t.Helper()
	got := h.runRequested(t, ctx, exports.Spec{Metric: &req, Format: exports.FormatCSV})
	want, err := q.Query(ctx, req)
	require.NoError(t, err)
	recs, err := csv.NewReader(bytesReader(h.readObject(t, got))).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	return got, recs, want
}

// csvRows is how a CSV export of res over one dimension reads: the
// dimension value, the bucket and the value of every point.
func csvRows(res *metrics.Result) [][]string {
	var out [][]string
	for _, s := range res.Series {
		for _, p := range s.Points {
			v := ""
			if p.Value != nil {
				v = strconv.FormatFloat(*p.Value, 'g', -1, 64)
			}
			out = append(out, []string{s.Values[0], p.Bucket.UTC().Format("2006-01-02T15:04:05.000Z07:00"), v})
		}
	}
	return out
}

func TestSQLExportMatchesAdhoc(t *testing.T) {
	var a *adhoc.Service
	h := newHarness(t, withSQL(&a, adhoc.Config{}))
	ctxA := tenantCtx("a")
	const query = "SELECT type, user_id, count() AS n, max(occurred_at) AS last FROM events GROUP BY type, user_id ORDER BY type, user_id"

	got := h.runRequested(t, ctxA, exports.Spec{SQL: &exports.SQLSource{Query: query}, Format: exports.FormatNDJSON})
	want, err := a.Run(ctxA, query, 1000)
	require.NoError(t, err)
	require.Len(t, want.Rows, 3, "tenant a's three events, not tenant b's")

	var lines []map[string]any
	sc := bufio.NewScanner(bytesReader(h.readObject(t, got)))
	for sc.Scan() {
		dec := json.NewDecoder(bytesReader(sc.Bytes()))
		dec.UseNumber()
		var m map[string]any
		require.NoError(t, dec.Decode(&m))
		lines = append(lines, m)
	}
	require.NoError(t, sc.Err())
	require.Len(t, lines, len(want.Rows))
	assert.Equal(t, uint64(3), got.Rows)
	for r, row := range want.Rows {
		for i, c := range want.Columns {
			where := fmt.Sprintf("row %d %s", r, c.Name)
			switch w := row[i].(type) {
			case string:
				if c.Name == "last" {
					wt, err := time.Parse(time.RFC3339Nano, w)
					require.NoError(t, err, where)
					gt, err := time.Parse(time.RFC3339Nano, lines[r][c.Name].(string))
					require.NoError(t, err, where)
					assert.True(t, wt.Equal(gt), "%s: %s != %s", where, wt, gt)
					continue
				}
				assert.Equal(t, w, lines[r][c.Name], where)
			case uint64:
				assert.Equal(t, json.Number(strconv.FormatUint(w, 10)), lines[r][c.Name], where)
			default:
				t.Fatalf("%s: unexpected type %T", where, w)
			}
		}
	}
	assert.NotContains(t, string(h.readObject(t, got)), "b-secret")
}

func TestSQLExportPassesTheAdhocWalls(t *testing.T) {
	var a *adhoc.Service
	h := newHarness(t, withSQL(&a, adhoc.Config{}))
	ctxA := tenantCtx("a")
	for _, q := range []string{
		"SELECT * FROM numbers(10)",
		"SELECT * FROM system.users",
		"SELECT 1; SELECT 2",
		"SELECT * FROM events SETTINGS readonly = 0",
	} {
		t.Run(q, func(t *testing.T) {
			_, err := h.svc.Request(ctxA, exports.Spec{SQL: &exports.SQLSource{Query: q}, Format: exports.FormatCSV})
			assert.True(t, errs.Is(err, errs.KindInvalid), "refused as bad input: %v", err)
		})
	}
	_, err := h.svc.Request(context.Background(), exports.Spec{SQL: &exports.SQLSource{Query: "SELECT 1"}, Format: exports.FormatCSV})
	assert.True(t, errs.Is(err, errs.KindUnauthenticated), "fails closed without a tenant: %v", err)
	assert.Empty(t, h.q.Tasks(), "nothing refused was enqueued")
}

func TestSQLExportRunsWithTheAdhocLimits(t *testing.T) {
	var a *adhoc.Service
	h := newHarness(t, withSQL(&a, adhoc.Config{MaxRowsToRead: 1}))
	ctxA := tenantCtx("a")
	j, err := h.svc.Request(ctxA, exports.Spec{SQL: &exports.SQLSource{Query: "SELECT event_id FROM events"}, Format: exports.FormatCSV})
	require.NoError(t, err)
	err = h.runLast(t)
	require.Error(t, err)
	got, err := h.svc.Get(ctxA, j.ID)
	require.NoError(t, err)
	assert.Equal(t, exports.StatusFailed, got.Status, "max_rows_to_read from adhoc stops the export")
	assert.Contains(t, got.Error, "more rows than allowed")
}
