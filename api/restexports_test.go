package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/api"
	"github.com/learnhub/analytics-service/platform/auth"
)

// restResponse is one answer of a REST route.
type restResponse struct {
	status int
	header http.Header
	body   []byte
}

func (r restResponse) errorBody(t *testing.T) (code, message, field string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message, Field string } `json:"error"`
	}
	require.NoError(t, json.Unmarshal(r.body, &e), string(r.body))
	return e.Error.Code, e.Error.Message, e.Error.Field
}

// rest calls a REST route with an optional bearer token and a raw body.
func (h *harness) rest(method, path, token, body string) restResponse {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, strings.NewReader(body))
	require.NoError(h.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(h.t, err)
	return restResponse{status: res.StatusCode, header: res.Header, body: b}
}

func TestRESTExportFlow(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.insertEvents("tenant-a", event{"a1", "user.login", time.Now().UTC().Add(-time.Hour)})
	analyst := h.token("tenant-a", auth.RoleAnalyst)
	body := `{"events":{"timeRange":{"last":"1d"}},"format":"CSV","fileName":"logins"}`

	res := h.rest(http.MethodPost, "/v1/exports", analyst, body)
	require.Equal(t, http.StatusCreated, res.status, string(res.body))
	var job struct {
		ID, Status, FileName, Source string
		Rows                         int64
		URL                          *string
	}
	require.NoError(t, json.Unmarshal(res.body, &job))
	assert.Equal(t, "QUEUED", job.Status)
	assert.Equal(t, "logins.csv", job.FileName)
	assert.Equal(t, "EVENTS", job.Source)
	assert.Nil(t, job.URL)
	assert.Equal(t, "/v1/exports/"+job.ID, res.header.Get("Location"))

	res = h.rest(http.MethodGet, "/v1/exports/"+job.ID, analyst, "")
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	require.NoError(t, json.Unmarshal(res.body, &job))
	assert.Equal(t, "QUEUED", job.Status)

	file := h.runExport("tenant-a", job.ID)
	res = h.rest(http.MethodGet, "/v1/exports/"+job.ID, analyst, "")
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	require.NoError(t, json.Unmarshal(res.body, &job))
	assert.Equal(t, "SUCCEEDED", job.Status)
	assert.Equal(t, int64(1), job.Rows, "one login exported")
	require.NotNil(t, job.URL, "a finished export has a signed URL")
	assert.Contains(t, *job.URL, "http://localhost/blobs")
	assert.True(t, bytes.Contains(file, []byte("a1")))

	t.Run("tenant B gets 404 for A's export", func(t *testing.T) {
		res := h.rest(http.MethodGet, "/v1/exports/"+job.ID, h.token("tenant-b", auth.RoleAdmin), "")
		require.Equal(t, http.StatusNotFound, res.status, string(res.body))
		code, _, field := res.errorBody(t)
		assert.Equal(t, "NOT_FOUND", code)
		assert.Equal(t, "id", field)
		assert.NotContains(t, string(res.body), "logins")
	})

	refusals := []struct {
		name, method, path, token, body string
		status                          int
		code, field                     string
	}{
		{"no token", http.MethodPost, "/v1/exports", "", body, http.StatusUnauthorized, "UNAUTHENTICATED", ""},
		{"viewer may not export", http.MethodPost, "/v1/exports", h.token("tenant-a", auth.RoleViewer), body, http.StatusForbidden, "FORBIDDEN", ""},
		{"not JSON", http.MethodPost, "/v1/exports", analyst, `format=CSV`, http.StatusBadRequest, "BAD_USER_INPUT", ""},
		{"unknown format", http.MethodPost, "/v1/exports", analyst, `{"sql":"SELECT 1","format":"XLS"}`, http.StatusBadRequest, "BAD_USER_INPUT", ""},
		{"two sources", http.MethodPost, "/v1/exports", analyst, `{"sql":"SELECT 1","metricKey":"enrolments","format":"CSV"}`, http.StatusBadRequest, "BAD_USER_INPUT", "input"},
		{"unknown id", http.MethodGet, "/v1/exports/nope", analyst, "", http.StatusNotFound, "NOT_FOUND", "id"},
		{"get without token", http.MethodGet, "/v1/exports/" + job.ID, "", "", http.StatusUnauthorized, "UNAUTHENTICATED", ""},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			res := h.rest(tc.method, tc.path, tc.token, tc.body)
			require.Equal(t, tc.status, res.status, string(res.body))
			code, msg, field := res.errorBody(t)
			assert.Equal(t, tc.code, code)
			assert.Equal(t, tc.field, field)
			assert.NotEmpty(t, msg)
		})
	}
}

func TestRESTExportRateLimited(t *testing.T) {
	h := newHarness(t, harnessOpts{limits: api.TenantLimits{Rate: 0.001, Burst: 1}})
	analyst := h.token("tenant-a", auth.RoleAnalyst)
	res := h.rest(http.MethodGet, "/v1/exports/nope", analyst, "")
	require.Equal(t, http.StatusNotFound, res.status, "the burst allows one")
	res = h.rest(http.MethodGet, "/v1/exports/nope", analyst, "")
	require.Equal(t, http.StatusTooManyRequests, res.status, string(res.body))
	code, msg, _ := res.errorBody(t)
	assert.Equal(t, "RATE_LIMITED", code)
	assert.NotEmpty(t, res.header.Get("Retry-After"))
	assert.NotEmpty(t, msg)
	res = h.rest(http.MethodGet, "/v1/exports/nope", h.token("tenant-b", auth.RoleAnalyst), "")
	assert.Equal(t, http.StatusNotFound, res.status, "another tenant has its own budget")
}
