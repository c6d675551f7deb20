package auth

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/learnhub/analytics-service/platform/errs"
)

// The asymmetric algorithms a key set may serve, and the smallest RSA modulus
// accepted for RS256.
const (
	algRS256      = "RS256"
	algES256      = "ES256"
	minRSAKeyBits = 2048
)

// JWKS defaults; see JWKSOptions.
const (
	DefaultJWKSRefreshInterval    = 10 * time.Minute
	DefaultJWKSMinRefreshInterval = time.Minute
	DefaultJWKSTimeout            = 5 * time.Second
	maxJWKSBytes                  = 1 << 20
)

// JWKSOptions configure a JWKSVerifier.
type JWKSOptions struct {
	VerifyOptions
	// RefreshInterval is how often the key set is fetched again in the
	// background, so keys the issuer adds or retires are picked up without
	// a token asking. Zero: DefaultJWKSRefreshInterval.
	RefreshInterval time.Duration
	// MinRefreshInterval is the least time between two fetches triggered by
	// tokens naming an unknown kid, so tokens with made-up key ids cannot
	// hammer the issuer. Zero: DefaultJWKSMinRefreshInterval.
	MinRefreshInterval time.Duration
	// Client fetches the key set. Zero: a client with DefaultJWKSTimeout.
	Client *http.Client
	// AllowInsecureHTTP permits an http:// URL on a non-loopback host (e.g.
	// an identity provider inside docker compose). Zero: https only, except
	// for loopback hosts.
	AllowInsecureHTTP bool
	// Log receives failed fetches (the keys fetched before stay in use).
	// Zero: slog.Default().
	Log *slog.Logger
}

// JWKSVerifier verifies RS256 and ES256 (P-256) tokens with keys published
// at a JWKS URL, the production path, through github.com/MicahParks/keyfunc
// (key storage and refresh by github.com/MicahParks/jwkset). The set is
// fetched when the verifier is made, again every RefreshInterval in the
// background, and at once when a token names a kid the set lacks (at most
// once per MinRefreshInterval). A fetch replaces the whole set, so a retired
// key stops verifying after the next fetch; a failed fetch keeps the keys
// fetched before. HS* tokens are refused: a public key must never be used as
// an HMAC secret.
type JWKSVerifier struct {
	url   string
	opts  JWKSOptions
	keys  keyfunc.Keyfunc
	store jwkset.Storage
}

// NewJWKSVerifier returns a verifier for keys published at rawURL and makes
// the first fetch; an issuer that cannot be reached yet is logged, not an
// error (Ready tells), and retried on the first token. ctx ends the
// background refresh.
func NewJWKSVerifier(ctx context.Context, rawURL string, opts JWKSOptions) (*JWKSVerifier, error) {
	const op = "auth.NewJWKSVerifier"
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, errs.E(op, errs.KindInvalid, fmt.Sprintf("JWKS URL %q is not an absolute http(s) URL", rawURL))
	}
	if u.Scheme == "http" && !opts.AllowInsecureHTTP && !isLoopback(u.Hostname()) {
		return nil, errs.E(op, errs.KindInvalid, fmt.Sprintf(
			"JWKS URL %q uses plain http; use https, or allow insecure http explicitly", rawURL))
	}
	if opts.RefreshInterval <= 0 {
		opts.RefreshInterval = DefaultJWKSRefreshInterval
	}
	if opts.MinRefreshInterval <= 0 {
		opts.MinRefreshInterval = DefaultJWKSMinRefreshInterval
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: DefaultJWKSTimeout}
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	client := *opts.Client
	client.Transport = limitBody{next: client.Transport}
	log := opts.Log
	remote, err := jwkset.NewStorageFromHTTP(rawURL, jwkset.HTTPClientStorageOptions{
		Client:                    &client,
		Ctx:                       ctx,
		HTTPTimeout:               DefaultJWKSTimeout,
		NoErrorReturnFirstHTTPReq: true,
		RefreshInterval:           opts.RefreshInterval,
		RefreshErrorHandler: func(ctx context.Context, err error) {
			log.WarnContext(ctx, "could not fetch the JWKS key set; the keys fetched before stay in use", "url", rawURL, "err", err)
		},
	})
	if err != nil {
		return nil, errs.Wrap(op, errs.KindInvalid, err, fmt.Sprintf("JWKS URL %q cannot be used", rawURL))
	}
	store, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs: map[string]jwkset.Storage{rawURL: remote},
		// jwkset bounds both the wait for the limiter and the fetch after
		// it by this: a made-up kid that would wait longer (right after a
		// fetch) is refused at once instead of queueing.
		RateLimitWaitMax:  min(DefaultJWKSTimeout, opts.MinRefreshInterval/2),
		RefreshUnknownKID: rate.NewLimiter(rate.Every(opts.MinRefreshInterval), 1),
	})
	if err != nil {
		return nil, errs.Wrap(op, errs.KindInternal, err, "")
	}
	keys, err := keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: store, UseWhitelist: []jwkset.USE{jwkset.UseSig, ""}})
	if err != nil {
		return nil, errs.Wrap(op, errs.KindInternal, err, "")
	}
	return &JWKSVerifier{url: rawURL, opts: opts, keys: keys, store: store}, nil
}

// Verify checks raw's RS256 or ES256 signature against the published key its
// kid names (without a kid, against each published key of its algorithm),
// then its claims, and returns the caller.
func (v *JWKSVerifier) Verify(ctx context.Context, raw string) (Principal, error) {
	h, err := parseHeader(raw)
	if err != nil {
		return Principal{}, err
	}
	if h.Alg != algRS256 && h.Alg != algES256 {
		return Principal{}, algNotAccepted(h.Alg, v.Algorithms())
	}
	lookup := v.keys.KeyfuncCtx(ctx)
	p, err := verifyWith(raw, h.Alg, func(t *jwt.Token) (any, error) {
		key, err := lookup(t)
		if err != nil {
			return nil, err
		}
		return strongEnough(key)
	}, v.opts.VerifyOptions)
	if err != nil {
		return Principal{}, v.keyError(ctx, err, h)
	}
	return p, nil
}

// Algorithms reports RS256 and ES256.
func (v *JWKSVerifier) Algorithms() []string { return []string{algRS256, algES256} }

// Ready reports whether the verifier holds at least one key (the composition
// root warns at startup when it does not).
func (v *JWKSVerifier) Ready(ctx context.Context) bool {
	keys, err := v.store.KeyReadAll(ctx)
	return err == nil && len(keys) > 0
}

// keyError turns a failed key lookup into a message for the client; other
// failures (signature, claims) pass through.
func (v *JWKSVerifier) keyError(ctx context.Context, err error, h tokenHeader) error {
	const op = "auth.Verify"
	var weak weakKeyError
	switch {
	case errors.As(err, &weak):
		return errs.Wrap(op, errs.KindUnauthenticated, err, fmt.Sprintf(
			"token key id %s names an RSA key of %d bits; the issuer must publish keys of at least %d bits",
			untrustedQuoted(h.Kid), int(weak), minRSAKeyBits))
	case !v.Ready(ctx):
		return errs.Wrap(op, errs.KindUnauthenticated, errs.Wrap("auth.JWKS", errs.KindUnavailable, err, "the JWKS key set could not be fetched"),
			"token cannot be verified now: the issuer's signing keys are unavailable; retry later")
	case h.Kid != "" && (errors.Is(err, jwkset.ErrKeyNotFound) || isRateLimited(err)):
		return errs.Wrap(op, errs.KindUnauthenticated, err, fmt.Sprintf(
			"token key id %s is not among the issuer's signing keys; the key may be retired: request a new token",
			untrustedQuoted(h.Kid)))
	case h.Kid != "" && (errors.Is(err, keyfunc.ErrKeyfunc) || errors.Is(err, jwt.ErrInvalidKeyType)):
		return errs.Wrap(op, errs.KindUnauthenticated, err, fmt.Sprintf(
			"token key id %s names a key that cannot verify %s", untrustedQuoted(h.Kid), h.Alg))
	case h.Kid == "" && errors.Is(err, jwt.ErrTokenUnverifiable):
		return errs.Wrap(op, errs.KindUnauthenticated, err, fmt.Sprintf(
			"token has no kid header and no published %s key verifies it; request a new token", h.Alg))
	}
	return err
}

// weakKeyError is the modulus size of an RSA key too small to trust.
type weakKeyError int

func (w weakKeyError) Error() string { return fmt.Sprintf("RSA key of %d bits", int(w)) }

// strongEnough refuses RSA keys under minRSAKeyBits (jwkset accepts any).
func strongEnough(key any) (any, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSAKeyBits {
			return nil, weakKeyError(k.N.BitLen())
		}
	case jwt.VerificationKeySet:
		strong := jwt.VerificationKeySet{}
		for _, one := range k.Keys {
			if _, err := strongEnough(one); err == nil {
				strong.Keys = append(strong.Keys, one)
			}
		}
		return strong, nil
	}
	return key, nil
}

// isRateLimited reports the refresh limiter refusing a fetch for an
// unknown kid (jwkset wraps x/time/rate's plain error in words only).
func isRateLimited(err error) bool {
	return strings.Contains(err.Error(), "refresh rate limiter")
}

// limitBody bounds the key set a server may send (a decoding error past
// maxJWKSBytes).
type limitBody struct{ next http.RoundTripper }

func (l limitBody) RoundTrip(r *http.Request) (*http.Response, error) {
	next := l.next
	if next == nil {
		next = http.DefaultTransport
	}
	res, err := next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	res.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(res.Body, maxJWKSBytes), res.Body}
	return res, nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
