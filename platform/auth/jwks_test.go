package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
)

// newJWKSVerifier builds a verifier for srv driven by clock.
func newJWKSVerifier(t *testing.T, srv *jwksServer, clock *fakeClock) *auth.JWKSVerifier {
	t.Helper()
	v, err := auth.NewJWKSVerifier(srv.URL, auth.JWKSOptions{VerifyOptions: auth.VerifyOptions{Now: clock.Now}})
	require.NoError(t, err)
	return v
}

func TestJWKSVerifier(t *testing.T) {
	k := loadKeys(t)
	srv := newJWKSServer(t, rsaJWK("rsa-1", &k.rsa.PublicKey), ecJWK(t, "ec-1", &k.ec.PublicKey))
	v := newJWKSVerifier(t, srv, newClock(t0))
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
		{
			name:    "ES256 signed by another key",
			token:   sign(t, jwt.SigningMethodES256, otherEC, "ec-1", claims(t0, nil)),
			wantErr: "token signature is invalid",
		},
		{
			name:    "kid of a key of the other type",
			token:   sign(t, jwt.SigningMethodES256, k.ec, "rsa-1", claims(t0, nil)),
			wantErr: `token key id "rsa-1" names a key that cannot verify ES256`,
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
	assert.EqualValues(t, 1, srv.hits.Load(), "one fetch; the misses fall within MinRefreshInterval")
}

func TestJWKSVerifierRotationAndRateLimit(t *testing.T) {
	k := loadKeys(t)
	srv := newJWKSServer(t, rsaJWK("old", &k.rsa.PublicKey))
	clock := newClock(t0)
	v := newJWKSVerifier(t, srv, clock)
	ctx := context.Background()
	token := func(kid string) string {
		return sign(t, jwt.SigningMethodRS256, k.rsa, kid, claims(clock.Now(), nil))
	}
	notPublished := func(kid string) string {
		return `token key id "` + kid + `" is not among the issuer's signing keys; the key may be retired: request a new token`
	}

	_, err := v.Verify(ctx, token("old"))
	require.NoError(t, err)
	require.EqualValues(t, 1, srv.hits.Load(), "first use fetches")

	// The issuer rotates: "new" appears. Within MinRefreshInterval of the
	// first fetch the unknown kid must not trigger another fetch.
	srv.setKeys(t, rsaJWK("old", &k.rsa.PublicKey), rsaJWK("new", &k.rsa.PublicKey))
	clock.Advance(10 * time.Second)
	_, err = v.Verify(ctx, token("new"))
	assertUnauthenticated(t, err, notPublished("new"))
	assert.EqualValues(t, 1, srv.hits.Load(), "refresh is rate-limited")

	clock.Advance(auth.DefaultJWKSMinRefreshInterval)
	_, err = v.Verify(ctx, token("new"))
	require.NoError(t, err, "unknown kid refreshes once the interval has passed")
	assert.EqualValues(t, 2, srv.hits.Load())

	_, err = v.Verify(ctx, token("new"))
	require.NoError(t, err)
	_, err = v.Verify(ctx, token("old"))
	require.NoError(t, err)
	assert.EqualValues(t, 2, srv.hits.Load(), "known kids are served from the cache")

	// Made-up kids cost at most one fetch per interval.
	for range 5 {
		_, err = v.Verify(ctx, token("bogus"))
		assertUnauthenticated(t, err, notPublished("bogus"))
	}
	assert.EqualValues(t, 2, srv.hits.Load(), "the fetch for \"new\" was just now")
	clock.Advance(auth.DefaultJWKSMinRefreshInterval)
	for range 5 {
		_, err = v.Verify(ctx, token("bogus"))
		assertUnauthenticated(t, err, notPublished("bogus"))
	}
	assert.EqualValues(t, 3, srv.hits.Load(), "one fetch for five misses")

	// The TTL refetches even when every kid is known.
	clock.Advance(auth.DefaultJWKSTTL)
	_, err = v.Verify(ctx, token("old"))
	require.NoError(t, err)
	assert.EqualValues(t, 4, srv.hits.Load(), "TTL expiry refetches")
}

func TestJWKSVerifierUnavailable(t *testing.T) {
	k := loadKeys(t)
	srv := newJWKSServer(t, rsaJWK("k1", &k.rsa.PublicKey))
	srv.setStatus(http.StatusInternalServerError)
	clock := newClock(t0)
	v := newJWKSVerifier(t, srv, clock)
	ctx := context.Background()
	token := func() string { return sign(t, jwt.SigningMethodRS256, k.rsa, "k1", claims(clock.Now(), nil)) }

	_, err := v.Verify(ctx, token())
	assertUnauthenticated(t, err, "token cannot be verified now: the issuer's signing keys are unavailable; retry later")
	assert.True(t, errs.Is(errorsUnwrap(err), errs.KindUnavailable), "cause keeps the fetch failure: %v", err)
	assert.Contains(t, err.Error(), "500", "the log line names the status")

	require.Error(t, v.Refresh(ctx), "Refresh reports the failure")
	srv.setStatus(http.StatusOK)
	require.NoError(t, v.Refresh(ctx), "Refresh ignores the rate limit")
	_, err = v.Verify(ctx, token())
	require.NoError(t, err)

	// After the TTL the issuer is down again: the old keys stay in use.
	srv.setStatus(http.StatusServiceUnavailable)
	hits := srv.hits.Load()
	clock.Advance(auth.DefaultJWKSTTL + time.Second)
	_, err = v.Verify(ctx, token())
	require.NoError(t, err, "stale keys are used while the issuer is down")
	assert.Equal(t, hits+1, srv.hits.Load(), "a refetch was attempted")
}

func TestJWKSVerifierConcurrentMissesFetchOnce(t *testing.T) {
	k := loadKeys(t)
	srv := newJWKSServer(t, ecJWK(t, "ec-1", &k.ec.PublicKey))
	v := newJWKSVerifier(t, srv, newClock(t0))
	raw := sign(t, jwt.SigningMethodES256, k.ec, "ec-1", claims(t0, nil))

	var wg sync.WaitGroup
	errc := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := v.Verify(context.Background(), raw)
			errc <- err
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		require.NoError(t, err)
	}
	assert.EqualValues(t, 1, srv.hits.Load())
}

func TestJWKSVerifierTokenWithoutKid(t *testing.T) {
	k := loadKeys(t)
	srv := newJWKSServer(t, rsaJWK("k1", &k.rsa.PublicKey), rsaJWK("k2", &k.rsa.PublicKey), ecJWK(t, "e1", &k.ec.PublicKey))
	v := newJWKSVerifier(t, srv, newClock(t0))

	_, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodES256, k.ec, "", claims(t0, nil)))
	require.NoError(t, err, "the only ES256 key is used")
	_, err = v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, k.rsa, "", claims(t0, nil)))
	assertUnauthenticated(t, err, "token has no kid header and the issuer does not publish exactly one RS256 key; request a new token")
}

func TestNewJWKSVerifierURL(t *testing.T) {
	tests := []struct {
		url     string
		opts    auth.JWKSOptions
		wantErr string
	}{
		{url: "https://id.example/.well-known/jwks.json"},
		{url: "http://127.0.0.1:8080/jwks"},
		{url: "http://localhost/jwks"},
		{url: "http://keycloak:8080/jwks", opts: auth.JWKSOptions{AllowInsecureHTTP: true}},
		{url: "http://keycloak:8080/jwks", wantErr: `JWKS URL "http://keycloak:8080/jwks" uses plain http; use https, or allow insecure http explicitly`},
		{url: "/jwks", wantErr: `JWKS URL "/jwks" is not an absolute http(s) URL`},
		{url: "file:///etc/jwks", wantErr: `JWKS URL "file:///etc/jwks" is not an absolute http(s) URL`},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			v, err := auth.NewJWKSVerifier(tc.url, tc.opts)
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
