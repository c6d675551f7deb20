package metrics

import (
	"context"
	"encoding/json"
	"time"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/reqid"
	"github.com/learnhub/analytics-service/store"
)

// auditTable is the audit log created by migration 0004.
const auditTable = "audit_log"

// systemActor writes rows no caller asked for (the catalog install).
const systemActor = "system"

// auditColumns are the audit_log columns in insert order.
var auditColumns = []string{"tenant_id", "at", "actor", "action", "entity_type", "entity_id", "request_id", "before", "after"}

// Actor is the verified caller's subject, or "system" for work no caller
// asked for; every metadata package records it as updated_by and in audit rows.
func Actor(ctx context.Context) string {
	if p, ok := auth.PrincipalFrom(ctx); ok && p.Subject != "" {
		return p.Subject
	}
	return systemActor
}

// auditRow is one audit_log row for a command on a metric.
func auditRow(ctx context.Context, tenant string, at time.Time, action string, before, after *Definition) []any {
	return AuditRow(ctx, tenant, at, action, "metric", after.ID, jsonOrEmpty(before), jsonOrEmpty(after))
}

// AuditRow is one audit_log row (for WriteAudit) of a command on any
// metadata entity: before and after are JSON, before empty on create.
func AuditRow(ctx context.Context, tenant string, at time.Time, action, entityType, entityID, before, after string) []any {
	return []any{tenant, at, Actor(ctx), action, entityType, entityID, reqid.From(ctx), before, after}
}

// jsonOrEmpty encodes d, or "" for nil.
func jsonOrEmpty(d *Definition) string {
	if d == nil {
		return ""
	}
	b, _ := json.Marshal(d)
	return string(b)
}

// WriteAudit inserts audit rows made by AuditRow.
func WriteAudit(ctx context.Context, db *store.DB, rows [][]any) error {
	return db.Insert(ctx, store.Insert{Table: auditTable, Columns: auditColumns, Rows: rows})
}
