package ingest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
)

func TestDeadLettersRecentIsTenantScoped(t *testing.T) {
	b, js, db, _ := firehose(t)
	for i := range 3 {
		publish(t, js, "events.tenant-a.user.login", []byte(fmt.Sprintf(`{"id":"a%d"}`, i)), "")
	}
	publish(t, js, "events.tenant-b.user.login", []byte(`[]`), "")
	stop := start(t, ingest.NewDirectConsumer(b, db, nil, nil, ingest.DirectConfig{Sink: fastSink}))
	eventually(t, testTimeout, func() bool {
		return countDeadLetters(t, db, "tenant-a") == 3 && countDeadLetters(t, db, "tenant-b") == 1
	}, "dead letters recorded")
	require.NoError(t, stop())

	dl := ingest.NewDeadLetters(db)
	as := func(tenant string) context.Context {
		return auth.WithPrincipal(context.Background(), auth.Principal{Subject: "admin", Tenant: tenant, Roles: []auth.Role{auth.RoleAdmin}})
	}
	tests := []struct {
		name   string
		ctx    context.Context
		limit  int
		want   int
		reason ingest.Reason
	}{
		{"tenant a sees its own", as("tenant-a"), 10, 3, ingest.ReasonMissingField},
		{"limit applies", as("tenant-a"), 2, 2, ingest.ReasonMissingField},
		{"tenant b sees only its own", as("tenant-b"), 10, 1, ingest.ReasonInvalidJSON},
		{"a tenant without letters sees none", as("tenant-c"), 10, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dl.Recent(tc.ctx, tc.limit)
			require.NoError(t, err)
			require.Len(t, got, tc.want)
			for _, r := range got {
				assert.Equal(t, tc.reason, r.Reason)
				assert.NotEmpty(t, r.Message)
				assert.NotEmpty(t, r.Payload)
				assert.WithinDuration(t, time.Now(), r.ReceivedAt, time.Minute)
			}
		})
	}
	t.Run("no tenant fails closed", func(t *testing.T) {
		_, err := dl.Recent(context.Background(), 10)
		require.Error(t, err)
		assert.True(t, errs.Is(err, errs.KindUnauthenticated))
	})
}
