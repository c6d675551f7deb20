package adhoc

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
)

func TestLimiter(t *testing.T) {
	l := newLimiter(2, 3)
	assert.Equal(t, capNone, l.acquire("a"))
	assert.Equal(t, capNone, l.acquire("a"))
	assert.Equal(t, capTenant, l.acquire("a"), "third concurrent query of a tenant")
	assert.Equal(t, capNone, l.acquire("b"), "another tenant is not affected")
	assert.Equal(t, capProcess, l.acquire("c"), "a fourth query in the process, whatever its tenant")
	l.release("a")
	assert.Equal(t, capNone, l.acquire("c"), "a finished query frees a process slot")
	l.release("a")
	l.release("b")
	l.release("c")
	assert.Empty(t, l.running, "idle tenants leave no entries")
	assert.Zero(t, l.total)
}

// A query over a cap is refused while another holds the slot, audited,
// and admitted once the slot is free.
func TestRunCapsRefuse(t *testing.T) {
	db := storetest.Embedded(t)
	_, err := store.Migrate(context.Background(), db, store.MigrateOptions{})
	require.NoError(t, err)
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "s", Tenant: "acme"})
	for i, tc := range []struct {
		name, holder, reason, msg string
		cfg                       Config
	}{
		{"per tenant", "acme", "", "too many ad-hoc queries are running for your tenant (at most 1 at once); retry when one has finished",
			Config{MaxConcurrentPerTenant: 1}},
		{"process wide", "globex", "SERVER_BUSY", "the server is running its maximum of 1 ad-hoc queries at once; retry in a few seconds",
			Config{MaxConcurrent: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := NewService(db, tc.cfg)
			require.Equal(t, capNone, svc.limiter.acquire(tc.holder)) // a query in flight
			assert.Equal(t, 1, svc.Running(), "the analytics_adhoc_queries_running gauge reads the held slot")
			_, err := svc.Run(ctx, "SELECT 1", 0)
			assert.Equal(t, errs.KindRateLimited, errs.KindOf(err))
			assert.Equal(t, tc.msg, errs.PublicMessage(err))
			if tc.reason != "" {
				assert.Equal(t, tc.reason, errs.PublicFields(err)["reason"])
			}
			svc.limiter.release(tc.holder)
			assert.Zero(t, svc.Running())
			res, err := svc.Run(ctx, "SELECT 1", 0)
			require.NoError(t, err, "the slot is free again")
			assert.Equal(t, [][]any{{int64(1)}}, res.Rows)
			var n uint64
			require.NoError(t, db.QueryRow(context.Background(), []any{&n}, "SELECT count() FROM query_audit WHERE error_code = 'RATE_LIMITED'"))
			assert.Equal(t, uint64(i+1), n, "refused queries are audited too")
		})
	}
}
