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

// actor is the verified caller's subject, or systemActor.
func actor(ctx context.Context) string {
	if p, ok := auth.PrincipalFrom(ctx); ok && p.Subject != "" {
		return p.Subject
	}
	return systemActor
}

// auditRow is one audit_log row for a command on a metric.
func auditRow(ctx context.Context, tenant string, at time.Time, action string, before, after *Definition) []any {
	id := after.ID
	return []any{tenant, at, actor(ctx), action, "metric", id, reqid.From(ctx), jsonOrEmpty(before), jsonOrEmpty(after)}
}

// jsonOrEmpty encodes d, or "" for nil.
func jsonOrEmpty(d *Definition) string {
	if d == nil {
		return ""
	}
	b, _ := json.Marshal(d)
	return string(b)
}

// writeAudit inserts audit rows.
func writeAudit(ctx context.Context, db *store.DB, rows [][]any) error {
	return db.Insert(ctx, store.Insert{Table: auditTable, Columns: auditColumns, Rows: rows})
}
