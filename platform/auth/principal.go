// Package auth verifies bearer tokens and carries the verified caller
// (subject, tenant, roles) through the request context. The tenant of every
// data access comes from here and from nowhere else.
package auth

import (
	"context"
	"slices"
)

// Role is what a caller may do within its tenant.
type Role string

// The roles, from least to most privileged. Each one implies the ones before it.
const (
	RoleViewer  Role = "viewer"  // reads dashboards and metrics
	RoleAnalyst Role = "analyst" // viewer + ad-hoc queries and exports
	RoleAdmin   Role = "admin"   // analyst + definitions, schedules, privacy operations
)

// RoleIngest sends events over HTTP (POST /v1/events) and reads nothing: the
// key a producer (an LMS, a mobile backend) holds. It stands outside the
// chain above, so reading roles never write events; admin implies it.
const RoleIngest Role = "ingest"

// Principal is a verified caller.
type Principal struct {
	Subject string
	Tenant  string
	Roles   []Role
}

type principalKey struct{}

// rank orders roles so a higher role satisfies a lower requirement.
var rank = map[Role]int{RoleViewer: 1, RoleAnalyst: 2, RoleAdmin: 3}

// ParseRole returns the role named s, or false when s names none.
func ParseRole(s string) (Role, bool) {
	r := Role(s)
	_, ok := rank[r]
	return r, ok || r == RoleIngest
}

// Has reports whether p holds role r or a role above it (for RoleIngest:
// ingest or admin).
func (p Principal) Has(r Role) bool {
	if r == RoleIngest {
		return slices.ContainsFunc(p.Roles, func(have Role) bool { return have == RoleIngest || have == RoleAdmin })
	}
	need := rank[r]
	return slices.ContainsFunc(p.Roles, func(have Role) bool { return rank[have] >= need && need > 0 })
}

// WithPrincipal returns ctx carrying p. Only the authentication middleware
// (and tests) call it, after verifying a token.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the verified caller, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok && p.Tenant != ""
}

// TenantFrom returns the verified caller's tenant, if any. The SQL layer uses
// it to scope every read and fails closed when it is absent.
func TenantFrom(ctx context.Context) (string, bool) {
	p, ok := PrincipalFrom(ctx)
	return p.Tenant, ok
}
