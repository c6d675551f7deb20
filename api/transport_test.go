package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/api"
	"github.com/learnhub/analytics-service/platform/auth"
)

// TestGraphQLOverHTTPStatuses pins the GraphQL-over-HTTP answers: request
// errors are 200 with errors for application/json clients and 4xx without
// a data entry for application/graphql-response+json ones; malformed
// requests are 4xx with code BAD_REQUEST and a message saying what to send.
func TestGraphQLOverHTTPStatuses(t *testing.T) {
	e := newEdge(t, edgeOpts{graphql: func(c *api.GraphQLConfig) { c.MaxBodyBytes = 4096 }})
	auth := "Bearer " + e.token("demo", auth.RoleViewer)
	const gqlResp = "application/graphql-response+json"
	for _, tc := range []struct {
		name        string
		method      string
		path        string
		contentType string
		accept      string
		body        string
		status      int
		code        string
		message     string // a substring of the first error's message
		data        bool   // whether the body has a data entry
	}{
		{"ok json", "POST", "/graphql", "application/json", "application/json", `{"query":"{ viewer { tenant } }"}`, 200, "", "", true},
		{"ok graphql-response", "POST", "/graphql", "application/json", gqlResp, `{"query":"{ viewer { tenant } }"}`, 200, "", "", true},
		{"parse error json", "POST", "/graphql", "application/json", "application/json", `{"query":"{"}`, 200, "GRAPHQL_PARSE_FAILED", "", false},
		{"parse error graphql-response", "POST", "/graphql", "application/json", gqlResp, `{"query":"{"}`, 400, "GRAPHQL_PARSE_FAILED", "", false},
		{"validation error json", "POST", "/graphql", "application/json", "application/json", `{"query":"{ nope }"}`, 200, "GRAPHQL_VALIDATION_FAILED", "", false},
		{"validation error graphql-response", "POST", "/graphql", "application/json", gqlResp, `{"query":"{ nope }"}`, 400, "GRAPHQL_VALIDATION_FAILED", "", false},
		{"coercion error json", "POST", "/graphql", "application/json", "application/json",
			`{"query":"query($id: ID!) { viewer { tenant } }","variables":{"id":null}}`, 200, "GRAPHQL_VALIDATION_FAILED", "", false},
		{"coercion error graphql-response", "POST", "/graphql", "application/json", gqlResp,
			`{"query":"query($id: ID!) { viewer { tenant } }","variables":{"id":null}}`, 400, "GRAPHQL_VALIDATION_FAILED", "", false},
		{"no accept", "POST", "/graphql", "application/json", "", `{"query":"{ nope }"}`, 200, "GRAPHQL_VALIDATION_FAILED", "", false},
		{"malformed json", "POST", "/graphql", "application/json", "application/json", `{"query":`, 400, "BAD_REQUEST", "not a GraphQL request", false},
		{"malformed json has no echo", "POST", "/graphql", "application/json", gqlResp, `{"query": "{ viewer }", oops-secret}`, 400, "BAD_REQUEST", "invalid JSON at byte", false},
		{"query not a string", "POST", "/graphql", "application/json", "application/json", `{"query": 42}`, 400, "BAD_REQUEST", `"query" must not be a JSON number`, false},
		{"batch", "POST", "/graphql", "application/json", "application/json", `[{"query":"{ viewer { tenant } }"}]`, 400, "BAD_REQUEST", "batched operations are not supported", false},
		{"no query", "POST", "/graphql", "application/json", "application/json", `{"qeury":"{ viewer { tenant } }"}`, 400, "BAD_REQUEST", `the request has no "query"`, false},
		{"get no query", "GET", "/graphql", "", "application/json", "", 400, "BAD_REQUEST", `the request has no "query"`, false},
		{"two values", "POST", "/graphql", "application/json", "application/json", `{"query":"{ viewer { tenant } }"} {}`, 400, "BAD_REQUEST", "more than one JSON value", false},
		{"no content type", "POST", "/graphql", "", "application/json", `{"query":"{ viewer { tenant } }"}`, 415, "BAD_REQUEST", "send Content-Type: application/json", false},
		{"text content type", "POST", "/graphql", "text/plain", "application/json", `{"query":"{ viewer { tenant } }"}`, 415, "BAD_REQUEST", "", false},
		{"unacceptable", "POST", "/graphql", "application/json", "text/html", `{"query":"{ viewer { tenant } }"}`, 406, "BAD_REQUEST", "accept application/graphql-response+json", false},
		{"body over the limit", "POST", "/graphql", "application/json", "application/json",
			`{"query":"{ viewer { tenant } }","variables":{"s":"` + strings.Repeat("x", 5000) + `"}}`, 413, "BAD_REQUEST", "request body exceeds 4096 bytes", false},
		{"put", "PUT", "/graphql", "application/json", "application/json", `{"query":"{ viewer { tenant } }"}`, 405, "BAD_REQUEST", "method PUT", false},
		{"get ok", "GET", "/graphql?query=" + url.QueryEscape("{ viewer { tenant } }"), "", "application/json", "", 200, "", "", true},
		{"get parse error graphql-response", "GET", "/graphql?query=%7B", "", gqlResp, "", 400, "GRAPHQL_PARSE_FAILED", "", false},
		{"get mutation", "GET", "/graphql?query=" + url.QueryEscape(`mutation { deleteCohort(id: "x", expectedVersion: 1) }`), "", "application/json", "", 405, "BAD_REQUEST", "POST it", false},
		{"get bad variables", "GET", "/graphql?query=%7B__typename%7D&variables=%5B", "", "application/json", "", 400, "BAD_REQUEST", `"variables" must be a JSON object`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{"Authorization": auth}
			if tc.contentType != "" {
				h["Content-Type"] = tc.contentType
			}
			if tc.accept != "" {
				h["Accept"] = tc.accept
			}
			res, err := e.do(tc.method, tc.path, tc.body, h, 10*time.Second)
			require.NoError(t, err)
			assert.Equal(t, tc.status, res.status, res.body)
			var raw map[string]json.RawMessage
			require.NoError(t, json.Unmarshal([]byte(res.body), &raw), res.body)
			_, hasData := raw["data"]
			assert.Equal(t, tc.data, hasData, "data entry in %s", res.body)
			var gr gqlResponse
			require.NoError(t, json.Unmarshal([]byte(res.body), &gr))
			assert.Equal(t, tc.code, gr.code(), res.body)
			if tc.message != "" {
				require.NotEmpty(t, gr.Errors)
				assert.Contains(t, gr.Errors[0].Message, tc.message)
			}
			assert.NotContains(t, res.body, "oops-secret", "the body is not echoed")
			if tc.accept == gqlResp && tc.status != http.StatusNotAcceptable {
				assert.Contains(t, res.contentType, gqlResp)
			}
		})
	}
	assert.NotContains(t, e.logs.String(), `"level":"ERROR"`, "client mistakes are not our errors")
	assert.Contains(t, e.logs.String(), `"msg":"graphql request refused"`)
}

// TestDefaultBodyLimit: without configuration a body over 1 MiB is refused
// with 413 before it is parsed.
func TestDefaultBodyLimit(t *testing.T) {
	e := newEdge(t, edgeOpts{})
	body := `{"query":"{ viewer { tenant } }","variables":{"s":"` + strings.Repeat("x", api.DefaultMaxBodyBytes) + `"}}`
	res := e.postJSON(e.token("demo", auth.RoleViewer), body)
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.status, res.body)
	assert.Contains(t, res.body, "request body exceeds 1048576 bytes")
}

// TestInputLimits: list and string arguments beyond the limits are refused
// with BAD_USER_INPUT naming the argument, whether inline or in variables.
func TestInputLimits(t *testing.T) {
	e := newEdge(t, edgeOpts{graphql: func(c *api.GraphQLConfig) { c.MaxListLength = 3; c.MaxStringBytes = 10 }})
	tok := e.token("demo", auth.RoleAdmin)
	for _, tc := range []struct {
		name    string
		body    map[string]any
		field   string
		message string
	}{
		{"inline string", map[string]any{"query": `{ eventsQuery(sql: "SELECT 1 FROM events") { rows } }`},
			"sql", `argument "sql" of eventsQuery: sql is 20 bytes long; at most 10 are accepted`},
		{"string variable", map[string]any{"query": `query($s: String!) { eventsQuery(sql: $s) { rows } }`, "variables": map[string]any{"s": strings.Repeat("y", 11)}},
			"sql", "sql is 11 bytes long"},
		{"list variable", map[string]any{"query": `query($d: [String!]) { metricQuery(key: "k", timeRange: {last: "1d"}, dimensions: $d) { path } }`,
			"variables": map[string]any{"d": []any{"a", "b", "c", "d"}}},
			"dimensions", `argument "dimensions" of metricQuery: dimensions has 4 elements; at most 3 are accepted, split the request`},
		{"nested list in input", map[string]any{
			"query":     `query($f: [MetricFilterInput!]) { metricQuery(key: "k", timeRange: {last: "1d"}, filters: $f) { path } }`,
			"variables": map[string]any{"f": []any{map[string]any{"dimension": "a", "op": "IN", "values": []any{"1", "2", "3", "4"}}}}},
			"filters", "filters[0].values has 4 elements; at most 3 are accepted"},
		{"fragment", map[string]any{"query": `query { ...Q } fragment Q on Query { eventsQuery(sql: "SELECT 1 FROM events") { rows } }`},
			"sql", "sql is 20 bytes long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := json.Marshal(tc.body)
			require.NoError(t, err)
			res := e.postJSON(tok, string(raw))
			var gr gqlResponse
			require.NoError(t, json.Unmarshal([]byte(res.body), &gr), res.body)
			require.Equal(t, "BAD_USER_INPUT", gr.code(), res.body)
			assert.Equal(t, tc.field, gr.Errors[0].Extensions["field"])
			assert.Contains(t, gr.Errors[0].Message, tc.message)
		})
	}
}

// TestIntrospectionIsForbiddenToNonAdmins: the README promises FORBIDDEN,
// not INTERNAL, and no ERROR line.
func TestIntrospectionIsForbiddenToNonAdmins(t *testing.T) {
	e := newEdge(t, edgeOpts{})
	for name, q := range map[string]string{
		"schema":   `{ __schema { queryType { name } } }`,
		"type":     `{ __type(name: "Query") { name } }`,
		"fragment": `query { ...I } fragment I on Query { __schema { queryType { name } } }`,
	} {
		for _, tok := range []string{e.token("demo", auth.RoleViewer), e.token("demo", auth.RoleAnalyst), ""} {
			t.Run(name, func(t *testing.T) {
				raw, _ := json.Marshal(map[string]any{"query": q})
				res := e.postJSON(tok, string(raw))
				var gr gqlResponse
				require.NoError(t, json.Unmarshal([]byte(res.body), &gr), res.body)
				assert.Equal(t, "FORBIDDEN", gr.code(), res.body)
				assert.Contains(t, gr.Errors[0].Message, "introspection")
			})
		}
	}
	raw, _ := json.Marshal(map[string]any{"query": `{ __typename viewer { __typename tenant } }`})
	res := e.postJSON(e.token("demo", auth.RoleViewer), string(raw))
	assert.JSONEq(t, `{"data":{"__typename":"Query","viewer":{"__typename":"Viewer","tenant":"demo"}}}`, res.body)
	assert.NotContains(t, e.logs.String(), `"level":"ERROR"`)
}

// TestClientErrorsAreLoggedAtInfo: a refusal of the caller (here FORBIDDEN
// from @hasRole) is an INFO line with its code, never an ERROR.
func TestClientErrorsAreLoggedAtInfo(t *testing.T) {
	e := newEdge(t, edgeOpts{})
	res := e.postJSON(e.token("demo", auth.RoleViewer), `{"query":"{ serverInfo { version } }"}`)
	var gr gqlResponse
	require.NoError(t, json.Unmarshal([]byte(res.body), &gr), res.body)
	require.Equal(t, "FORBIDDEN", gr.code())
	logs := e.logs.String()
	assert.Contains(t, logs, `"level":"INFO","msg":"client error","code":"FORBIDDEN"`)
	assert.NotContains(t, logs, `"level":"ERROR"`)
}
