package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
)

// testSecret is a 32-byte HS256 secret for tests.
const testSecret = "0123456789abcdef0123456789abcdef"

// t0 is the fixed "now" of clock-driven tests.
var t0 = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

// fakeClock is a manually advanced clock, safe for concurrent reads.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// claims returns valid claims at now, with edits applied (a nil value deletes a claim).
func claims(now time.Time, edits map[string]any) jwt.MapClaims {
	c := jwt.MapClaims{
		"sub":    "user-1",
		"tenant": "demo",
		"roles":  []string{"viewer", "analyst"},
		"iat":    now.Unix(),
		"exp":    now.Add(time.Hour).Unix(),
	}
	for k, v := range edits {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// sign signs c with method and key, setting kid when not empty.
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, c jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	raw, err := tok.SignedString(key)
	require.NoError(t, err)
	return raw
}

// assertUnauthenticated checks err is UNAUTHENTICATED with exactly msg.
func assertUnauthenticated(t *testing.T, err error, msg string) {
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, errs.KindUnauthenticated, errs.KindOf(err), "kind of %v", err)
	assert.Equal(t, msg, errs.PublicMessage(err))
}

// testKeys are one RSA and one P-256 key pair, generated once per test binary.
type testKeys struct {
	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
}

var (
	keysOnce sync.Once
	keys     testKeys
)

func loadKeys(t *testing.T) testKeys {
	t.Helper()
	keysOnce.Do(func() {
		r, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		e, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		keys = testKeys{rsa: r, ec: e}
	})
	return keys
}

// rsaJWK is the public JWK of k.
func rsaJWK(kid string, k *rsa.PublicKey) map[string]any {
	return map[string]any{
		"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes()),
	}
}

// ecJWK is the public JWK of k.
func ecJWK(t *testing.T, kid string, k *ecdsa.PublicKey) map[string]any {
	t.Helper()
	pt, err := k.Bytes()
	require.NoError(t, err)
	return map[string]any{
		"kty": "EC", "kid": kid, "crv": "P-256",
		"x": b64(pt[1:33]), "y": b64(pt[33:65]),
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// hs256Raw signs a header and payload given as JSON text, byte for byte, so a
// test can send what a JSON encoder would never write (duplicate members).
func hs256Raw(secret []byte, header, payload string) string {
	in := b64([]byte(header)) + "." + b64([]byte(payload))
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(in))
	return in + "." + b64(m.Sum(nil))
}

// payloadJSON is a valid payload's JSON text for t0, with extra members
// (JSON text, e.g. `"tenant":"x"`) appended after the usual ones.
func payloadJSON(extra string) string {
	s := fmt.Sprintf(`{"sub":"user-1","tenant":"demo","roles":["viewer"],"iat":%d,"exp":%d`, t0.Unix(), t0.Add(time.Hour).Unix())
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

// jwksServer serves a key set that tests can swap, counting fetches.
type jwksServer struct {
	*httptest.Server
	mu     sync.Mutex
	doc    []byte
	status int
	hits   atomic.Int32
}

func newJWKSServer(t *testing.T, keys ...map[string]any) *jwksServer {
	t.Helper()
	s := &jwksServer{status: http.StatusOK}
	s.setKeys(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		doc, status := s.doc, s.status
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.WriteHeader(status)
		_, _ = w.Write(doc)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(t *testing.T, keys ...map[string]any) {
	t.Helper()
	doc, err := json.Marshal(map[string]any{"keys": keys})
	require.NoError(t, err)
	s.mu.Lock()
	s.doc = doc
	s.mu.Unlock()
}

func (s *jwksServer) setStatus(status int) {
	s.mu.Lock()
	s.status = status
	s.mu.Unlock()
}
