package auth

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"time"
)

// DefaultTokenCacheMaxAge bounds how long a verified token is trusted
// without verifying it again, whatever its exp says.
const DefaultTokenCacheMaxAge = 5 * time.Minute

// TokenCacheConfig configures NewCachingVerifier.
type TokenCacheConfig struct {
	// Size bounds the tokens kept (least recently used go first); zero or
	// less means no cache: NewCachingVerifier returns the verifier itself.
	Size int
	// MaxAge bounds how long one verification is reused; zero means
	// DefaultTokenCacheMaxAge.
	MaxAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// CachingVerifier remembers the callers of tokens it verified, keyed by the
// SHA-256 of the token, until the token's exp or MaxAge, whichever comes
// first, so a client sending the same bearer token on every request pays
// for the signature and claim checks once.
//
// Semantics: only successes are kept (a refused token is checked again
// every time, and an attacker cannot fill the cache without valid tokens);
// an entry never outlives the token's exp (without the clock-skew leeway
// the verifier grants). Rotating a key (a JWKS key removed, an HS256 secret
// changed by a restart) or revoking a token takes effect for a token seen
// before after at most MaxAge. The token itself is not stored, only its
// hash.
type CachingVerifier struct {
	next Verifier
	cfg  TokenCacheConfig

	mu sync.Mutex
	ll *list.List // front = most recently used; values are *tokenEntry
	m  map[[sha256.Size]byte]*list.Element
}

type tokenEntry struct {
	key   [sha256.Size]byte
	p     Principal
	until time.Time
}

// NewCachingVerifier returns next behind a token cache configured by cfg,
// or next itself when cfg.Size is zero or less.
func NewCachingVerifier(next Verifier, cfg TokenCacheConfig) Verifier {
	if cfg.Size <= 0 {
		return next
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultTokenCacheMaxAge
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &CachingVerifier{next: next, cfg: cfg, ll: list.New(), m: map[[sha256.Size]byte]*list.Element{}}
}

// Verify returns the remembered caller of raw, or verifies raw with the
// wrapped verifier and remembers a success.
func (c *CachingVerifier) Verify(ctx context.Context, raw string) (Principal, error) {
	key := sha256.Sum256([]byte(raw))
	now := c.cfg.Now()
	c.mu.Lock()
	if el, ok := c.m[key]; ok {
		e := el.Value.(*tokenEntry)
		if now.Before(e.until) {
			c.ll.MoveToFront(el)
			p := e.p
			c.mu.Unlock()
			return p, nil
		}
		c.ll.Remove(el)
		delete(c.m, key)
	}
	c.mu.Unlock()
	p, err := c.next.Verify(ctx, raw)
	if err != nil {
		return p, err
	}
	exp, ok := expiry(raw)
	if !ok {
		return p, nil // verified but without a readable exp: never kept
	}
	until := now.Add(c.cfg.MaxAge)
	if exp.Before(until) {
		until = exp
	}
	if !now.Before(until) {
		return p, nil
	}
	c.mu.Lock()
	if el, ok := c.m[key]; ok {
		c.ll.Remove(el)
	}
	c.m[key] = c.ll.PushFront(&tokenEntry{key: key, p: p, until: until})
	for c.ll.Len() > c.cfg.Size {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.m, old.Value.(*tokenEntry).key)
	}
	c.mu.Unlock()
	return p, nil
}

// expiry reads the exp claim of a token whose signature was verified.
func expiry(raw string) (time.Time, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Exp *json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Exp == nil {
		return time.Time{}, false
	}
	f, err := c.Exp.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, int64(f*float64(time.Second))), true
}
