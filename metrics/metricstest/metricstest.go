// Package metricstest holds test fixtures shared by the packages that sit on
// the metric layer (metrics, dashboards): generated events and callers.
package metricstest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/store"
)

// As is a context of a verified admin of tenant.
func As(tenant string) context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{Subject: "tester@" + tenant, Tenant: tenant, Roles: []auth.Role{auth.RoleAdmin}})
}

// SeedJanuary inserts n learning events for tenant in January 2026: types
// cycle through six learning types, 40 users, 5 courses, scores 0–99,
// seconds 0–599. salt shifts values so tenants differ.
func SeedJanuary(t testing.TB, db *store.DB, tenant string, n, salt int) {
	t.Helper()
	require.NoError(t, db.Exec(context.Background(), `
		INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		SELECT ?, concat(?, '-', toString(number)),
		       ['course.enrolled','lesson.completed','quiz.submitted','video.watched','course.completed','user.login'][(number + ?) % 6 + 1],
		       concat('u', toString((number * 7 + ?) % 40)), concat('s', toString(number % 90)),
		       toDateTime64('2026-01-01 00:00:00', 3, 'UTC') + toIntervalSecond((number * 3917 + ?) % (31 * 86400)),
		       toDateTime64('2026-02-01 00:00:00', 3, 'UTC'),
		       toJSONString(map('course_id', concat('c', toString(number % 5)), 'score', toString((number * 13 + ?) % 100), 'seconds', toString((number * 31) % 600)))
		FROM numbers(?)`, tenant, tenant, salt, salt, salt*1000, salt, n))
}
