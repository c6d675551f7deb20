package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/api"
	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/telemetry"
	"github.com/learnhub/analytics-service/store"
)

// ingestRoutes is POST /v1/events as cmd/analyticsd wires it.
func ingestRoutes(b *bus.Bus, db *store.DB) map[string]http.Handler {
	js := b.JetStream()
	return map[string]http.Handler{"POST /v1/events": ingest.HTTPHandler(ingest.NewPublisher(js),
		ingest.NewDecoder(ingest.DecoderConfig{}), ingest.NewDeadLetterWriter(js, db, nil), ingest.HTTPConfig{})}
}

// ensureFirehose creates the events stream POST /v1/events publishes to.
func (h *harness) ensureFirehose() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := ingest.EnsureStream(ctx, h.bus.JetStream(), ingest.StreamConfig{})
	require.NoError(h.t, err)
}

// openAPIDoc is the parts of the served document the test walks.
type openAPIDoc struct {
	OpenAPI string                                 `json:"openapi"`
	Paths   map[string]map[string]openAPIOperation `json:"paths"`
}

type openAPIOperation struct {
	Responses map[string]struct {
		Ref string `json:"$ref"`
	} `json:"responses"`
}

// responseSchema is the JSON pointer of the application/json schema of an
// operation's response, following a components/responses $ref.
func (d openAPIDoc) responseSchema(path, method string, status int) (string, bool) {
	r, ok := d.Paths[path][method].Responses[strconv.Itoa(status)]
	if !ok {
		return "", false
	}
	base := "/paths/" + strings.ReplaceAll(strings.ReplaceAll(path, "~", "~0"), "/", "~1") + "/" + method + "/responses/" + strconv.Itoa(status)
	if r.Ref != "" {
		base = strings.TrimPrefix(r.Ref, "#")
	}
	return base + "/content/application~1json/schema", true
}

// TestOpenAPIMatchesRouter checks the document served at /v1/openapi.json
// against the real handlers: every /v1 route of the router is documented,
// and every documented operation answers a valid and an invalid request
// with a documented status and a body its schema accepts.
func TestOpenAPIMatchesRouter(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.ensureFirehose()

	res := h.rest(http.MethodGet, "/v1/openapi.json", "", "")
	require.Equal(t, http.StatusOK, res.status)
	var doc openAPIDoc
	require.NoError(t, json.Unmarshal(res.body, &doc))
	require.Equal(t, "3.1.0", doc.OpenAPI)
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(res.body))
	require.NoError(t, err)
	compiler := jsonschema.NewCompiler()
	compiler.DefaultDraft(jsonschema.Draft2020)
	require.NoError(t, compiler.AddResource("openapi.json", raw))

	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	routes := map[string]bool{}
	for _, p := range api.RoutePatterns(api.RouterConfig{Metrics: telemetry.NewMetrics(), Routes: ingestRoutes(h.bus, h.db)}) {
		method, path, _ := strings.Cut(p, " ")
		if !strings.HasPrefix(path, "/v1/") {
			continue
		}
		routes[method+" "+path] = true
		assert.True(t, documented[method+" "+path], "route %s is not in openapi.json", p)
	}
	for op := range documented {
		assert.True(t, routes[op], "openapi.json documents %s, which the router does not serve", op)
	}

	h.insertEvents("tenant-a", event{"a1", "course.enrolled", time.Now().UTC().Add(-time.Hour)})
	analyst := h.token("tenant-a", auth.RoleAnalyst)
	created := h.rest(http.MethodPost, "/v1/exports", analyst, `{"events":{"timeRange":{"last":"1d"}},"format":"CSV"}`)
	require.Equal(t, http.StatusCreated, created.status, string(created.body))
	at := time.Now().UTC().Format(time.RFC3339)
	cases := []struct {
		op, path, token, body string
		status                int
	}{
		{"POST /v1/events", "/v1/events", h.token("tenant-a", auth.RoleIngest),
			fmt.Sprintf(`[{"id":"o1","type":"user.login","user_id":"u1","occurred_at":%q}]`, at), http.StatusOK},
		{"POST /v1/events", "/v1/events", h.token("tenant-a", auth.RoleIngest),
			fmt.Sprintf(`[{"id":"o2","type":"user.login","user_id":"u1","occurred_at":%q},{"id":"o3"}]`, at), http.StatusMultiStatus},
		{"POST /v1/events", "/v1/events", h.token("tenant-a", auth.RoleIngest), `{"not":"an array"`, http.StatusUnprocessableEntity},
		{"POST /v1/events", "/v1/events", "", `[]`, http.StatusUnauthorized},
		{"POST /v1/events", "/v1/events", h.token("tenant-a", auth.RoleViewer), `[]`, http.StatusForbidden},
		{"GET /v1/dashboards/{idOrSlug}", "/v1/dashboards/learner-progress?last=7d", h.token("tenant-a", auth.RoleViewer), "", http.StatusOK},
		{"GET /v1/dashboards/{idOrSlug}", "/v1/dashboards/learner-progress?last=soon", h.token("tenant-a", auth.RoleViewer), "", http.StatusBadRequest},
		{"GET /v1/dashboards/{idOrSlug}", "/v1/dashboards/nope", h.token("tenant-a", auth.RoleViewer), "", http.StatusNotFound},
		{"GET /v1/dashboards/{idOrSlug}", "/v1/dashboards/learner-progress", "", "", http.StatusUnauthorized},
		{"POST /v1/exports", "/v1/exports", analyst, `{"sql":"SELECT 1","format":"CSV"}`, http.StatusCreated},
		{"POST /v1/exports", "/v1/exports", analyst, `{"format":"CSV"}`, http.StatusBadRequest},
		{"POST /v1/exports", "/v1/exports", h.token("tenant-a", auth.RoleViewer), `{"sql":"SELECT 1","format":"CSV"}`, http.StatusForbidden},
		{"GET /v1/exports/{id}", created.header.Get("Location"), analyst, "", http.StatusOK},
		{"GET /v1/exports/{id}", created.header.Get("Location"), h.token("tenant-b", auth.RoleAnalyst), "", http.StatusNotFound},
		{"GET /v1/exports/{id}", created.header.Get("Location"), "", "", http.StatusUnauthorized},
		{"GET /v1/openapi.json", "/v1/openapi.json", "", "", http.StatusOK},
	}
	tested := map[string]bool{}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s %s %d", tc.op, tc.path, tc.status), func(t *testing.T) {
			method, path, _ := strings.Cut(tc.op, " ")
			res := h.rest(method, tc.path, tc.token, tc.body)
			require.Equal(t, tc.status, res.status, string(res.body))
			ptr, ok := doc.responseSchema(path, strings.ToLower(method), res.status)
			require.True(t, ok, "%s answers %d, which openapi.json does not document", tc.op, res.status)
			schema, err := compiler.Compile("openapi.json#" + ptr)
			require.NoError(t, err)
			body, err := jsonschema.UnmarshalJSON(bytes.NewReader(res.body))
			require.NoError(t, err, string(res.body))
			assert.NoError(t, schema.Validate(body), "%s %d body: %s", tc.op, res.status, res.body)
			tested[tc.op] = true
		})
	}
	for op := range documented {
		assert.True(t, tested[op], "no request exercised %s", op)
	}
	assert.True(t, slices.Contains(api.RoutePatterns(api.RouterConfig{Metrics: telemetry.NewMetrics()}), "GET /v1/openapi.json"))
}
