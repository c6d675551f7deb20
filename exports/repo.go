package exports

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/reqid"
	"github.com/learnhub/analytics-service/store"
)

// Tables written by this package (migrations 0004 and 0006).
const (
	jobsTable  = "export_jobs"
	auditTable = "audit_log"
)

var (
	jobColumns = []string{"tenant_id", "job_id", "version", "is_deleted", "status", "format", "source", "spec",
		"requested_by", "object_key", "rows", "bytes", "error", "created_at", "started_at", "finished_at",
		"url_expires_at", "expires_at", "updated_at"}
	auditColumns = []string{"tenant_id", "at", "actor", "action", "entity_type", "entity_id", "request_id", "before", "after"}
	selectJobs   = "SELECT " + strings.Join(jobColumns, ", ") + " FROM " + store.QuoteIdent(jobsTable) + " FINAL"
)

// repo reads and writes export_jobs rows.
type repo struct {
	db  *store.DB
	now func() time.Time
}

// save writes j as a new version: max(previous+1, now in µs), so the last
// writer wins and versions only grow.
func (r repo) save(ctx context.Context, j *Job) error {
	now := r.now().UTC()
	j.Version = max(j.Version+1, uint64(now.UnixMicro()))
	j.UpdatedAt = now.Truncate(time.Millisecond)
	spec, err := json.Marshal(j.Spec)
	if err != nil {
		return errs.Wrap("exports.save", errs.KindInternal, err, "")
	}
	row := []any{j.Tenant, j.ID, j.Version, uint8(0), string(j.Status), string(j.Format), string(j.Source), string(spec),
		j.RequestedBy, j.ObjectKey, j.Rows, j.Bytes, j.Error, j.CreatedAt, optTime(j.StartedAt), optTime(j.FinishedAt),
		optTime(j.URLExpiresAt), optTime(j.ExpiresAt), j.UpdatedAt}
	return r.db.Insert(ctx, store.Insert{Table: jobsTable, Columns: jobColumns, Rows: [][]any{row}})
}

// audit writes one audit_log row for a command on a job.
func (r repo) audit(ctx context.Context, action string, before, after *Job) error {
	enc := func(j *Job) string {
		if j == nil {
			return ""
		}
		b, _ := json.Marshal(j)
		return string(b)
	}
	actor := "system"
	if p, ok := auth.PrincipalFrom(ctx); ok && p.Subject != "" {
		actor = p.Subject
	}
	row := []any{after.Tenant, after.UpdatedAt, actor, action, "export", after.ID, reqid.From(ctx), enc(before), enc(after)}
	return r.db.Insert(ctx, store.Insert{Table: auditTable, Columns: auditColumns, Rows: [][]any{row}})
}

// get reads one job of the scope's tenant; missing is KindNotFound.
func (r repo) get(ctx context.Context, scope store.Scope, id string) (*Job, error) {
	guard, tenant := scope.Predicate("")
	list, err := r.query(ctx, selectJobs+" WHERE "+guard+" AND job_id = ?", tenant, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errs.E("exports.Get", errs.KindNotFound, "export "+strconv.Quote(id)+" not found")
	}
	return list[0], nil
}

// countActive counts the tenant's QUEUED and RUNNING jobs.
func (r repo) countActive(ctx context.Context, scope store.Scope) (int, error) {
	guard, tenant := scope.Predicate("")
	var n uint64
	err := r.db.QueryRow(ctx, []any{&n}, "SELECT count() FROM "+store.QuoteIdent(jobsTable)+" FINAL WHERE "+guard+
		" AND status IN (?, ?)", tenant, string(StatusQueued), string(StatusRunning))
	return int(n), err
}

// page lists the tenant's jobs newest first after a cursor.
func (r repo) page(ctx context.Context, scope store.Scope, first int, after string) (*Page, error) {
	guard, tenant := scope.Predicate("")
	sql, args, err := store.KeysetPage("exports.List", selectJobs+" WHERE "+guard, []any{tenant}, "created_at", "job_id", first, after)
	if err != nil {
		return nil, err
	}
	list, err := r.query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	p := &Page{}
	p.Jobs, p.HasNext, p.EndCursor = store.KeysetTrim(list, first, func(j *Job) (time.Time, string) { return j.CreatedAt, j.ID })
	return p, nil
}

// DangerousUnscopedActive lists every tenant's QUEUED and RUNNING jobs
// (for the recoverer, which runs without a caller).
func (r repo) dangerousUnscopedByStatus(ctx context.Context, statuses ...Status) ([]*Job, error) {
	args := make([]any, len(statuses))
	marks := make([]string, len(statuses))
	for i, s := range statuses {
		args[i], marks[i] = string(s), "?"
	}
	return r.query(ctx, selectJobs+" WHERE status IN ("+strings.Join(marks, ", ")+") ORDER BY tenant_id, created_at", args...)
}

func (r repo) query(ctx context.Context, sql string, args ...any) ([]*Job, error) {
	rows, err := r.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Job{}
	for rows.Next() {
		j := &Job{}
		var deleted uint8
		var status, format, source, spec string
		if err := rows.Scan(&j.Tenant, &j.ID, &j.Version, &deleted, &status, &format, &source, &spec,
			&j.RequestedBy, &j.ObjectKey, &j.Rows, &j.Bytes, &j.Error, &j.CreatedAt, &j.StartedAt, &j.FinishedAt,
			&j.URLExpiresAt, &j.ExpiresAt, &j.UpdatedAt); err != nil {
			return nil, err
		}
		j.Status, j.Format, j.Source = Status(status), Format(format), SourceKind(source)
		if err := json.Unmarshal([]byte(spec), &j.Spec); err != nil {
			return nil, errs.Wrap("exports.load", errs.KindInternal, err, "")
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// optTime is a nullable time as an insert value.
func optTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}
