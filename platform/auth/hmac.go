package auth

import (
	"context"
	"fmt"
	"slices"

	"github.com/golang-jwt/jwt/v5"

	"github.com/learnhub/analytics-service/platform/errs"
)

// MinHMACSecretLen is the shortest HS256 secret accepted: 256 bits, the size
// of the hash, as RFC 7518 §3.2 requires.
const MinHMACSecretLen = 32

// algHS256 is the only algorithm HMACVerifier and HMACSigner use.
const algHS256 = "HS256"

// HMACVerifier verifies HS256 tokens signed with a shared secret. It is the
// development path (the embedded default and `analyticsd token`); every
// other algorithm, including "none" and RS256, is refused.
type HMACVerifier struct {
	secret []byte
	opts   VerifyOptions
}

// NewHMACVerifier returns a verifier for HS256 tokens signed with secret,
// which must be at least MinHMACSecretLen bytes (see LoadOrCreateSecret).
func NewHMACVerifier(secret []byte, opts VerifyOptions) (*HMACVerifier, error) {
	if err := checkSecret("auth.NewHMACVerifier", secret); err != nil {
		return nil, err
	}
	return &HMACVerifier{secret: slices.Clone(secret), opts: opts}, nil
}

// Verify checks raw's HS256 signature and claims and returns the caller.
func (v *HMACVerifier) Verify(_ context.Context, raw string) (Principal, error) {
	h, err := parseHeader(raw)
	if err != nil {
		return Principal{}, err
	}
	if h.Alg != algHS256 {
		return Principal{}, algNotAccepted(h.Alg, v.Algorithms())
	}
	return verifyWith(raw, algHS256, func(*jwt.Token) (any, error) { return v.secret, nil }, v.opts)
}

// Algorithms reports that only HS256 is accepted.
func (v *HMACVerifier) Algorithms() []string { return []string{algHS256} }

// checkSecret refuses an HS256 secret too short to be safe.
func checkSecret(op string, secret []byte) error {
	if len(secret) < MinHMACSecretLen {
		return errs.E(op, errs.KindInternal, fmt.Sprintf(
			"HS256 secret is %d bytes; use at least %d random bytes (LoadOrCreateSecret makes one)",
			len(secret), MinHMACSecretLen))
	}
	return nil
}
