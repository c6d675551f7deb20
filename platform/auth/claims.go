package auth

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/tenantid"
)

// Default claim names of the tenant and the roles.
const (
	DefaultTenantClaim = "tenant"
	DefaultRolesClaim  = "roles"
)

// ClaimNames say where a token carries the tenant and the roles, so tokens
// of an identity provider that cannot add claims named "tenant" and
// "roles" are accepted as they are (as Hasura and Cube allow).
type ClaimNames struct {
	// Namespace, when set, names a top-level claim holding an object in
	// which Tenant and Roles are read (e.g. "https://hasura.io/jwt/claims").
	// Zero: both are top-level claims.
	Namespace string
	// Tenant is the claim holding the tenant id. Zero: DefaultTenantClaim.
	Tenant string
	// Roles is the claim holding the roles: an array of strings or one
	// string. Zero: DefaultRolesClaim.
	Roles string
}

// withDefaults fills the zero names.
func (n ClaimNames) withDefaults() ClaimNames {
	if n.Tenant == "" {
		n.Tenant = DefaultTenantClaim
	}
	if n.Roles == "" {
		n.Roles = DefaultRolesClaim
	}
	return n
}

// where says, for a message, where a claim is read.
func (n ClaimNames) where(claim string) string {
	if n.Namespace != "" {
		return fmt.Sprintf("%q inside the %q claim", claim, n.Namespace)
	}
	return fmt.Sprintf("%q", claim)
}

// tokenClaims is a JWT payload: the registered claims, checked by
// principal, and every claim as raw JSON, where the tenant and roles are
// read under the configured ClaimNames.
type tokenClaims struct {
	jwt.RegisteredClaims
	all map[string]json.RawMessage
}

// UnmarshalJSON keeps the registered claims and every claim.
func (c *tokenClaims) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &c.RegisteredClaims); err != nil {
		return err
	}
	return json.Unmarshal(b, &c.all)
}

// custom reads the tenant and the roles where names say. A claim that is
// absent is empty; one of the wrong JSON type is an error naming it.
func (c *tokenClaims) custom(names ClaimNames) (tenant string, roles []string, err error) {
	claims := c.all
	if names.Namespace != "" {
		raw, ok := c.all[names.Namespace]
		if !ok {
			return "", nil, nil
		}
		claims = nil // a fresh map: unmarshalling into c.all would merge the namespace into the top level
		if err := json.Unmarshal(raw, &claims); err != nil {
			return "", nil, fmt.Errorf("token claim %q must be a JSON object holding %q and %q", names.Namespace, names.Tenant, names.Roles)
		}
	}
	if raw, ok := claims[names.Tenant]; ok {
		if json.Unmarshal(raw, &tenant) != nil {
			return "", nil, fmt.Errorf("token claim %s must be a string (the tenant id)", names.where(names.Tenant))
		}
	}
	if raw, ok := claims[names.Roles]; ok {
		var one string
		if json.Unmarshal(raw, &roles) != nil {
			if json.Unmarshal(raw, &one) != nil {
				return "", nil, fmt.Errorf("token claim %s must be an array of role strings", names.where(names.Roles))
			}
			roles = []string{one}
		}
	}
	return tenant, roles, nil
}

// misplaced says where else the token carries the claim this server reads
// as claim (whose default name is def): at the top level when a namespace
// is configured, under its default name when it was renamed; "" when
// nowhere. It makes the refusal of a token built for another
// configuration say what to change.
func (c *tokenClaims) misplaced(names ClaimNames, claim, def string) string {
	for _, name := range []string{claim, def} {
		if _, ok := c.all[name]; ok && (names.Namespace != "" || name != claim) {
			return fmt.Sprintf("; the token has a top-level %q claim, which this server does not read", name)
		}
	}
	return ""
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
	names := opts.Claims.withDefaults()
	tenant, roleClaims, err := c.custom(names)
	if err != nil {
		return fail("%s", err.Error())
	}
	if tenant == "" {
		if names == (ClaimNames{}).withDefaults() {
			return fail("token has no tenant claim")
		}
		return fail("token has no tenant claim: this server reads the tenant from %s%s", names.where(names.Tenant), c.misplaced(names, names.Tenant, DefaultTenantClaim))
	}
	if problem := tenantid.Problem(tenant); problem != "" {
		return fail("token tenant %s", problem)
	}
	if len(roleClaims) == 0 {
		if names == (ClaimNames{}).withDefaults() {
			return fail("token has no roles claim; include at least one of: %s", roleNames())
		}
		return fail("token has no roles claim: this server reads the roles from %s%s; include at least one of: %s",
			names.where(names.Roles), c.misplaced(names, names.Roles, DefaultRolesClaim), roleNames())
	}
	roles := make([]Role, 0, len(roleClaims))
	for _, s := range roleClaims {
		r, ok := ParseRole(s)
		if !ok {
			return fail("unknown role %s; allowed: %s", untrustedQuoted(s), roleNames())
		}
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	return Principal{Subject: c.Subject, Tenant: tenant, Roles: roles}, nil
}

// roleNames lists the known roles for messages, least privileged first.
func roleNames() string {
	return strings.Join([]string{string(RoleViewer), string(RoleAnalyst), string(RoleAdmin), string(RoleIngest)}, ", ")
}

// stamp formats a claim time for a message.
func stamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
