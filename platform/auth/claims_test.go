package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
)

const hasuraNamespace = "https://hasura.io/jwt/claims"

// TestClaimNames: the tenant and roles are read where the deployment says
// (a renamed claim, a claims namespace); a token that carries them where
// this server does not look is refused with a message saying where it
// looks, never read from the other place.
func TestClaimNames(t *testing.T) {
	want := auth.Principal{Subject: "user-1", Tenant: "acme", Roles: []auth.Role{auth.RoleViewer}}
	tests := []struct {
		name    string
		names   auth.ClaimNames
		edits   map[string]any
		wantErr string
	}{
		{
			name:  "renamed tenant and a single-string role",
			names: auth.ClaimNames{Tenant: "org_id", Roles: "role"},
			edits: map[string]any{"tenant": nil, "roles": nil, "org_id": "acme", "role": "viewer"},
		},
		{
			name:  "claims namespace",
			names: auth.ClaimNames{Namespace: hasuraNamespace},
			edits: map[string]any{"tenant": nil, "roles": nil, hasuraNamespace: map[string]any{"tenant": "acme", "roles": []string{"viewer"}}},
		},
		{
			name:  "namespace with renamed claims",
			names: auth.ClaimNames{Namespace: hasuraNamespace, Tenant: "x-hasura-org-id", Roles: "x-hasura-allowed-roles"},
			edits: map[string]any{"tenant": nil, "roles": nil, hasuraNamespace: map[string]any{"x-hasura-org-id": "acme", "x-hasura-allowed-roles": []string{"viewer"}}},
		},
		{
			name:    "tenant in the default claim while org_id is configured",
			names:   auth.ClaimNames{Tenant: "org_id"},
			edits:   map[string]any{"tenant": "acme", "roles": []string{"viewer"}},
			wantErr: `token has no tenant claim: this server reads the tenant from "org_id"; the token has a top-level "tenant" claim, which this server does not read`,
		},
		{
			name:    "tenant at the top level while a namespace is configured",
			names:   auth.ClaimNames{Namespace: hasuraNamespace},
			edits:   map[string]any{"tenant": "acme", "roles": nil, hasuraNamespace: map[string]any{"roles": []string{"viewer"}}},
			wantErr: `token has no tenant claim: this server reads the tenant from "tenant" inside the "https://hasura.io/jwt/claims" claim; the token has a top-level "tenant" claim, which this server does not read`,
		},
		{
			name:    "roles missing from the namespace",
			names:   auth.ClaimNames{Namespace: hasuraNamespace},
			edits:   map[string]any{"tenant": nil, hasuraNamespace: map[string]any{"tenant": "acme"}},
			wantErr: `token has no roles claim: this server reads the roles from "roles" inside the "https://hasura.io/jwt/claims" claim; the token has a top-level "roles" claim, which this server does not read; include at least one of: viewer, analyst, admin, ingest`,
		},
		{
			name:    "namespace not an object",
			names:   auth.ClaimNames{Namespace: hasuraNamespace},
			edits:   map[string]any{hasuraNamespace: "acme"},
			wantErr: `token claim "https://hasura.io/jwt/claims" must be a JSON object holding "tenant" and "roles"`,
		},
		{
			name:    "tenant not a string",
			names:   auth.ClaimNames{Tenant: "org_id"},
			edits:   map[string]any{"org_id": 7},
			wantErr: `token claim "org_id" must be a string (the tenant id)`,
		},
		{
			name:    "the default names still refuse a token without a tenant",
			edits:   map[string]any{"tenant": nil},
			wantErr: "token has no tenant claim",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := auth.VerifyOptions{Now: newClock(t0).Now, Claims: tc.names}
			v, err := auth.NewHMACVerifier([]byte(testSecret), opts)
			require.NoError(t, err)
			edits := map[string]any{"roles": []string{"viewer"}, "tenant": "acme"}
			for k, val := range tc.edits {
				edits[k] = val
			}
			got, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodHS256, []byte(testSecret), "", claims(t0, edits)))
			if tc.wantErr != "" {
				assertUnauthenticated(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

// TestClaimNamesThroughJWKS: an identity provider's RS256 token with a
// claims namespace verifies through the JWKS path, and the same token
// signed for the default names is refused there.
func TestClaimNamesThroughJWKS(t *testing.T) {
	k := loadKeys(t)
	srv := newJWKSServer(t, rsaJWK("idp-1", &k.rsa.PublicKey))
	v := newJWKSVerifier(t, srv, newClock(t0), auth.JWKSOptions{VerifyOptions: auth.VerifyOptions{Claims: auth.ClaimNames{Namespace: hasuraNamespace}}})
	ns := claims(t0, map[string]any{"tenant": nil, "roles": nil, hasuraNamespace: map[string]any{"tenant": "acme", "roles": []string{"analyst"}}})
	got, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, k.rsa, "idp-1", ns))
	require.NoError(t, err)
	assert.Equal(t, auth.Principal{Subject: "user-1", Tenant: "acme", Roles: []auth.Role{auth.RoleAnalyst}}, got)

	_, err = v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, k.rsa, "idp-1", claims(t0, nil)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `this server reads the tenant from "tenant" inside the "https://hasura.io/jwt/claims" claim`)
}

// TestSignerWritesConfiguredClaims: dev tokens from `analyticsd token`
// carry the tenant and roles where the deployment's verifiers read them.
func TestSignerWritesConfiguredClaims(t *testing.T) {
	p := auth.Principal{Subject: "dev", Tenant: "acme", Roles: []auth.Role{auth.RoleAdmin}}
	for _, names := range []auth.ClaimNames{{}, {Tenant: "org_id", Roles: "role"}, {Namespace: hasuraNamespace}} {
		s, err := auth.NewHMACSigner([]byte(testSecret))
		require.NoError(t, err)
		raw, err := s.WithClaims(names).Sign(p, time.Hour)
		require.NoError(t, err)
		v, err := auth.NewHMACVerifier([]byte(testSecret), auth.VerifyOptions{Claims: names})
		require.NoError(t, err)
		got, err := v.Verify(context.Background(), raw)
		require.NoError(t, err, "%+v", names)
		assert.Equal(t, p, got)
	}
}
