package auth

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/tenantid"
)

// tokenClaims is the JWT payload this service issues and accepts: the
// registered claims plus the caller's tenant and roles.
type tokenClaims struct {
	jwt.RegisteredClaims
	Tenant string   `json:"tenant"`
	Roles  []string `json:"roles"`
}

// principal checks the claims against now and opts and returns the caller
// they describe. The signature has already been verified.
func (c *tokenClaims) principal(now time.Time, opts VerifyOptions) (Principal, error) {
	const op = "auth.Verify"
	fail := func(format string, args ...any) (Principal, error) {
		return Principal{}, errs.E(op, errs.KindUnauthenticated, fmt.Sprintf(format, args...))
	}
	leeway := opts.leeway()
	switch {
	case c.ExpiresAt == nil:
		return fail("token has no exp claim; this server only accepts tokens that expire")
	case !now.Before(c.ExpiresAt.Add(leeway)):
		return fail("token expired at %s; request a new one", stamp(c.ExpiresAt.Time))
	case c.NotBefore != nil && now.Before(c.NotBefore.Add(-leeway)):
		return fail("token is not valid before %s; wait or check the issuer's clock", stamp(c.NotBefore.Time))
	case c.IssuedAt != nil && now.Before(c.IssuedAt.Add(-leeway)):
		return fail("token was issued in the future (iat %s); check the issuer's clock", stamp(c.IssuedAt.Time))
	}
	if opts.Issuer != "" && c.Issuer != opts.Issuer {
		if c.Issuer == "" {
			return fail("token has no iss claim; expected %q", opts.Issuer)
		}
		return fail("token issuer %s is not accepted; expected %q", untrusted(c.Issuer), opts.Issuer)
	}
	if opts.Audience != "" && !slices.Contains(c.Audience, opts.Audience) {
		return fail("token audience does not include %q", opts.Audience)
	}
	if c.Subject == "" {
		return fail("token has no sub claim")
	}
	if c.Tenant == "" {
		return fail("token has no tenant claim")
	}
	if problem := tenantid.Problem(c.Tenant); problem != "" {
		return fail("token tenant %s", problem)
	}
	if len(c.Roles) == 0 {
		return fail("token has no roles claim; include at least one of: %s", roleNames())
	}
	roles := make([]Role, 0, len(c.Roles))
	for _, s := range c.Roles {
		r, ok := ParseRole(s)
		if !ok {
			return fail("unknown role %s; allowed: %s", untrustedQuoted(s), roleNames())
		}
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	return Principal{Subject: c.Subject, Tenant: c.Tenant, Roles: roles}, nil
}

// roleNames lists the known roles for messages, least privileged first.
func roleNames() string {
	return strings.Join([]string{string(RoleViewer), string(RoleAnalyst), string(RoleAdmin), string(RoleIngest)}, ", ")
}

// stamp formats a claim time for a message.
func stamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
