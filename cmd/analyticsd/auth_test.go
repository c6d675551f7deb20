package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/config"
	"github.com/learnhub/analytics-service/platform/errs"
)

// TestConfiguredClaimNames: ANALYTICS_JWT_TENANT_CLAIM and
// ANALYTICS_JWT_CLAIMS_NAMESPACE reach the verifiers and the dev-token
// signer; a token with the tenant in the default claim is refused with a
// message that says where this deployment reads it.
func TestConfiguredClaimNames(t *testing.T) {
	secret := strings.Repeat("claims-test-secret-", 3)
	env := map[string]string{
		"ANALYTICS_JWT_SECRET":           secret,
		"ANALYTICS_JWT_TENANT_CLAIM":     "org_id",
		"ANALYTICS_JWT_CLAIMS_NAMESPACE": "https://hasura.io/jwt/claims",
		"ANALYTICS_DATA_DIR":             t.TempDir(),
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	require.NoError(t, err)
	a := &app{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	require.NoError(t, a.openAuth(t.Context()))

	p := auth.Principal{Subject: "s", Tenant: "acme", Roles: []auth.Role{auth.RoleViewer}}
	ours, err := a.signer.Sign(p, time.Hour)
	require.NoError(t, err)
	got, err := a.verifier.Verify(t.Context(), ours)
	require.NoError(t, err, "`analyticsd token` writes the configured claims")
	assert.Equal(t, p, got)

	plain, err := auth.NewHMACSigner([]byte(secret))
	require.NoError(t, err)
	wrong, err := plain.Sign(p, time.Hour) // tenant in top-level "tenant"
	require.NoError(t, err)
	_, err = a.verifier.Verify(t.Context(), wrong)
	require.Error(t, err)
	assert.Equal(t, errs.KindUnauthenticated, errs.KindOf(err))
	assert.Equal(t, `token has no tenant claim: this server reads the tenant from "org_id" inside the "https://hasura.io/jwt/claims" claim; the token has a top-level "tenant" claim, which this server does not read`,
		errs.PublicMessage(err))
}
