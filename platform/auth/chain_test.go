package auth_test

import (
	"context"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
)

func TestChain(t *testing.T) {
	k := loadKeys(t)
	srv := newJWKSServer(t, rsaJWK("rsa-1", &k.rsa.PublicKey), ecJWK(t, "ec-1", &k.ec.PublicKey))
	opts := auth.VerifyOptions{Now: newClock(t0).Now}
	hv, err := auth.NewHMACVerifier([]byte(testSecret), opts)
	require.NoError(t, err)
	jv, err := auth.NewJWKSVerifier(t.Context(), srv.URL, auth.JWKSOptions{VerifyOptions: opts})
	require.NoError(t, err)
	chain, err := auth.NewChain(hv, jv)
	require.NoError(t, err)
	assert.Equal(t, []string{"HS256", "RS256", "ES256"}, chain.Algorithms())

	tests := []struct {
		name    string
		token   string
		wantErr string
	}{
		{name: "HS256", token: sign(t, jwt.SigningMethodHS256, []byte(testSecret), "", claims(t0, nil))},
		{name: "RS256", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa-1", claims(t0, nil))},
		{name: "ES256", token: sign(t, jwt.SigningMethodES256, k.ec, "ec-1", claims(t0, nil))},
		{
			name:    "HS256 with a wrong secret",
			token:   sign(t, jwt.SigningMethodHS256, []byte("wrong-secret-wrong-secret-wrong!"), "", claims(t0, nil)),
			wantErr: "token signature is invalid",
		},
		{
			name:    "PS256 is routed nowhere",
			token:   sign(t, jwt.SigningMethodPS256, k.rsa, "rsa-1", claims(t0, nil)),
			wantErr: "signing algorithm PS256 is not accepted here; use HS256 or RS256 or ES256",
		},
		{
			name:    "alg none",
			token:   sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims(t0, nil)),
			wantErr: "signing algorithm none is not accepted here; use HS256 or RS256 or ES256",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := chain.Verify(context.Background(), tc.token)
			if tc.wantErr != "" {
				assertUnauthenticated(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "demo", p.Tenant)
		})
	}
}

func TestNewChainMisconfigured(t *testing.T) {
	hv, err := auth.NewHMACVerifier([]byte(testSecret), auth.VerifyOptions{})
	require.NoError(t, err)

	_, err = auth.NewChain(hv, hv)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "two verifiers accept HS256")

	_, err = auth.NewChain()
	require.Error(t, err)
	assert.Equal(t, errs.KindInternal, errs.KindOf(err))
}
