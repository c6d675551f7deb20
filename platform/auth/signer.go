package auth

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/tenantid"
)

// HMACSigner issues HS256 tokens that HMACVerifier with the same secret
// accepts. It backs `analyticsd token` and the dev token printed by `make run`.
type HMACSigner struct {
	secret []byte
	now    func() time.Time
	claims ClaimNames
}

// NewHMACSigner returns a signer for secret, which must be at least
// MinHMACSecretLen bytes.
func NewHMACSigner(secret []byte) (*HMACSigner, error) {
	if err := checkSecret("auth.NewHMACSigner", secret); err != nil {
		return nil, err
	}
	return &HMACSigner{secret: slices.Clone(secret), now: time.Now}, nil
}

// WithClaims returns a signer that writes the tenant and roles where names
// say, as verifiers configured with the same names read them.
func (s *HMACSigner) WithClaims(names ClaimNames) *HMACSigner {
	c := *s
	c.claims = names
	return &c
}

// Sign returns a token for p that expires after ttl. p must pass the same
// checks a verifier applies: a subject, a valid tenant and known roles.
func (s *HMACSigner) Sign(p Principal, ttl time.Duration) (string, error) {
	const op = "auth.Sign"
	if err := checkPrincipal(op, p); err != nil {
		return "", err
	}
	if ttl <= 0 {
		return "", errs.Invalid(op, "ttl", fmt.Sprintf("token lifetime %s must be positive, e.g. 24h", ttl))
	}
	now := s.now().Truncate(time.Second)
	roles := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		roles[i] = string(r)
	}
	names := s.claims.withDefaults()
	custom := jwt.MapClaims{names.Tenant: p.Tenant, names.Roles: roles}
	claims := jwt.MapClaims{"sub": p.Subject, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix()}
	if names.Namespace != "" {
		claims[names.Namespace] = custom
	} else {
		maps.Copy(claims, custom)
	}
	raw, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.secret)
	if err != nil {
		return "", errs.Wrap(op, errs.KindInternal, err, "")
	}
	return raw, nil
}

// checkPrincipal refuses a principal no verifier would accept back.
func checkPrincipal(op string, p Principal) error {
	if p.Subject == "" {
		return errs.Invalid(op, "subject", "principal has no subject; name the user or service the token is for")
	}
	if problem := tenantid.Problem(p.Tenant); problem != "" {
		return errs.Invalid(op, "tenant", "tenant "+problem)
	}
	if len(p.Roles) == 0 {
		return errs.Invalid(op, "roles", "principal has no roles; give at least one of: "+roleNames())
	}
	for _, r := range p.Roles {
		if _, ok := ParseRole(string(r)); !ok {
			return errs.Invalid(op, "roles", fmt.Sprintf("unknown role %q; allowed: %s", r, roleNames()))
		}
	}
	return nil
}
