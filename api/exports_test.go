package api_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
