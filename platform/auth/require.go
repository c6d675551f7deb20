package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Require returns the caller when it holds role (or a higher one). Without a
// caller it fails UNAUTHENTICATED, repeating why the token was refused when
// one was sent; with a caller lacking the role it fails FORBIDDEN, naming
// the role needed and the roles held.
func Require(ctx context.Context, role Role) (Principal, error) {
	const op = "auth.Require"
	if _, ok := ParseRole(string(role)); !ok {
		return Principal{}, errs.E(op, errs.KindInternal, fmt.Sprintf("Require called with unknown role %q", role))
	}
	p, ok := PrincipalFrom(ctx)
	if !ok {
		if err := ErrorFrom(ctx); err != nil {
			msg := "token could not be verified; request a new one"
			if errs.Is(err, errs.KindUnauthenticated) {
				msg = errs.PublicMessage(err)
			}
			return Principal{}, errs.Wrap(op, errs.KindUnauthenticated, err, msg)
		}
		return Principal{}, errs.E(op, errs.KindUnauthenticated,
			"authentication required: send Authorization: Bearer <token>")
	}
	if !p.Has(role) {
		held := make([]string, len(p.Roles))
		for i, r := range p.Roles {
			held[i] = string(r)
		}
		roles := strings.Join(held, ", ")
		if roles == "" {
			roles = "none"
		}
		return Principal{}, errs.E(op, errs.KindForbidden,
			fmt.Sprintf("this operation needs role %s; your roles: %s", role, roles))
	}
	return p, nil
}
