package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
)

// newJWKSVerifier builds a verifier for srv driven by clock (claims only:
// fetching runs on real time).
func newJWKSVerifier(t *testing.T, srv *jwksServer, clock *fakeClock, o auth.JWKSOptions) *auth.JWKSVerifier {
	t.Helper()
	o.VerifyOptions.Now = clock.Now
	o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	v, err := auth.NewJWKSVerifier(t.Context(), srv.URL, o)
	require.NoError(t, err)
	return v
}

func TestJWKSVerifier(t *testing.T) {
	k := loadKeys(t)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	srv := newJWKSServer(t, rsaJWK("rsa-1", &k.rsa.PublicKey), ecJWK(t, "ec-1", &k.ec.PublicKey), rsaJWK("weak", &weak.PublicKey))
	v := newJWKSVerifier(t, srv, newClock(t0), auth.JWKSOptions{})
	require.EqualValues(t, 1, srv.hits.Load(), "the key set is fetched when the verifier is made")
	want := auth.Principal{Subject: "user-1", Tenant: "demo", Roles: []auth.Role{auth.RoleViewer, auth.RoleAnalyst}}
	otherEC, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	tests := []struct {
		name    string
		token   string
		wantErr string
	}{
		{name: "RS256", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa-1", claims(t0, nil))},
		{name: "ES256", token: sign(t, jwt.SigningMethodES256, k.ec, "ec-1", claims(t0, nil))},
		{name: "ES256 without kid: the published ES256 key", token: sign(t, jwt.SigningMethodES256, k.ec, "", claims(t0, nil))},
		{
			name:    "ES256 signed by another key",
			token:   sign(t, jwt.SigningMethodES256, otherEC, "ec-1", claims(t0, nil)),
			wantErr: "token signature is invalid",
		},
		{
			name:    "no kid and no published key verifies it",
			token:   sign(t, jwt.SigningMethodES256, otherEC, "", claims(t0, nil)),
			wantErr: "token signature is invalid",
		},
		{
			name:    "kid of a key of the other type",
			token:   sign(t, jwt.SigningMethodES256, k.ec, "rsa-1", claims(t0, nil)),
			wantErr: `token key id "rsa-1" names a key that cannot verify ES256`,
		},
		{
			name:    "kid of a weak RSA key",
			token:   sign(t, jwt.SigningMethodRS256, weak, "weak", claims(t0, nil)),
			wantErr: `token key id "weak" names an RSA key of 1024 bits; the issuer must publish keys of at least 2048 bits`,
		},
		{
			name:    "HS256 signed with the public key (alg confusion)",
			token:   sign(t, jwt.SigningMethodHS256, pubPEM, "rsa-1", claims(t0, nil)),
			wantErr: "signing algorithm HS256 is not accepted here; use RS256 or ES256",
		},
		{
			name:    "HS256 signed with the DER public key (alg confusion)",
			token:   sign(t, jwt.SigningMethodHS256, pubDER, "rsa-1", claims(t0, nil)),
			wantErr: "signing algorithm HS256 is not accepted here; use RS256 or ES256",
		},
		{
			name:    "alg none",
			token:   sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "rsa-1", claims(t0, nil)),
			wantErr: "signing algorithm none is not accepted here; use RS256 or ES256",
		},
		{
			name:    "claims still checked",
			token:   sign(t, jwt.SigningMethodRS256, k.rsa, "rsa-1", claims(t0, map[string]any{"tenant": nil})),
			wantErr: "token has no tenant claim",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Verify(context.Background(), tc.token)
			if tc.wantErr != "" {
				assertUnauthenticated(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
	assert.EqualValues(t, 1, srv.hits.Load(), "known kids never refetch")
}

// TestJWKSVerifierRotation: the issuer rotates its keys on a real JWKS
// server. A token signed with a new key is accepted as soon as it is seen
// (an unknown kid refetches), made-up kids cost at most one fetch per
// MinRefreshInterval, and a retired key stops verifying after the next
// background refresh.
func TestJWKSVerifierRotation(t *testing.T) {
	k := loadKeys(t)
	next, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	srv := newJWKSServer(t, rsaJWK("old", &k.rsa.PublicKey))
	const (
		minRefresh = time.Second
		refresh    = 400 * time.Millisecond
	)
	clock := newClock(time.Now())
	v := newJWKSVerifier(t, srv, clock, auth.JWKSOptions{MinRefreshInterval: minRefresh, RefreshInterval: time.Hour})
	ctx := context.Background()
	token := func(key *rsa.PrivateKey, kid string) string {
		return sign(t, jwt.SigningMethodRS256, key, kid, claims(clock.Now(), nil))
	}
	notPublished := func(kid string) string {
		return `token key id "` + kid + `" is not among the issuer's signing keys; the key may be retired: request a new token`
	}

	_, err = v.Verify(ctx, token(k.rsa, "old"))
	require.NoError(t, err)
	require.EqualValues(t, 1, srv.hits.Load())

	// The issuer publishes "new" beside "old" and starts signing with it.
	srv.setKeys(t, rsaJWK("old", &k.rsa.PublicKey), rsaJWK("new", &next.PublicKey))
	_, err = v.Verify(ctx, token(next, "new"))
	require.NoError(t, err, "an unknown kid refetches at once")
	assert.EqualValues(t, 2, srv.hits.Load())
	_, err = v.Verify(ctx, token(k.rsa, "old"))
	require.NoError(t, err, "tokens of the old key stay valid while it is published")

	// Made-up kids right after a fetch are refused without fetching.
	for range 5 {
		_, err = v.Verify(ctx, token(next, "bogus"))
		assertUnauthenticated(t, err, notPublished("bogus"))
	}
	assert.EqualValues(t, 2, srv.hits.Load(), "refresh for unknown kids is rate-limited")
	require.Eventually(t, func() bool {
		_, err = v.Verify(ctx, token(next, "bogus"))
		return srv.hits.Load() == 3
	}, 5*time.Second, minRefresh/5, "after MinRefreshInterval one more fetch is allowed")
	assertUnauthenticated(t, err, notPublished("bogus"))

	// The issuer retires "old"; the background refresh drops it.
	v2 := newJWKSVerifier(t, srv, clock, auth.JWKSOptions{MinRefreshInterval: time.Hour, RefreshInterval: refresh})
	_, err = v2.Verify(ctx, token(k.rsa, "old"))
	require.NoError(t, err)
	srv.setKeys(t, rsaJWK("new", &next.PublicKey))
	require.Eventually(t, func() bool {
		_, err := v2.Verify(ctx, token(k.rsa, "old"))
		return err != nil
	}, 5*time.Second, refresh/5, "a retired key stops verifying after the background refresh")
	_, err = v2.Verify(ctx, token(k.rsa, "old"))
	assertUnauthenticated(t, err, notPublished("old"))
	_, err = v2.Verify(ctx, token(next, "new"))
	require.NoError(t, err)
}

func TestJWKSVerifierUnavailable(t *testing.T) {
	k := loadKeys(t)
	srv := newJWKSServer(t, rsaJWK("k1", &k.rsa.PublicKey))
	srv.setStatus(http.StatusInternalServerError)
	clock := newClock(t0)
	v := newJWKSVerifier(t, srv, clock, auth.JWKSOptions{MinRefreshInterval: 100 * time.Millisecond, RefreshInterval: 200 * time.Millisecond})
	ctx := context.Background()
	token := func() string { return sign(t, jwt.SigningMethodRS256, k.rsa, "k1", claims(clock.Now(), nil)) }

	assert.False(t, v.Ready(ctx), "the first fetch failed; the verifier is made anyway")
	_, err := v.Verify(ctx, token())
	assertUnauthenticated(t, err, "token cannot be verified now: the issuer's signing keys are unavailable; retry later")
	assert.True(t, errs.Is(errorsUnwrap(err), errs.KindUnavailable), "cause keeps the fetch failure: %v", err)

	srv.setStatus(http.StatusOK)
	require.Eventually(t, func() bool {
		_, err := v.Verify(ctx, token())
		return err == nil
	}, 5*time.Second, 50*time.Millisecond, "the issuer is back: the next fetch installs its keys")
	assert.True(t, v.Ready(ctx))

	// The issuer is down again: the keys fetched before stay in use.
	srv.setStatus(http.StatusServiceUnavailable)
	hits := srv.hits.Load()
	require.Eventually(t, func() bool { return srv.hits.Load() > hits+1 }, 5*time.Second, 50*time.Millisecond, "background refreshes are attempted")
	_, err = v.Verify(ctx, token())
	require.NoError(t, err, "stale keys are used while the issuer is down")
}

func TestNewJWKSVerifierURL(t *testing.T) {
	tests := []struct {
		url     string
		opts    auth.JWKSOptions
		wantErr string
	}{
		{url: "https://id.example.invalid/.well-known/jwks.json"},
		{url: "http://127.0.0.1:1/jwks"},
		{url: "http://localhost:1/jwks"},
		{url: "http://keycloak.invalid:8080/jwks", opts: auth.JWKSOptions{AllowInsecureHTTP: true}},
		{url: "http://keycloak:8080/jwks", wantErr: `JWKS URL "http://keycloak:8080/jwks" uses plain http; use https, or allow insecure http explicitly`},
		{url: "/jwks", wantErr: `JWKS URL "/jwks" is not an absolute http(s) URL`},
		{url: "file:///etc/jwks", wantErr: `JWKS URL "file:///etc/jwks" is not an absolute http(s) URL`},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			tc.opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
			tc.opts.Client = &http.Client{Timeout: 200 * time.Millisecond}
			v, err := auth.NewJWKSVerifier(t.Context(), tc.url, tc.opts)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Equal(t, tc.wantErr, errs.PublicMessage(err))
				return
			}
			require.NoError(t, err)
			assert.NotNil(t, v)
		})
	}
}

// errorsUnwrap returns the cause of a classified error.
func errorsUnwrap(err error) error {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Err
	}
	return nil
}
