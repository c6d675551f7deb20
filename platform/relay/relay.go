// Package relay holds what every GraphQL listing shares (README "GraphQL
// conventions"): opaque paging cursors bound to the tenant that was given
// them, and the paging of lists a domain returns whole. Domains keep their
// own positions (a keyset, a key); the resolvers wrap them with Cursor on
// the way out and unwrap them with Open on the way in.
package relay

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/learnhub/analytics-service/platform/errs"
)

// version starts every cursor so a later format can tell the old one apart.
const version = "c1"

// tag is a short digest of the tenant: a cursor does not show whose it is,
// but it shows whether it is the caller's.
func tag(tenant string) string {
	sum := sha256.Sum256([]byte(tenant))
	return hex.EncodeToString(sum[:6])
}

// Cursor wraps inner, a domain's own position in a listing, into the
// opaque cursor handed to tenant (base64url, stable for the same position).
func Cursor(tenant, inner string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(version + "." + tag(tenant) + "." + inner))
}

// Open unwraps a cursor given to tenant and returns the domain's position;
// an empty cursor is an empty position (the first page). Anything that is
// not a cursor, and a cursor given to another tenant, is KindInvalid for
// the field "after" of op: a cursor never moves between tenants.
func Open(op, tenant, cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	parts := strings.SplitN(string(raw), ".", 3)
	if err != nil || len(parts) != 3 || parts[0] != version || parts[2] == "" {
		return "", errs.Invalid(op, "after", "after is not a cursor from a previous page: pass pageInfo.endCursor (or an edge's cursor) unchanged")
	}
	if parts[1] != tag(tenant) {
		return "", errs.Invalid(op, "after", "after is a cursor of another tenant's listing: page with the cursors your own queries returned")
	}
	return parts[2], nil
}

// Window pages a list the domain returns whole, in the domain's order:
// first items (1 to max, 0 means def) after the item whose key is after
// (none: from the start). A key no longer in the list (the item was
// deleted) is KindInvalid telling the caller to start again.
func Window[T any](op string, items []T, first, def, max int, after string, key func(T) string) (page []T, hasNext bool, err error) {
	switch {
	case first < 0 || first > max:
		return nil, false, errs.Invalid(op, "first", fmt.Sprintf("first %d must be between 1 and %d", first, max))
	case first == 0:
		first = def
	}
	start := 0
	if after != "" {
		start = -1
		for i, it := range items {
			if key(it) == after {
				start = i + 1
				break
			}
		}
		if start < 0 {
			return nil, false, errs.Invalid(op, "after", "after points at an item that is no longer listed: start again without after")
		}
	}
	rest := items[start:]
	if len(rest) > first {
		return rest[:first], true, nil
	}
	return rest, false, nil
}
