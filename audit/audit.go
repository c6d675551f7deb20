// Package audit writes the audit log: one audit_log row per command on a
// metadata entity (a metric, dashboard, cohort, report, erasure request),
// naming the verified caller, the request id and the entity before and after.
// Every metadata package records its commands through it.
package audit

import (
	"context"

	"time"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/reqid"
	"github.com/learnhub/analytics-service/store"
)

// table is the audit log created by migration 0004.
const table = "audit_log"

// SystemActor writes rows no caller asked for (the catalog install, scheduled
// work).
const SystemActor = "system"

// columns are the audit_log columns in insert order.
var columns = []string{"tenant_id", "at", "actor", "action", "entity_type", "entity_id", "request_id", "before", "after"}

// Actor is the verified caller's subject, or SystemActor for work no caller
// asked for; every metadata package records it as updated_by and in audit rows.
func Actor(ctx context.Context) string {
	if p, ok := auth.PrincipalFrom(ctx); ok && p.Subject != "" {
		return p.Subject
	}
	return SystemActor
}

// Row is one audit_log row (for Write) of a command on any metadata entity:
// before and after are JSON, before empty on create.
func Row(ctx context.Context, tenant string, at time.Time, action, entityType, entityID, before, after string) []any {
	return []any{tenant, at, Actor(ctx), action, entityType, entityID, reqid.From(ctx), before, after}
}

// Write inserts audit rows made by Row.
func Write(ctx context.Context, db *store.DB, rows [][]any) error {
	return db.Insert(ctx, store.Insert{Table: table, Columns: columns, Rows: rows})
}
