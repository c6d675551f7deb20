package auth

import (
	"context"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/learnhub/analytics-service/platform/errs"
)

// DefaultLeeway is how far a token's exp, nbf and iat may disagree with this
// server's clock before the token is refused.
const DefaultLeeway = 30 * time.Second

// Verifier turns a raw bearer token into the verified caller. Every failure
// is an *errs.Error of kind KindUnauthenticated whose message tells the
// client what is wrong with the token.
type Verifier interface {
	Verify(ctx context.Context, raw string) (Principal, error)
}

// AlgorithmVerifier is a Verifier that says which JWS algorithms (header
// "alg") it accepts, so a Chain can route each token to the one that fits.
type AlgorithmVerifier interface {
	Verifier
	// Algorithms lists the accepted "alg" values, e.g. ["HS256"].
	Algorithms() []string
}

// VerifyOptions are the claim checks shared by all verifiers.
type VerifyOptions struct {
	// Issuer, when set, must equal the token's iss claim. Zero: iss is not checked.
	Issuer string
	// Audience, when set, must be one of the token's aud values. Zero: aud is not checked.
	Audience string
	// Leeway is the allowed clock skew for exp, nbf and iat. Zero: DefaultLeeway.
	Leeway time.Duration
	// Now is the clock. Zero: time.Now. Tests inject a fixed clock.
	Now func() time.Time
	// Claims say where the tenant and roles are. Zero: top-level "tenant"
	// and "roles".
	Claims ClaimNames
}

// leeway returns the configured clock skew or DefaultLeeway.
func (o VerifyOptions) leeway() time.Duration {
	if o.Leeway > 0 {
		return o.Leeway
	}
	return DefaultLeeway
}

// now reads the configured clock.
func (o VerifyOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// verifyWith checks raw's signature with the key keys returns under
// algorithm alg (already checked against the verifier's list), then its
// claims, and returns the caller. The jwt parser only verifies the
// signature; claims are checked by tokenClaims.principal so every failure
// gets a precise message.
func verifyWith(raw, alg string, keys jwt.Keyfunc, opts VerifyOptions) (Principal, error) {
	parser := jwt.NewParser(jwt.WithValidMethods([]string{alg}), jwt.WithoutClaimsValidation())
	var c tokenClaims
	_, err := parser.ParseWithClaims(raw, &c, keys)
	if err != nil {
		return Principal{}, parseError(err)
	}
	if err := refuseDuplicateMembers(raw); err != nil {
		return Principal{}, err
	}
	return c.principal(opts.now(), opts)
}

// parseError translates a jwt parser error into a client-safe message.
func parseError(err error) error {
	const op = "auth.Verify"
	msg := "token could not be verified"
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		msg = "token is malformed: its payload must be base64url JSON with string sub, iss and tenant, " +
			"an array of role strings and numeric exp, nbf and iat"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		msg = "token signature is invalid"
	}
	return errs.Wrap(op, errs.KindUnauthenticated, err, msg)
}
