package auth

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
)

// JWKS defaults; see JWKSOptions.
const (
	DefaultJWKSTTL                = 10 * time.Minute
	DefaultJWKSMinRefreshInterval = time.Minute
	DefaultJWKSTimeout            = 5 * time.Second
	maxJWKSBytes                  = 1 << 20
)

// JWKSOptions configure a JWKSVerifier.
type JWKSOptions struct {
	VerifyOptions
	// TTL is how long a fetched key set is used before it is fetched again.
	// Zero: DefaultJWKSTTL.
	TTL time.Duration
	// MinRefreshInterval is the least time between two fetches, whatever
	// triggers them (an unknown kid, an expired TTL, a failed fetch), so
	// tokens with made-up key ids cannot hammer the issuer. Zero:
	// DefaultJWKSMinRefreshInterval.
	MinRefreshInterval time.Duration
	// Client fetches the key set. Zero: a client with DefaultJWKSTimeout.
	Client *http.Client
	// AllowInsecureHTTP permits an http:// URL on a non-loopback host (e.g.
	// an identity provider inside docker compose). Zero: https only, except
	// for loopback hosts.
	AllowInsecureHTTP bool
}

// JWKSVerifier verifies RS256 and ES256 (P-256) tokens with keys published
// at a JWKS URL, the production path. Keys are cached for TTL and refetched
// when a token names an unknown kid, at most once per MinRefreshInterval.
// When a refetch fails, the keys fetched before stay in use. HS* tokens are
// refused: a public key must never be used as an HMAC secret.
type JWKSVerifier struct {
	url    string
	client *http.Client
	opts   JWKSOptions

	fetchMu sync.Mutex // serialises fetches so concurrent misses make one request

	mu          sync.RWMutex // guards the fields below
	set         *keySet      // nil until the first successful fetch
	fetchedAt   time.Time    // of set
	attemptedAt time.Time    // of the last fetch, successful or not
}

// NewJWKSVerifier returns a verifier for keys published at rawURL. It does
// not fetch; the first Verify (or Refresh) does.
func NewJWKSVerifier(rawURL string, opts JWKSOptions) (*JWKSVerifier, error) {
	const op = "auth.NewJWKSVerifier"
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, errs.E(op, errs.KindInvalid, fmt.Sprintf("JWKS URL %q is not an absolute http(s) URL", rawURL))
	}
	if u.Scheme == "http" && !opts.AllowInsecureHTTP && !isLoopback(u.Hostname()) {
		return nil, errs.E(op, errs.KindInvalid, fmt.Sprintf(
			"JWKS URL %q uses plain http; use https, or allow insecure http explicitly", rawURL))
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultJWKSTTL
	}
	if opts.MinRefreshInterval <= 0 {
		opts.MinRefreshInterval = DefaultJWKSMinRefreshInterval
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{Timeout: DefaultJWKSTimeout}
	}
	return &JWKSVerifier{url: rawURL, client: client, opts: opts}, nil
}

// Verify checks raw's RS256 or ES256 signature against the published key its
// kid names, then its claims, and returns the caller.
func (v *JWKSVerifier) Verify(ctx context.Context, raw string) (Principal, error) {
	h, err := parseHeader(raw)
	if err != nil {
		return Principal{}, err
	}
	if h.Alg != algRS256 && h.Alg != algES256 {
		return Principal{}, algNotAccepted(h.Alg, v.Algorithms())
	}
	key, err := v.key(ctx, h.Kid, h.Alg)
	if err != nil {
		return Principal{}, err
	}
	return verifyWithKey(raw, h.Alg, key.key, v.opts.VerifyOptions)
}

// Algorithms reports RS256 and ES256.
func (v *JWKSVerifier) Algorithms() []string { return []string{algRS256, algES256} }

// Refresh fetches the key set now, ignoring TTL and MinRefreshInterval. The
// composition root may call it at startup to fail fast on a wrong URL.
func (v *JWKSVerifier) Refresh(ctx context.Context) error {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	_, err := v.fetchLocked(ctx, v.opts.now())
	return err
}

// key returns the key for kid and alg, fetching the set when it is missing,
// older than TTL, or lacks the key, as MinRefreshInterval allows.
func (v *JWKSVerifier) key(ctx context.Context, kid, alg string) (publicKey, error) {
	const op = "auth.Verify"
	now := v.opts.now()
	v.mu.RLock()
	set, fresh := v.set, v.set != nil && now.Sub(v.fetchedAt) < v.opts.TTL
	v.mu.RUnlock()
	if fresh {
		if k, ok := set.find(kid, alg); ok {
			return k, nil
		}
	}
	set, err := v.refresh(ctx, set, now)
	if set == nil {
		return publicKey{}, errs.Wrap(op, errs.KindUnauthenticated, err,
			"token cannot be verified now: the issuer's signing keys are unavailable; retry later")
	}
	if k, ok := set.find(kid, alg); ok {
		return k, nil
	}
	switch {
	case kid == "":
		return publicKey{}, errs.E(op, errs.KindUnauthenticated, fmt.Sprintf(
			"token has no kid header and the issuer does not publish exactly one %s key; request a new token", alg))
	case set.hasKid(kid):
		return publicKey{}, errs.E(op, errs.KindUnauthenticated, fmt.Sprintf(
			"token key id %s names a key that cannot verify %s", untrustedQuoted(kid), alg))
	default:
		return publicKey{}, errs.E(op, errs.KindUnauthenticated, fmt.Sprintf(
			"token key id %s is not among the issuer's signing keys; the key may be retired: request a new token",
			untrustedQuoted(kid)))
	}
}

// refresh fetches the key set unless another caller replaced seen meanwhile
// or the last attempt is younger than MinRefreshInterval. It returns the set
// to use (possibly still seen, possibly nil) and the fetch error, if any.
func (v *JWKSVerifier) refresh(ctx context.Context, seen *keySet, now time.Time) (*keySet, error) {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	v.mu.RLock()
	cur, attempted := v.set, v.attemptedAt
	v.mu.RUnlock()
	if cur != seen {
		return cur, nil
	}
	if !attempted.IsZero() && now.Sub(attempted) < v.opts.MinRefreshInterval {
		return cur, nil
	}
	set, err := v.fetchLocked(ctx, now)
	if err != nil {
		return cur, err
	}
	return set, nil
}

// fetchLocked downloads and installs the key set; v.fetchMu must be held.
// The fetch outlives a cancelled request (bounded by the client timeout) so
// one impatient client cannot waste the refresh budget.
func (v *JWKSVerifier) fetchLocked(ctx context.Context, now time.Time) (*keySet, error) {
	v.mu.Lock()
	v.attemptedAt = now
	v.mu.Unlock()
	set, err := v.download(context.WithoutCancel(ctx))
	if err != nil {
		return nil, errs.Wrap("auth.JWKS", errs.KindUnavailable, err, "the JWKS key set could not be fetched")
	}
	v.mu.Lock()
	v.set, v.fetchedAt = set, now
	v.mu.Unlock()
	return set, nil
}

// download GETs and parses the key set.
func (v *JWKSVerifier) download(ctx context.Context) (*keySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %s", v.url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", v.url, err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("GET %s: key set is larger than %d bytes", v.url, maxJWKSBytes)
	}
	set, err := parseKeySet(body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", v.url, err)
	}
	return set, nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
