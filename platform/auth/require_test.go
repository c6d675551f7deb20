package auth_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
)

func TestRequire(t *testing.T) {
	v, err := auth.NewHMACVerifier([]byte(testSecret), auth.VerifyOptions{})
	require.NoError(t, err)
	as := func(roles ...auth.Role) context.Context {
		return auth.WithPrincipal(context.Background(), auth.Principal{Subject: "u", Tenant: "demo", Roles: roles})
	}

	tests := []struct {
		name     string
		ctx      context.Context
		need     auth.Role
		wantKind errs.Kind // zero (KindInternal) never expected here; 0 means success
		wantMsg  string
	}{
		{name: "viewer reads", ctx: as(auth.RoleViewer), need: auth.RoleViewer},
		{name: "analyst implies viewer", ctx: as(auth.RoleAnalyst), need: auth.RoleViewer},
		{name: "admin implies analyst", ctx: as(auth.RoleAdmin), need: auth.RoleAnalyst},
		{name: "admin implies admin", ctx: as(auth.RoleAdmin), need: auth.RoleAdmin},
		{name: "any role suffices", ctx: as(auth.RoleViewer, auth.RoleAdmin), need: auth.RoleAdmin},
		{
			name: "viewer is not admin", ctx: as(auth.RoleViewer), need: auth.RoleAdmin,
			wantKind: errs.KindForbidden, wantMsg: "this operation needs role admin; your roles: viewer",
		},
		{
			name: "analyst is not admin", ctx: as(auth.RoleViewer, auth.RoleAnalyst), need: auth.RoleAdmin,
			wantKind: errs.KindForbidden, wantMsg: "this operation needs role admin; your roles: viewer, analyst",
		},
		{
			name: "viewer is not analyst", ctx: as(auth.RoleViewer), need: auth.RoleAnalyst,
			wantKind: errs.KindForbidden, wantMsg: "this operation needs role analyst; your roles: viewer",
		},
		// ingest stands outside the reading chain: it writes events only.
		{name: "ingest sends", ctx: as(auth.RoleIngest), need: auth.RoleIngest},
		{name: "admin implies ingest", ctx: as(auth.RoleAdmin), need: auth.RoleIngest},
		{
			name: "viewer is not ingest", ctx: as(auth.RoleViewer), need: auth.RoleIngest,
			wantKind: errs.KindForbidden, wantMsg: "this operation needs role ingest; your roles: viewer",
		},
		{
			name: "analyst is not ingest", ctx: as(auth.RoleAnalyst), need: auth.RoleIngest,
			wantKind: errs.KindForbidden, wantMsg: "this operation needs role ingest; your roles: analyst",
		},
		{
			name: "ingest reads nothing", ctx: as(auth.RoleIngest), need: auth.RoleViewer,
			wantKind: errs.KindForbidden, wantMsg: "this operation needs role viewer; your roles: ingest",
		},
		{
			name: "anonymous", ctx: context.Background(), need: auth.RoleViewer,
			wantKind: errs.KindUnauthenticated, wantMsg: "authentication required: send Authorization: Bearer <token>",
		},
		{
			name: "refused token gives its reason", ctx: auth.Authenticate(context.Background(), v, "Bearer a.b.c"), need: auth.RoleViewer,
			wantKind: errs.KindUnauthenticated,
			wantMsg:  "token is malformed: its header is not base64url",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := auth.Require(tc.ctx, tc.need)
			if tc.wantMsg != "" {
				require.Error(t, err)
				assert.Equal(t, tc.wantKind, errs.KindOf(err))
				assert.Equal(t, tc.wantMsg, errs.PublicMessage(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "demo", p.Tenant)
		})
	}
}

func TestRequireUnknownRoleIsABug(t *testing.T) {
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "u", Tenant: "demo", Roles: []auth.Role{auth.RoleAdmin}})
	_, err := auth.Require(ctx, "root")
	require.Error(t, err)
	assert.Equal(t, errs.KindInternal, errs.KindOf(err))
}
