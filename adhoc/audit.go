package adhoc

import (
	"context"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// AuditTable holds one row per ad-hoc query (store/migrations/0003).
const AuditTable = "query_audit"

// auditTimeout bounds the audit insert, which runs even when the
// request's context is already cancelled.
const auditTimeout = 5 * time.Second

// auditRecord is one row of AuditTable.
type auditRecord struct {
	tenant    string
	at        time.Time
	subject   string
	requestID string
	sql       string
	printed   string // hex sha256 of the printed SQL; empty when refused before printing
	duration  time.Duration
	rows      int
}

var auditColumns = []string{"tenant_id", "at", "subject", "request_id", "sql", "printed_sha256", "duration_ms", "rows", "error_code", "error"}

// audit writes rec with the query's outcome. It outlives a cancelled
// request (the row must exist for a query that ran).
func (s *Service) audit(ctx context.Context, rec auditRecord, runErr error) error {
	code, msg := "", ""
	if runErr != nil {
		code, msg = errs.KindOf(runErr).String(), runErr.Error()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	err := s.db.Insert(ctx, store.Insert{
		Table:   AuditTable,
		Columns: auditColumns,
		Rows: [][]any{{
			rec.tenant, rec.at.UTC(), rec.subject, rec.requestID, rec.sql, rec.printed,
			uint32(min(rec.duration.Milliseconds(), 1<<32-1)), uint64(rec.rows), code, msg,
		}},
	})
	if err != nil {
		return errs.Wrap("adhoc.audit", errs.KindUnavailable, err, "the query could not be audited; retry later")
	}
	return nil
}
