package exports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/exports"
	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// withJourneys gives the Service the journeys service and the cohort
// checker, as the composition root does.
func withJourneys(js **journeys.Service, cs **cohorts.Service) harnessOption {
	return func(db *store.DB, d *exports.Deps, c *exports.Config) {
		*js = journeys.NewService(db, journeys.Config{Now: c.Now})
		*cs = cohorts.NewService(db, nil, cohorts.Config{})
		d.Journeys, d.Cohorts = *js, *cs
	}
}

// learnerSteps are the learner journey's event types, in order.
var learnerSteps = []string{"course.enrolled", "lesson.started", "lesson.completed", "quiz.submitted", "course.completed"}

// walk inserts, for tenant, n learners who go through learnerSteps[:upTo]
// in one session each in April 2026, learner i in course c<i%2>.
func walk(t *testing.T, db *store.DB, tenant string, n, upTo int) {
	t.Helper()
	var rows [][]any
	for i := range n {
		at := time.Date(2026, 4, 1+i, 9, 0, 0, 0, time.UTC)
		for k, typ := range learnerSteps[:upTo] {
			rows = append(rows, []any{tenant, fmt.Sprintf("%s-w%d-%d", tenant, i, k), typ, fmt.Sprintf("%s-learner-%d", tenant, i),
				fmt.Sprintf("%s-s%d", tenant, i), at.Add(time.Duration(k) * 10 * time.Minute), at, map[string]any{"course_id": fmt.Sprintf("c%d", i%2)}})
		}
	}
	require.NoError(t, db.Insert(context.Background(), store.Insert{Table: "events",
		Columns: []string{"tenant_id", "event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"}, Rows: rows}))
}

var april = timerangeAbs(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))

func learnerFunnel() *journeys.FunnelRequest {
	f := &journeys.FunnelRequest{ConversionWindow: 7 * 24 * time.Hour, TimeRange: april, Breakdown: &journeys.Breakdown{Property: "course_id"}}
	for _, typ := range learnerSteps {
		f.Steps = append(f.Steps, journeys.Step{Matcher: journeys.Matcher{EventType: typ}})
	}
	return f
}

func TestJourneyExportsMatchTheJourneysService(t *testing.T) {
	var js *journeys.Service
	var cs *cohorts.Service
	h := newHarness(t, withJourneys(&js, &cs))
	walk(t, h.db, "a", 4, 5)
	walk(t, h.db, "b", 1, 5)

	t.Run("funnel as CSV, per tenant", func(t *testing.T) {
		for tenant, entered := range map[string]string{"a": "4", "b": "1"} {
			ctx := tenantCtx(tenant)
			j := h.runRequested(t, ctx, exports.Spec{Journey: &journeys.Query{Funnel: learnerFunnel()}, Format: exports.FormatCSV})
			assert.Equal(t, exports.SourceFunnel, j.Source)
			recs, err := csv.NewReader(bytes.NewReader(h.readObject(t, j))).ReadAll()
			require.NoError(t, err)
			require.Equal(t, []string{"breakdown", "step", "label", "event_type", "entered", "converted", "conversion_from_first",
				"conversion_from_previous", "conversion", "drop_off", "drop_off_rate", "median_seconds_to_convert", "p90_seconds_to_convert"}, recs[0])
			want, err := js.Funnel(ctx, *learnerFunnel())
			require.NoError(t, err)
			require.Len(t, recs, 1+5*(1+len(want.Breakdowns)))
			for k, st := range want.Steps {
				row := recs[1+k]
				assert.Equal(t, []string{"", strconv.Itoa(st.Step), st.EventType, strconv.FormatInt(st.Entered, 10)}, []string{row[0], row[1], row[3], row[4]})
			}
			assert.Equal(t, entered, recs[1][4], "tenant %s counts only its own learners", tenant)
			assert.Equal(t, "600", recs[2][11], "median seconds from enrolled to lesson started")
			assert.Equal(t, "c0", recs[6][0], "then each course")
		}
	})

	t.Run("retention as JSON", func(t *testing.T) {
		ctx := tenantCtx("a")
		ret := &journeys.RetentionRequest{StartEvent: journeys.Matcher{EventType: "course.enrolled"}, ReturnEvent: journeys.Matcher{EventType: "lesson.completed"},
			Period: timerange.GrainDay, Periods: 3, TimeRange: april}
		j := h.runRequested(t, ctx, exports.Spec{Journey: &journeys.Query{Retention: ret}, Format: exports.FormatJSON})
		var rows []map[string]any
		require.NoError(t, json.Unmarshal(h.readObject(t, j), &rows))
		want, err := js.Retention(ctx, *ret)
		require.NoError(t, err)
		cells := len(want.Mean)
		for _, c := range want.Cohorts {
			cells += len(c.Cells)
		}
		require.Len(t, rows, cells)
		assert.Equal(t, "2026-04-01T00:00:00.000Z", rows[0]["cohort_start"])
		assert.EqualValues(t, want.Cohorts[0].Size, rows[0]["cohort_size"])
		assert.Nil(t, rows[len(rows)-1]["cohort_start"], "the mean row")
	})

	t.Run("paths as XLSX", func(t *testing.T) {
		ctx := tenantCtx("a")
		p := &journeys.PathsRequest{StartEvent: &journeys.Matcher{EventType: "course.enrolled"}, Steps: 3, TimeRange: april}
		j := h.runRequested(t, ctx, exports.Spec{Journey: &journeys.Query{Paths: p}, Format: exports.FormatXLSX})
		f, err := excelize.OpenReader(bytes.NewReader(h.readObject(t, j)))
		require.NoError(t, err)
		rows, err := f.GetRows(f.GetSheetName(0))
		require.NoError(t, err)
		want, err := js.Paths(ctx, *p)
		require.NoError(t, err)
		require.Len(t, rows, 1+len(want.Edges)+len(want.Nodes))
		assert.Equal(t, []string{"kind", "step", "from", "to", "users"}, rows[0])
		assert.Equal(t, []string{"edge", "1", "course.enrolled", "lesson.started", "4"}, rows[1])
	})
}

func TestJourneyExportBadInputNamesTheField(t *testing.T) {
	var js *journeys.Service
	var cs *cohorts.Service
	h := newHarness(t, withJourneys(&js, &cs))
	walk(t, h.db, "a", 1, 5)
	walk(t, h.db, "b", 1, 5)
	c, err := cs.Create(tenantCtx("b"), cohorts.Cohort{Name: "B", Static: []string{"b-learner-0"}})
	require.NoError(t, err)
	funnel := func(edit func(f *journeys.FunnelRequest)) exports.Spec {
		f := learnerFunnel()
		edit(f)
		return exports.Spec{Journey: &journeys.Query{Funnel: f}, Format: exports.FormatCSV}
	}
	for _, tc := range []struct {
		name  string
		spec  exports.Spec
		kind  errs.Kind
		field string
	}{
		{"unknown event type", funnel(func(f *journeys.FunnelRequest) { f.Steps[2].EventType = "lesson.finished" }), errs.KindInvalid, "funnel.steps[2].eventType"},
		{"no time range", funnel(func(f *journeys.FunnelRequest) { f.TimeRange = timerange.Spec{} }), errs.KindInvalid, "funnel.timeRange"},
		{"window not positive", funnel(func(f *journeys.FunnelRequest) { f.ConversionWindow = -time.Hour }), errs.KindInvalid, "funnel.conversionWindow"},
		{"another tenant's cohort", funnel(func(f *journeys.FunnelRequest) { f.Cohorts = []string{c.ID} }), errs.KindNotFound, "funnel.cohorts[0]"},
		{"two sources", exports.Spec{Journey: &journeys.Query{Funnel: learnerFunnel()}, SQL: &exports.SQLSource{Query: "SELECT 1"}, Format: exports.FormatCSV}, errs.KindInvalid, "source"},
		{"retention periods", exports.Spec{Journey: &journeys.Query{Retention: &journeys.RetentionRequest{StartEvent: journeys.Matcher{EventType: "course.enrolled"},
			ReturnEvent: journeys.Matcher{EventType: "lesson.completed"}, Period: timerange.GrainWeek, Periods: 53, TimeRange: april}}, Format: exports.FormatCSV}, errs.KindInvalid, "retention.periods"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.svc.Request(tenantCtx("a"), tc.spec)
			require.True(t, errs.Is(err, tc.kind), "%v", err)
			assert.Equal(t, tc.field, errs.PublicFields(err)["field"])
		})
	}
}
