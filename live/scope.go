package live

import (
	"context"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/reqid"
)

// refresherContext is the context a key's refresher computes in: the
// verified principal of the key's first subscriber on a fresh background
// context, so the refresher outlives that subscriber without keeping its
// connection's values alive. Each refresh adds its own request id.
//
// Sharing one principal's render with every later subscriber of the key is
// safe because the key holds everything the data depends on: the tenant (so
// a render never crosses tenants — Subscribe refuses a key whose tenant is
// not the caller's), and the role set. Subscribers of one tenant see the
// same data today whatever their role, so including the role costs only
// some sharing; if a role ever changes what a dashboard shows, keys of
// different roles already never meet.
func refresherContext(ctx context.Context, key Key) (context.Context, error) {
	const op = "live.Subscribe"
	p, ok := auth.PrincipalFrom(ctx)
	if !ok {
		return nil, errs.E(op, errs.KindUnauthenticated, "")
	}
	if p.Tenant != key.Tenant {
		// A caller bug, never the client's doing: the resolver builds the
		// key from the same principal.
		return nil, errs.E(op, errs.KindForbidden, "live data belongs to another tenant")
	}
	return auth.WithPrincipal(context.Background(), p), nil
}

// refreshContext gives one refresh its own request id (ClickHouse
// log_comment, logs).
func refreshContext(ctx context.Context) context.Context {
	return reqid.With(ctx, "live-"+reqid.New())
}
