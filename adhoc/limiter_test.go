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
	l := newLimiter(2)
	assert.True(t, l.acquire("a"))
	assert.True(t, l.acquire("a"))
	assert.False(t, l.acquire("a"), "third concurrent query of a tenant")
	assert.True(t, l.acquire("b"), "another tenant is not affected")
	l.release("a")
	assert.True(t, l.acquire("a"))
	l.release("a")
	l.release("a")
	l.release("b")
	assert.Empty(t, l.running, "idle tenants leave no entries")
}

func TestRunRateLimited(t *testing.T) {
	db := storetest.Embedded(t)
	_, err := store.Migrate(context.Background(), db, store.MigrateOptions{})
	require.NoError(t, err)
	svc := NewService(db, Config{MaxConcurrentPerTenant: 1})
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "s", Tenant: "acme"})
	require.True(t, svc.limiter.acquire("acme")) // a query in flight
	_, err = svc.Run(ctx, "SELECT 1", 0)
	assert.Equal(t, errs.KindRateLimited, errs.KindOf(err))
	svc.limiter.release("acme")
	res, err := svc.Run(ctx, "SELECT 1", 0)
	require.NoError(t, err)
	assert.Equal(t, [][]any{{int64(1)}}, res.Rows)
	var n uint64
	require.NoError(t, db.QueryRow(context.Background(), []any{&n}, "SELECT count() FROM query_audit WHERE error_code = 'RATE_LIMITED'"))
	assert.Equal(t, uint64(1), n, "refused queries are audited too")
}
