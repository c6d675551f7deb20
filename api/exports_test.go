package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/exports"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/auth"
)

func TestExportQueryIsQueuedAndTenantScoped(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.insertEvents("tenant-a", event{"a1", "user.login", time.Now().UTC().Add(-time.Hour)})
	mutation := `mutation($in: ExportInput!) { exportQuery(input: $in) { id status format source fileName url } }`
	in := map[string]any{"in": map[string]any{"events": map[string]any{"timeRange": map[string]any{"last": "1d"}}, "format": "CSV", "fileName": "logins"}}

	res := h.query(h.token("tenant-a", auth.RoleViewer), mutation, in)
	assert.Equal(t, "FORBIDDEN", res.code(), "viewers may not export")

	res = h.query(h.token("tenant-a", auth.RoleAnalyst), mutation, in)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var job struct {
		ID       string  `json:"id"`
		Status   string  `json:"status"`
		FileName string  `json:"fileName"`
		URL      *string `json:"url"`
	}
	require.NoError(t, json.Unmarshal(res.Data["exportQuery"], &job))
	assert.Equal(t, "QUEUED", job.Status)
	assert.Equal(t, "logins.csv", job.FileName)
	assert.Nil(t, job.URL, "no URL before the file exists")

	get := `query($id: ID!) { exportJob(id: $id) { id status } }`
	res = h.query(h.token("tenant-a", auth.RoleAnalyst), get, map[string]any{"id": job.ID})
	require.Empty(t, res.Errors)
	assert.JSONEq(t, `{"id":"`+job.ID+`","status":"QUEUED"}`, string(res.Data["exportJob"]))

	res = h.query(h.token("tenant-b", auth.RoleAdmin), get, map[string]any{"id": job.ID})
	require.Empty(t, res.Errors)
	assert.JSONEq(t, `null`, string(res.Data["exportJob"]), "tenant B cannot see tenant A's export")

	res = h.query(h.token("tenant-a", auth.RoleAnalyst), mutation, map[string]any{"in": map[string]any{
		"sql": "SELECT 1", "metricKey": "enrolments", "format": "CSV"}})
	require.Equal(t, "BAD_USER_INPUT", res.code())
	assert.Equal(t, "input", res.Errors[0].Extensions["field"])

	res = h.query(h.token("tenant-a", auth.RoleAnalyst), `mutation($id: ID!) { cancelExport(id: $id) { status } }`, map[string]any{"id": job.ID})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"status":"CANCELLED"}`, string(res.Data["cancelExport"]))
}

// runExport runs the export task just queued, as the worker would, and
// returns its file (the job must succeed).
func (h *harness) runExport(tenant, id string) []byte {
	h.t.Helper()
	ctx := context.Background()
	task := h.exportJobs.Last()
	taskID, params, err := jobs.TaskID(task)
	require.NoError(h.t, err)
	require.NoError(h.t, h.exports.Runner().ProcessJob(ctx, jobs.Job{ID: taskID, Kind: task.Kind, Tenant: task.Tenant, Params: params, MaxRetry: 3}))
	j, err := h.exports.Get(auth.WithPrincipal(ctx, auth.Principal{Subject: "u-" + tenant, Tenant: tenant, Roles: []auth.Role{auth.RoleAnalyst}}), id)
	require.NoError(h.t, err)
	require.Equal(h.t, exports.StatusSucceeded, j.Status, "error: %s", j.Error)
	r, err := h.blobs.Open(ctx, j.ObjectKey)
	require.NoError(h.t, err)
	defer r.Close()
	b, err := io.ReadAll(r)
	require.NoError(h.t, err)
	return b
}

func TestMetricExportCohortsOverGraphQL(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	cohort := h.enrolmentCohort()

	mutation := `mutation($in: ExportInput!) { exportQuery(input: $in) { id status source } }`
	in := func(field string, value any) map[string]any {
		return map[string]any{"in": map[string]any{"metricKey": "enrolments", "metricTimeRange": map[string]any{"last": "7d"},
			"metricGrain": "NONE", "format": "CSV", field: value}}
	}
	res := h.query(h.token("tenant-a", auth.RoleAnalyst), mutation, in("metricCohortBreakdown", cohort))
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var job struct{ ID, Status, Source string }
	require.NoError(t, json.Unmarshal(res.Data["exportQuery"], &job))
	assert.Equal(t, "QUEUED", job.Status)
	assert.Equal(t, "METRIC", job.Source)
	recs, err := csv.NewReader(bytes.NewReader(h.runExport("tenant-a", job.ID))).ReadAll()
	require.NoError(t, err)

	res = h.query(h.token("tenant-a", auth.RoleViewer), `query($b: ID) { metricQuery(key: "enrolments", timeRange: {last: "7d"}, grain: NONE, cohortBreakdown: $b) {
		dimensions series { values total { value } } } }`, map[string]any{"b": cohort})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var mq struct {
		Dimensions []string
		Series     []struct {
			Values []string
			Total  struct{ Value float64 }
		}
	}
	require.NoError(t, json.Unmarshal(res.Data["metricQuery"], &mq))
	require.Equal(t, []string{"cohort"}, mq.Dimensions)
	want := map[string]string{}
	for _, s := range mq.Series {
		want[s.Values[0]] = strconv.FormatFloat(s.Total.Value, 'g', -1, 64)
	}
	require.Equal(t, map[string]string{"in cohort": "2", "not in cohort": "1"}, want, "user-1's two enrolments, user-2's one")
	require.NotEmpty(t, recs)
	assert.Equal(t, []string{"cohort", "bucket", "value"}, recs[0])
	got := map[string]string{}
	for _, r := range recs[1:] {
		got[r[0]] = r[2]
	}
	assert.Equal(t, want, got, "the file has metricQuery's values")

	res = h.query(h.token("tenant-b", auth.RoleAnalyst), mutation, in("metricCohortBreakdown", cohort))
	require.Equal(t, "NOT_FOUND", res.code(), "tenant B cannot export by tenant A's cohort")
	assert.Equal(t, "metricCohortBreakdown", res.Errors[0].Extensions["field"])
	res = h.query(h.token("tenant-b", auth.RoleAnalyst), mutation, in("metricCohorts", []any{map[string]any{"id": cohort, "member": false}}))
	require.Equal(t, "NOT_FOUND", res.code())
	assert.Equal(t, "metricCohorts[0].id", res.Errors[0].Extensions["field"])
}
