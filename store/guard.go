package store

import (
	"context"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
)

// Scope is the tenant a statement may read. It can only be made from a
// verified caller in the context (ScopeFrom) or, for system work that names
// its tenant explicitly (ingest, jobs), by DangerousScopeForTenant.
type Scope struct{ tenant string }

// ScopeFrom returns the verified caller's tenant scope and fails closed: no
// tenant in the context is an error, never an unscoped read.
func ScopeFrom(ctx context.Context) (Scope, error) {
	t, ok := auth.TenantFrom(ctx)
	if !ok || t == "" {
		return Scope{}, errs.E("store.ScopeFrom", errs.KindUnauthenticated,
			"no tenant in the request: send a bearer token issued for your tenant")
	}
	return Scope{tenant: t}, nil
}

// DangerousScopeForTenant builds a scope from a tenant id that did not come
// from a verified token. Only background work that got the tenant from its
// own trusted input (a job payload it enqueued, an event envelope already
// validated) may call it.
func DangerousScopeForTenant(tenant string) (Scope, error) {
	if tenant == "" {
		return Scope{}, errs.E("store.DangerousScopeForTenant", errs.KindInternal, "empty tenant")
	}
	return Scope{tenant: tenant}, nil
}

// Tenant is the scoped tenant id.
func (s Scope) Tenant() string { return s.tenant }

// Predicate returns the guard condition for a table reference (alias may be
// empty) and its argument: "`alias`.`tenant_id` = ?".
func (s Scope) Predicate(alias string) (string, any) {
	col := QuoteIdent("tenant_id")
	if alias != "" {
		col = QuoteIdent(alias) + "." + col
	}
	return col + " = ?", s.tenant
}
