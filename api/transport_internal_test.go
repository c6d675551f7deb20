package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestWriteResponseWritesWhatJSONWould pins the data-only fast path to
// encoding/json's bytes for the same response.
func TestWriteResponseWritesWhatJSONWould(t *testing.T) {
	yes := true
	cases := []struct {
		name string
		resp *graphql.Response
	}{
		{"data", &graphql.Response{Data: json.RawMessage(`{"viewer":{"tenant":"demo"}}`)}},
		{"null data", &graphql.Response{}},
		{"data and errors", &graphql.Response{Data: json.RawMessage(`{"a":null}`), Errors: gqlerror.List{{Message: "boom"}}}},
		{"extensions", &graphql.Response{Data: json.RawMessage(`{}`), Extensions: map[string]any{"cost": 3}}},
		{"deferred part", &graphql.Response{Data: json.RawMessage(`{}`), Label: "l", HasNext: &yes}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(tc.resp)
			require.NoError(t, err)
			rec := httptest.NewRecorder()
			writeResponse(rec, mediaJSON, http.StatusOK, tc.resp, true)
			assert.Equal(t, string(want), rec.Body.String())
			assert.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
		})
	}
}

// TestReadBodyTrustsNoContentLength reads bodies whose announced length is
// right, short, long or absent, and one over the limit.
func TestReadBodyTrustsNoContentLength(t *testing.T) {
	const body = `{"query":"{ viewer { tenant } }"}`
	cases := []struct {
		name     string
		length   int64
		limit    int64
		want     string
		tooLarge bool
	}{
		{"exact", int64(len(body)), 1 << 20, body, false},
		{"announced shorter", 5, 1 << 20, body, false},
		{"announced longer", int64(len(body)) + 100, 1 << 20, body, false},
		{"unknown", -1, 1 << 20, body, false},
		{"over the limit", int64(len(body)), 10, "", true},
		{"over the limit, announced short", 5, 10, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/graphql", io.NopCloser(strings.NewReader(body)))
			r.ContentLength = tc.length
			got, err := readBody(r, tc.limit)
			var tooLarge *http.MaxBytesError
			if tc.tooLarge {
				assert.True(t, errors.As(err, &tooLarge), "err %v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
		})
	}
}

// TestDecodeWithoutVariablesDecodesAsTheDecoder pins the variable-free fast
// path to the json.Decoder path: whatever it takes it decodes alike, and a
// body with variables or extensions (under any spelling), or any JSON
// error, is left to the decoder.
func TestDecodeWithoutVariablesDecodesAsTheDecoder(t *testing.T) {
	cases := []struct {
		name string
		body string
		fast bool // the fast path takes it
	}{
		{"query", `{"query":"{ viewer { tenant } }"}`, true},
		{"query and name", `{"query":"query A { viewer { tenant } }","operationName":"A"}`, true},
		{"null variables", `{"query":"{ viewer { tenant } }","variables":null}`, false},
		{"null variables, other spelling", `{"query":"{ viewer { tenant } }","Variables":null}`, true},
		{"variables, other spelling", `{"query":"query($a: Int) { viewer { tenant } }","VARIABLES":{"a":1}}`, false},
		{"variables, escaped key", `{"query":"query($a: Int) { viewer { tenant } }","variabl\u0065s":{"a":1.50}}`, false},
		{"extensions, other spelling", `{"Extensions":{"persistedQuery":{"version":1,"sha256Hash":"ab"}}}`, false},
		{"variables", `{"query":"query($a: Int) { viewer { tenant } }","variables":{"a":1}}`, false},
		{"duplicate query", `{"query":"a","query":"{ viewer { tenant } }"}`, true},
		{"case-insensitive query", `{"QUERY":"{ viewer { tenant } }"}`, true},
		{"unknown field", `{"query":"{ viewer { tenant } }","x":[1,{"y":2}]}`, true},
		{"null query", `{"query":null}`, true},
		{"invalid UTF-8", "{\"query\":\"{ viewer { tenant \xff } }\"}", true},
		{"trailing space", "{\"query\":\"{ viewer { tenant } }\"} \n", true},
		{"two values", `{"query":"a"} {"query":"b"}`, false},
		{"number query", `{"query":5}`, false},
		{"array", `[{"query":"a"}]`, false},
		{"not JSON", `query { viewer { tenant } }`, false},
		{"empty", ``, false},
		{"truncated", `{"query":"a"`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, wantStatus, wantMsg := decodeParams([]byte(tc.body))
			got, ok := decodeWithoutVariables([]byte(tc.body))
			assert.Equal(t, tc.fast, ok)
			if ok {
				require.Zero(t, wantStatus, wantMsg)
				assert.Equal(t, want, got)
			}
			r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", mediaJSON)
			params, status, msg := httpTransport{maxBody: 1 << 20}.readPOST(r)
			if tc.body != "" && tc.body[0] == '[' {
				return // refused as a batch before decoding
			}
			assert.Equal(t, want, params)
			assert.Equal(t, wantStatus, status)
			assert.Equal(t, wantMsg, msg)
		})
	}
}
