package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
)

func TestHMACVerifier(t *testing.T) {
	k := loadKeys(t)
	secret := []byte(testSecret)
	hs := func(c jwt.Claims) string { return sign(t, jwt.SigningMethodHS256, secret, "", c) }
	valid := auth.Principal{Subject: "user-1", Tenant: "demo", Roles: []auth.Role{auth.RoleViewer, auth.RoleAnalyst}}

	tests := []struct {
		name    string
		opts    auth.VerifyOptions
		token   string
		want    auth.Principal
		wantErr string
	}{
		{name: "valid", token: hs(claims(t0, nil)), want: valid},
		{
			name:  "duplicate roles collapse",
			token: hs(claims(t0, map[string]any{"roles": []string{"admin", "admin"}})),
			want:  auth.Principal{Subject: "user-1", Tenant: "demo", Roles: []auth.Role{auth.RoleAdmin}},
		},
		{name: "expired within leeway", token: hs(claims(t0, map[string]any{"exp": t0.Add(-20 * time.Second).Unix()})), want: valid},
		{
			name:    "expired",
			token:   hs(claims(t0, map[string]any{"exp": t0.Add(-time.Hour).Unix()})),
			wantErr: "token expired at 2026-03-04T11:00:00Z; request a new one",
		},
		{
			name:    "expired beyond a custom leeway",
			opts:    auth.VerifyOptions{Leeway: 5 * time.Second},
			token:   hs(claims(t0, map[string]any{"exp": t0.Add(-20 * time.Second).Unix()})),
			wantErr: "token expired at 2026-03-04T11:59:40Z; request a new one",
		},
		{
			name:    "no exp",
			token:   hs(claims(t0, map[string]any{"exp": nil})),
			wantErr: "token has no exp claim; this server only accepts tokens that expire",
		},
		{
			name:    "not yet valid",
			token:   hs(claims(t0, map[string]any{"nbf": t0.Add(time.Hour).Unix()})),
			wantErr: "token is not valid before 2026-03-04T13:00:00Z; wait or check the issuer's clock",
		},
		{name: "nbf within leeway", token: hs(claims(t0, map[string]any{"nbf": t0.Add(20 * time.Second).Unix()})), want: valid},
		{
			name:    "issued in the future",
			token:   hs(claims(t0, map[string]any{"iat": t0.Add(time.Hour).Unix()})),
			wantErr: "token was issued in the future (iat 2026-03-04T13:00:00Z); check the issuer's clock",
		},
		{
			name:    "bad signature",
			token:   sign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), "", claims(t0, nil)),
			wantErr: "token signature is invalid",
		},
		{
			name:    "tampered payload",
			token:   tamper(t, hs(claims(t0, nil)), claims(t0, map[string]any{"tenant": "other"})),
			wantErr: "token signature is invalid",
		},
		{
			name:    "alg none",
			token:   sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims(t0, nil)),
			wantErr: "signing algorithm none is not accepted here; use HS256",
		},
		{
			name:    "RS256 signed",
			token:   sign(t, jwt.SigningMethodRS256, k.rsa, "k1", claims(t0, nil)),
			wantErr: "signing algorithm RS256 is not accepted here; use HS256",
		},
		{
			name:    "HS512 with the right secret",
			token:   sign(t, jwt.SigningMethodHS512, secret, "", claims(t0, nil)),
			wantErr: "signing algorithm HS512 is not accepted here; use HS256",
		},
		{name: "no sub", token: hs(claims(t0, map[string]any{"sub": nil})), wantErr: "token has no sub claim"},
		{name: "missing tenant", token: hs(claims(t0, map[string]any{"tenant": nil})), wantErr: "token has no tenant claim"},
		{
			name:    "bad tenant chars",
			token:   hs(claims(t0, map[string]any{"tenant": "de mo;"})),
			wantErr: `token tenant "de mo;" must be 1-64 of a-z, 0-9, _ and -, starting with a letter or digit, and not "dlq"`,
		},
		{
			// Ingest refuses upper case and the dead letters' prefix: a token
			// for such a tenant could never hold data.
			name:    "upper-case tenant",
			token:   hs(claims(t0, map[string]any{"tenant": "Acme"})),
			wantErr: `token tenant "Acme" must be 1-64 of a-z, 0-9, _ and -, starting with a letter or digit, and not "dlq"`,
		},
		{
			name:    "reserved tenant",
			token:   hs(claims(t0, map[string]any{"tenant": "dlq"})),
			wantErr: `token tenant "dlq" is reserved (dead letters); use another id`,
		},
		{
			// Go keeps the last duplicate, other parsers the first: a token
			// must not mean two things.
			name:    "duplicate tenant claim",
			token:   hs256Raw(secret, `{"alg":"HS256","typ":"JWT"}`, payloadJSON(`"tenant":"acme"`)),
			wantErr: "token payload names tenant more than once; issue a token with each claim once",
		},
		{
			name:    "duplicate roles claim",
			token:   hs256Raw(secret, `{"alg":"HS256","typ":"JWT"}`, payloadJSON(`"roles":["admin"]`)),
			wantErr: "token payload names roles more than once; issue a token with each claim once",
		},
		{
			name:    "duplicate header member",
			token:   hs256Raw(secret, `{"alg":"HS256","typ":"JWT","alg":"HS256"}`, payloadJSON("")),
			wantErr: "token header names alg more than once; issue a token with each claim once",
		},
		{
			name:  "raw payload without duplicates",
			token: hs256Raw(secret, `{"alg":"HS256","typ":"JWT"}`, payloadJSON(`"x":{"a":1,"b":[1,{"a":2}]}`)),
			want:  auth.Principal{Subject: "user-1", Tenant: "demo", Roles: []auth.Role{auth.RoleViewer}},
		},
		{
			name:    "tenant too long",
			token:   hs(claims(t0, map[string]any{"tenant": strings.Repeat("a", 65)})),
			wantErr: "token tenant is 65 characters long; the limit is 64",
		},
		{name: "tenant at the limit", token: hs(claims(t0, map[string]any{"tenant": strings.Repeat("a", 64)})),
			want: auth.Principal{Subject: "user-1", Tenant: strings.Repeat("a", 64), Roles: valid.Roles}},
		{
			name:    "unknown role",
			token:   hs(claims(t0, map[string]any{"roles": []string{"viewer", "x"}})),
			wantErr: `unknown role "x"; allowed: viewer, analyst, admin, ingest`,
		},
		{
			name:    "no roles",
			token:   hs(claims(t0, map[string]any{"roles": []string{}})),
			wantErr: "token has no roles claim; include at least one of: viewer, analyst, admin, ingest",
		},
		{
			name:    "roles neither an array nor a string",
			token:   hs(claims(t0, map[string]any{"roles": 42})),
			wantErr: `token claim "roles" must be an array of role strings`,
		},
		{
			name:    "not a JWT",
			token:   "not-a-token",
			wantErr: "token is malformed: expected a JWT of three base64url segments separated by dots",
		},
		{
			name:  "issuer matches",
			opts:  auth.VerifyOptions{Issuer: "https://id.example"},
			token: hs(claims(t0, map[string]any{"iss": "https://id.example"})),
			want:  valid,
		},
		{
			name:    "issuer differs",
			opts:    auth.VerifyOptions{Issuer: "https://id.example"},
			token:   hs(claims(t0, map[string]any{"iss": "https://evil.example"})),
			wantErr: `token issuer "https://evil.example" is not accepted; expected "https://id.example"`,
		},
		{
			name:    "issuer missing",
			opts:    auth.VerifyOptions{Issuer: "https://id.example"},
			token:   hs(claims(t0, nil)),
			wantErr: `token has no iss claim; expected "https://id.example"`,
		},
		{
			name:  "audience among several",
			opts:  auth.VerifyOptions{Audience: "analytics"},
			token: hs(claims(t0, map[string]any{"aud": []string{"billing", "analytics"}})),
			want:  valid,
		},
		{
			name:    "audience missing",
			opts:    auth.VerifyOptions{Audience: "analytics"},
			token:   hs(claims(t0, map[string]any{"aud": "billing"})),
			wantErr: `token audience does not include "analytics"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Now = func() time.Time { return t0 }
			v, err := auth.NewHMACVerifier(secret, opts)
			require.NoError(t, err)
			got, err := v.Verify(context.Background(), tc.token)
			if tc.wantErr != "" {
				assertUnauthenticated(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestNewHMACVerifierRejectsShortSecret(t *testing.T) {
	_, err := auth.NewHMACVerifier([]byte("short"), auth.VerifyOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "HS256 secret is 5 bytes; use at least 32")
	_, err = auth.NewHMACSigner([]byte("short"))
	require.Error(t, err)
}

func TestHMACSigner(t *testing.T) {
	s, err := auth.NewHMACSigner([]byte(testSecret))
	require.NoError(t, err)
	p := auth.Principal{Subject: "dev", Tenant: "demo", Roles: []auth.Role{auth.RoleAdmin}}
	raw, err := s.Sign(p, time.Hour)
	require.NoError(t, err)

	t.Run("round trip", func(t *testing.T) {
		v, err := auth.NewHMACVerifier([]byte(testSecret), auth.VerifyOptions{})
		require.NoError(t, err)
		got, err := v.Verify(context.Background(), raw)
		require.NoError(t, err)
		assert.Equal(t, p, got)
	})
	t.Run("expires after ttl", func(t *testing.T) {
		later := time.Now().Add(time.Hour + time.Minute)
		v, err := auth.NewHMACVerifier([]byte(testSecret), auth.VerifyOptions{Now: func() time.Time { return later }})
		require.NoError(t, err)
		_, err = v.Verify(context.Background(), raw)
		require.Error(t, err)
		assert.Contains(t, errs.PublicMessage(err), "token expired at ")
	})

	bad := []struct {
		name    string
		p       auth.Principal
		ttl     time.Duration
		wantErr string
	}{
		{"no subject", auth.Principal{Tenant: "demo", Roles: p.Roles}, time.Hour, "principal has no subject; name the user or service the token is for"},
		{"bad tenant", auth.Principal{Subject: "a", Tenant: "a/b", Roles: p.Roles}, time.Hour, `tenant "a/b" must be 1-64 of a-z, 0-9, _ and -, starting with a letter or digit, and not "dlq"`},
		{"reserved tenant", auth.Principal{Subject: "a", Tenant: "dlq", Roles: p.Roles}, time.Hour, `tenant "dlq" is reserved (dead letters); use another id`},
		{"no roles", auth.Principal{Subject: "a", Tenant: "demo"}, time.Hour, "principal has no roles; give at least one of: viewer, analyst, admin, ingest"},
		{"unknown role", auth.Principal{Subject: "a", Tenant: "demo", Roles: []auth.Role{"root"}}, time.Hour, `unknown role "root"; allowed: viewer, analyst, admin, ingest`},
		{"zero ttl", p, 0, "token lifetime 0s must be positive, e.g. 24h"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Sign(tc.p, tc.ttl)
			require.Error(t, err)
			assert.Equal(t, errs.KindInvalid, errs.KindOf(err))
			assert.Equal(t, tc.wantErr, errs.PublicMessage(err))
		})
	}
}

// tamper replaces raw's payload with c, keeping header and signature.
func tamper(t *testing.T, raw string, c jwt.MapClaims) string {
	t.Helper()
	forged := sign(t, jwt.SigningMethodHS256, []byte("x"), "", c)
	parts, forgedParts := strings.Split(raw, "."), strings.Split(forged, ".")
	return parts[0] + "." + forgedParts[1] + "." + parts[2]
}
