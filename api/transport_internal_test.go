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
