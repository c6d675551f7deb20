package api_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/queue"
	"github.com/learnhub/analytics-service/reports"
	"github.com/learnhub/analytics-service/reports/reportstest"
	"github.com/learnhub/analytics-service/store"
)

// reportService is the harness's report service (no mailer: email
// deliveries are refused).
func reportService(t *testing.T, db *store.DB, blobs blob.Store, q *queue.Client, b *bus.Bus, d *dashboards.Service, m *metrics.Querier) *reports.Service {
	t.Helper()
	svc, err := reports.NewService(reports.Deps{DB: db, Blobs: blobs, Jobs: q, Bus: b, Dashboards: d, Metrics: m,
		Resolver: reportstest.NewResolver(map[string][]string{"hooks.example.com": {"93.184.215.14"}})}, reports.Config{})
	require.NoError(t, err)
	return svc
}

func TestReportsThroughGraphQL(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	create := `mutation($in: ReportInput!) { createReport(input: $in) { id name dashboard cron preset timezone format enabled owner version nextRunAt
		deliveries { kind to url } } }`
	in := map[string]any{"in": map[string]any{
		"name":       "Weekly progress",
		"source":     map[string]any{"dashboard": "learner-progress", "timeRange": map[string]any{"last": "7d"}},
		"schedule":   map[string]any{"preset": "WEEKLY", "timezone": "Europe/Berlin"},
		"format":     "PDF",
		"deliveries": []any{map[string]any{"kind": "WEBHOOK", "url": "https://hooks.example.com/r", "secret": "0123456789abcdef"}},
	}}
	res := h.query(h.token("tenant-a", auth.RoleViewer), create, in)
	assert.Equal(t, "FORBIDDEN", res.code(), "viewers read reports; admins define them")

	res = h.query(h.token("tenant-a", auth.RoleAdmin), create, in)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var rep struct {
		ID         string `json:"id"`
		Cron       string `json:"cron"`
		Preset     string `json:"preset"`
		Version    int    `json:"version"`
		NextRunAt  string `json:"nextRunAt"`
		Deliveries []struct {
			Kind string `json:"kind"`
			URL  string `json:"url"`
		} `json:"deliveries"`
	}
	require.NoError(t, json.Unmarshal(res.Data["createReport"], &rep))
	assert.Equal(t, "0 6 * * 1", rep.Cron)
	assert.Equal(t, "WEEKLY", rep.Preset)
	assert.NotEmpty(t, rep.NextRunAt)
	assert.Equal(t, "https://hooks.example.com/r", rep.Deliveries[0].URL)
	assert.NotContains(t, string(res.Data["createReport"]), "0123456789abcdef", "the secret is write-only")

	res = h.query(h.token("tenant-a", auth.RoleAdmin), `mutation($id: ID!) { runReportNow(id: $id) { id status trigger fileName deliveries { kind } } }`,
		map[string]any{"id": rep.ID})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.Contains(t, string(res.Data["runReportNow"]), `"status":"QUEUED","trigger":"MANUAL"`)

	runs := `query($id: ID!) { reportRuns(reportId: $id) { nodes { status trigger } pageInfo { hasNextPage } } }`
	res = h.query(h.token("tenant-a", auth.RoleViewer), runs, map[string]any{"id": rep.ID})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"nodes":[{"status":"QUEUED","trigger":"MANUAL"}],"pageInfo":{"hasNextPage":false}}`, string(res.Data["reportRuns"]))

	// tenant B sees nothing of tenant A's report and cannot run it
	get := `query($id: ID!) { report(id: $id) { id } }`
	res = h.query(h.token("tenant-b", auth.RoleAdmin), get, map[string]any{"id": rep.ID})
	require.Empty(t, res.Errors)
	assert.JSONEq(t, `null`, string(res.Data["report"]))
	res = h.query(h.token("tenant-b", auth.RoleAdmin), `mutation($id: ID!) { runReportNow(id: $id) { id } }`, map[string]any{"id": rep.ID})
	assert.Equal(t, "NOT_FOUND", res.code())
	res = h.query(h.token("tenant-b", auth.RoleAdmin), runs, map[string]any{"id": rep.ID})
	assert.Equal(t, "NOT_FOUND", res.code())
	res = h.query(h.token("tenant-b", auth.RoleViewer), `{ reports { nodes { id } } }`, nil)
	require.Empty(t, res.Errors)
	assert.JSONEq(t, `{"nodes":[]}`, string(res.Data["reports"]))

	res = h.query(h.token("tenant-a", auth.RoleAdmin), `mutation($id: ID!, $v: Int!) { deleteReport(id: $id, expectedVersion: $v) }`,
		map[string]any{"id": rep.ID, "v": rep.Version + 1})
	assert.Equal(t, "CONFLICT", res.code())

	in["in"].(map[string]any)["deliveries"] = []any{map[string]any{"kind": "EMAIL", "to": []string{"a@b.test"}}}
	res = h.query(h.token("tenant-a", auth.RoleAdmin), create, in)
	require.Equal(t, "BAD_USER_INPUT", res.code())
	assert.Contains(t, res.Errors[0].Message, "ANALYTICS_SMTP_ADDR")
}
