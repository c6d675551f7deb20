package apikeys_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/apikeys"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
)

func as(tenant string, role auth.Role) context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{Subject: "u-" + tenant, Tenant: tenant, Roles: []auth.Role{role}})
}

// jwtOnly stands for the JWT chain: it accepts the token "jwt".
type jwtOnly struct{}

func (jwtOnly) Verify(_ context.Context, raw string) (auth.Principal, error) {
	if raw == "jwt" {
		return auth.Principal{Subject: "u", Tenant: "t"}, nil
	}
	return auth.Principal{}, errs.E("test", errs.KindUnauthenticated, "bad token")
}

func TestAPIKeys(t *testing.T) {
	db := storetest.Embedded(t)
	_, err := store.Migrate(context.Background(), db, store.MigrateOptions{})
	require.NoError(t, err)
	keys := apikeys.NewService(db)
	v := &apikeys.Verifier{Keys: keys, Next: jwtOnly{}, TTL: 200 * time.Millisecond}
	adminA, adminB := as("tenant-a", auth.RoleAdmin), as("tenant-b", auth.RoleAdmin)

	k, secret, err := keys.Create(adminA, "web shop", auth.RoleIngest)
	require.NoError(t, err)
	assert.Regexp(t, `^ak_[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{43}$`, secret)
	var plain uint64
	require.NoError(t, db.QueryRow(context.Background(), []any{&plain}, "SELECT count() FROM api_keys WHERE key_hash = ?", secret))
	assert.Zero(t, plain, "the secret itself is never stored")

	p, err := v.Verify(context.Background(), secret)
	require.NoError(t, err)
	assert.Equal(t, auth.Principal{Subject: "apikey:" + k.ID, Tenant: "tenant-a", Roles: []auth.Role{auth.RoleIngest}}, p,
		"a key of tenant A acts for tenant A only, with its one role")
	_, err = v.Verify(context.Background(), secret+"x")
	assert.Equal(t, errs.KindUnauthenticated, errs.KindOf(err))
	p, err = v.Verify(context.Background(), "jwt")
	require.NoError(t, err)
	assert.Equal(t, "t", p.Tenant, "other tokens go to the JWT chain")

	t.Run("tenant B neither lists nor revokes A's key", func(t *testing.T) {
		list, err := keys.List(adminB)
		require.NoError(t, err)
		assert.Empty(t, list)
		_, err = keys.Revoke(adminB, k.ID)
		assert.Equal(t, errs.KindNotFound, errs.KindOf(err))
		_, err = v.Verify(context.Background(), secret)
		assert.NoError(t, err, "still valid")
	})

	refusals := []struct {
		name string
		ctx  context.Context
		key  string
		role auth.Role
		kind errs.Kind
	}{
		{"analyst may not create", as("tenant-a", auth.RoleAnalyst), "x", auth.RoleIngest, errs.KindForbidden},
		{"no admin keys", adminA, "x", auth.RoleAdmin, errs.KindInvalid},
		{"empty name", adminA, " ", auth.RoleViewer, errs.KindInvalid},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := keys.Create(tc.ctx, tc.key, tc.role)
			assert.Equal(t, tc.kind, errs.KindOf(err), "%v", err)
		})
	}

	list, err := keys.List(adminA)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "web shop", list[0].Name)
	assert.False(t, list[0].Revoked)

	revoked, err := keys.Revoke(adminA, k.ID)
	require.NoError(t, err)
	assert.True(t, revoked.Revoked)
	deadline := time.Now().Add(2 * v.TTL)
	for {
		_, err = v.Verify(context.Background(), secret)
		if err != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling the verifier's cache expiry, bounded by the deadline
	}
	require.Error(t, err, "a revoked key is refused within the cache TTL")
	assert.Equal(t, errs.KindUnauthenticated, errs.KindOf(err))
	list, err = keys.List(adminA)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.True(t, list[0].Revoked)
}
