package auth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
)

// seen is what the handler behind the middleware observed.
type seen struct {
	Tenant  string `json:"tenant"`
	Subject string `json:"subject"`
	Err     string `json:"err"`
}

func TestMiddleware(t *testing.T) {
	s, err := auth.NewHMACSigner([]byte(testSecret))
	require.NoError(t, err)
	v, err := auth.NewHMACVerifier([]byte(testSecret), auth.VerifyOptions{})
	require.NoError(t, err)
	valid, err := s.Sign(auth.Principal{Subject: "u1", Tenant: "acme", Roles: []auth.Role{auth.RoleViewer}}, time.Hour)
	require.NoError(t, err)

	srv := httptest.NewServer(auth.Middleware(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var out seen
		if p, ok := auth.PrincipalFrom(r.Context()); ok {
			out.Tenant, out.Subject = p.Tenant, p.Subject
		}
		if err := auth.ErrorFrom(r.Context()); err != nil {
			out.Err = errs.PublicMessage(err)
		}
		_ = json.NewEncoder(w).Encode(out)
	})))
	t.Cleanup(srv.Close)

	tests := []struct {
		name    string
		headers []string
		want    seen
	}{
		{name: "anonymous", want: seen{}},
		{name: "valid", headers: []string{"Bearer " + valid}, want: seen{Tenant: "acme", Subject: "u1"}},
		{name: "lower-case scheme", headers: []string{"bearer " + valid}, want: seen{Tenant: "acme", Subject: "u1"}},
		{
			name:    "invalid token continues anonymous with the reason",
			headers: []string{"Bearer " + valid + "x"},
			want:    seen{Err: "token signature is invalid"},
		},
		{name: "other scheme", headers: []string{"Basic dXNlcjpwYXNz"}, want: seen{Err: `Authorization must be "Bearer <token>"`}},
		{
			name:    "two headers",
			headers: []string{"Bearer " + valid, "Bearer " + valid},
			want:    seen{Err: "send one Authorization header, not several"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
			require.NoError(t, err)
			for _, h := range tc.headers {
				req.Header.Add("Authorization", h)
			}
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer func() { _ = resp.Body.Close() }()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			var got seen
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestBearerFromHeader(t *testing.T) {
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", true},
		{"bearer abc", "abc", true},
		{"BEARER   abc  ", "abc", true},
		{"  Bearer abc", "abc", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Bearerabc", "", false},
		{"Basic abc", "", false},
		{"Bearer a b", "", false},
		{"Bearer a\tb", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.header, func(t *testing.T) {
			got, ok := auth.BearerFromHeader(tc.header)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestAuthenticateEmptyLeavesContextAlone(t *testing.T) {
	v, err := auth.NewHMACVerifier([]byte(testSecret), auth.VerifyOptions{})
	require.NoError(t, err)
	ctx := auth.Authenticate(t.Context(), v, "  ")
	_, ok := auth.PrincipalFrom(ctx)
	assert.False(t, ok)
	assert.NoError(t, auth.ErrorFrom(ctx))
}
