package reports

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/audit"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// Tables written by this package (migrations 0010 and 0011; audit_log
// through audit.Write).
const (
	reportsTable    = "reports"
	runsTable       = "report_runs"
	deliveriesTable = "report_deliveries"
	schedulesTable  = "report_schedules"
)

var (
	reportColumns = []string{"tenant_id", "report_id", "version", "is_deleted", "name", "enabled", "definition", "owner",
		"created_at", "updated_at", "scheduled_from"}
	runColumns = []string{"tenant_id", "report_id", "run_id", "version", "is_deleted", "trigger", "scheduled_for", "status",
		"format", "object_key", "bytes", "period_from", "period_to", "error", "created_at", "started_at", "finished_at", "updated_at", "expired_at"}
	deliveryColumns = []string{"tenant_id", "report_id", "run_id", "idx", "version", "is_deleted", "kind", "target", "status",
		"attempts", "last_error", "last_attempt_at", "delivered_at", "updated_at"}
	scheduleColumns = []string{"tenant_id", "report_id", "version", "is_deleted", "next_run_at", "last_slot", "report_version"}

	selectReports    = "SELECT " + strings.Join(reportColumns, ", ") + " FROM " + store.QuoteIdent(reportsTable) + " FINAL"
	selectRuns       = "SELECT " + strings.Join(runColumns, ", ") + " FROM " + store.QuoteIdent(runsTable) + " FINAL"
	selectDeliveries = "SELECT " + strings.Join(deliveryColumns, ", ") + " FROM " + store.QuoteIdent(deliveriesTable) + " FINAL"
	selectSchedules  = "SELECT " + strings.Join(scheduleColumns, ", ") + " FROM " + store.QuoteIdent(schedulesTable) + " FINAL"
)

// repo reads and writes the four report tables.
type repo struct {
	db  *store.DB
	now func() time.Time
}

// version is the next version of a row: max(previous+1, now in µs), so the
// last writer wins and versions only grow.
func (r repo) version(prev uint64) (uint64, time.Time) {
	now := r.now().UTC()
	return max(prev+1, uint64(now.UnixMicro())), now.Truncate(time.Millisecond)
}

// saveReport writes rep as a new version (deleted writes a tombstone).
func (r repo) saveReport(ctx context.Context, rep *Report, deleted bool) error {
	rep.Version, rep.UpdatedAt = r.version(rep.Version)
	def, err := json.Marshal(rep.Input)
	if err != nil {
		return errs.Wrap("reports.save", errs.KindInternal, err, "")
	}
	row := []any{rep.Tenant, rep.ID, rep.Version, boolByte(deleted), rep.Name, boolByte(rep.Enabled), string(def), rep.Owner,
		rep.CreatedAt, rep.UpdatedAt, rep.ScheduledFrom}
	return r.db.Insert(ctx, store.Insert{Table: reportsTable, Columns: reportColumns, Rows: [][]any{row}})
}

// audit writes one audit_log row for a command on a report. Webhook
// secrets are left out of the record.
func (r repo) audit(ctx context.Context, action string, before, after *Report) error {
	enc := func(rep *Report) string {
		if rep == nil {
			return ""
		}
		cp := *rep
		cp.Deliveries = redacted(rep.Deliveries)
		b, _ := json.Marshal(cp)
		return string(b)
	}
	return audit.Write(ctx, r.db, [][]any{audit.Row(ctx, after.Tenant, after.UpdatedAt, action, "report", after.ID, enc(before), enc(after))})
}

// getReport reads one report of the scope's tenant; missing is KindNotFound.
func (r repo) getReport(ctx context.Context, scope store.Scope, id string) (*Report, error) {
	guard, tenant := scope.Predicate("")
	list, err := r.queryReports(ctx, selectReports+" WHERE "+guard+" AND report_id = ?", tenant, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errs.E("reports.Get", errs.KindNotFound, "report "+strconv.Quote(id)+" not found").With("field", "id")
	}
	return list[0], nil
}

// pageReports lists the tenant's reports newest first after a cursor.
func (r repo) pageReports(ctx context.Context, scope store.Scope, first int, after string) (*Page, error) {
	guard, tenant := scope.Predicate("")
	sql, args, err := store.KeysetPage("reports.List", selectReports+" WHERE "+guard, []any{tenant}, "created_at", "report_id", first, after)
	if err != nil {
		return nil, err
	}
	list, err := r.queryReports(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	p := &Page{}
	p.Reports, p.HasNext, p.EndCursor = store.KeysetTrim(list, first, func(r *Report) (time.Time, string) { return r.CreatedAt, r.ID })
	return p, nil
}

func (r repo) queryReports(ctx context.Context, sql string, args ...any) ([]*Report, error) {
	rows, err := r.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Report{}
	for rows.Next() {
		rep := &Report{}
		var deleted, enabled uint8
		var def string
		if err := rows.Scan(&rep.Tenant, &rep.ID, &rep.Version, &deleted, &rep.Name, &enabled, &def, &rep.Owner,
			&rep.CreatedAt, &rep.UpdatedAt, &rep.ScheduledFrom); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(def), &rep.Input); err != nil {
			return nil, errs.Wrap("reports.load", errs.KindInternal, err, "")
		}
		rep.Enabled = enabled == 1
		out = append(out, rep)
	}
	return out, rows.Err()
}

// saveRun writes run as a new version.
func (r repo) saveRun(ctx context.Context, run *Run) error {
	var updated time.Time
	run.Version, updated = r.version(run.Version)
	row := []any{run.Tenant, run.ReportID, run.ID, run.Version, uint8(0), string(run.Trigger), run.ScheduledFor, string(run.Status),
		string(run.Format), run.ObjectKey, run.Bytes, run.PeriodFrom, run.PeriodTo, run.Error, run.CreatedAt,
		optTime(run.StartedAt), optTime(run.FinishedAt), updated, optTime(run.ExpiredAt)}
	return r.db.Insert(ctx, store.Insert{Table: runsTable, Columns: runColumns, Rows: [][]any{row}})
}

// getRun reads one run of the scope's tenant; missing is KindNotFound.
func (r repo) getRun(ctx context.Context, scope store.Scope, reportID, runID string) (*Run, error) {
	guard, tenant := scope.Predicate("")
	list, err := r.queryRuns(ctx, selectRuns+" WHERE "+guard+" AND report_id = ? AND run_id = ?", tenant, reportID, runID)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errs.E("reports.Run", errs.KindNotFound, "report run "+strconv.Quote(runID)+" not found")
	}
	return list[0], nil
}

// pageRuns lists a report's runs newest slot first after a cursor.
func (r repo) pageRuns(ctx context.Context, scope store.Scope, reportID string, first int, after string) (*RunPage, error) {
	guard, tenant := scope.Predicate("")
	sql, args, err := store.KeysetPage("reports.Runs", selectRuns+" WHERE "+guard+" AND report_id = ?", []any{tenant, reportID}, "scheduled_for", "run_id", first, after)
	if err != nil {
		return nil, err
	}
	list, err := r.queryRuns(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	p := &RunPage{}
	p.Runs, p.HasNext, p.EndCursor = store.KeysetTrim(list, first, func(r *Run) (time.Time, string) { return r.ScheduledFor, r.ID })
	return p, nil
}

// saveSchedule writes the scheduling state of a report (a tombstone when
// deleted: the report is gone or disabled).
func (r repo) saveSchedule(ctx context.Context, st *scheduleState, deleted bool) error {
	st.Version, _ = r.version(st.Version)
	row := []any{st.Tenant, st.ReportID, st.Version, boolByte(deleted), st.NextRunAt, st.LastSlot, st.ReportVersion}
	return r.db.Insert(ctx, store.Insert{Table: schedulesTable, Columns: scheduleColumns, Rows: [][]any{row}})
}

// getSchedule reads the scheduling state of one report of the scope's
// tenant; ok is false when there is none (never scheduled, or deleted).
func (r repo) getSchedule(ctx context.Context, scope store.Scope, reportID string) (*scheduleState, bool, error) {
	guard, tenant := scope.Predicate("")
	list, err := r.querySchedules(ctx, selectSchedules+" WHERE "+guard+" AND report_id = ?", tenant, reportID)
	if err != nil || len(list) == 0 {
		return nil, false, err
	}
	return list[0], true, nil
}

// dangerousUnscopedDue lists every tenant's reports whose next_run_at has
// passed at now (for the tick): the rows of due reports only, found through
// the minmax index on next_run_at, never the runs.
func (r repo) dangerousUnscopedDue(ctx context.Context, now time.Time) ([]*scheduleState, error) {
	return r.querySchedules(ctx, selectSchedules+" WHERE next_run_at <= ? ORDER BY next_run_at, tenant_id, report_id", now.UTC())
}

func (r repo) querySchedules(ctx context.Context, sql string, args ...any) ([]*scheduleState, error) {
	rows, err := r.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*scheduleState{}
	for rows.Next() {
		st := &scheduleState{}
		var deleted uint8
		if err := rows.Scan(&st.Tenant, &st.ReportID, &st.Version, &deleted, &st.NextRunAt, &st.LastSlot, &st.ReportVersion); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// dangerousUnscopedActiveRuns lists every tenant's QUEUED and RUNNING runs
// (for the recoverer).
func (r repo) dangerousUnscopedActiveRuns(ctx context.Context) ([]*Run, error) {
	return r.queryRuns(ctx, selectRuns+" WHERE status IN (?, ?) ORDER BY tenant_id, scheduled_for", string(RunQueued), string(RunRunning))
}

// dangerousUnscopedFinishedBefore lists every tenant's SUCCEEDED runs
// whose file is still stored and that finished before t (for the janitor).
func (r repo) dangerousUnscopedFinishedBefore(ctx context.Context, t time.Time) ([]*Run, error) {
	return r.queryRuns(ctx, selectRuns+" WHERE status = ? AND expired_at IS NULL AND finished_at < ? ORDER BY tenant_id, finished_at",
		string(RunSucceeded), t.UTC())
}

func (r repo) queryRuns(ctx context.Context, sql string, args ...any) ([]*Run, error) {
	rows, err := r.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Run{}
	for rows.Next() {
		run := &Run{}
		var deleted uint8
		var trigger, status, format string
		var updated time.Time
		if err := rows.Scan(&run.Tenant, &run.ReportID, &run.ID, &run.Version, &deleted, &trigger, &run.ScheduledFor, &status,
			&format, &run.ObjectKey, &run.Bytes, &run.PeriodFrom, &run.PeriodTo, &run.Error, &run.CreatedAt,
			&run.StartedAt, &run.FinishedAt, &updated, &run.ExpiredAt); err != nil {
			return nil, err
		}
		run.Trigger, run.Status, run.Format = Trigger(trigger), RunStatus(status), Format(format)
		out = append(out, run)
	}
	return out, rows.Err()
}

// saveDelivery writes d as a new version.
func (r repo) saveDelivery(ctx context.Context, d *DeliveryState) error {
	var updated time.Time
	d.Version, updated = r.version(d.Version)
	row := []any{d.Tenant, d.ReportID, d.RunID, uint16(d.Index), d.Version, uint8(0), string(d.Kind), d.Target, string(d.Status),
		uint32(d.Attempts), d.LastError, optTime(d.LastAttemptAt), optTime(d.DeliveredAt), updated}
	return r.db.Insert(ctx, store.Insert{Table: deliveriesTable, Columns: deliveryColumns, Rows: [][]any{row}})
}

// dangerousUnscopedOpenDeliveries lists every tenant's deliveries that are
// PENDING or RETRYING (for the recoverer).
func (r repo) dangerousUnscopedOpenDeliveries(ctx context.Context) ([]*DeliveryState, error) {
	return r.queryDeliveries(ctx, selectDeliveries+" WHERE status IN (?, ?) ORDER BY tenant_id, run_id, idx",
		string(DeliveryPending), string(DeliveryRetrying))
}

// deliveries reads the delivery states of runs of one report, by run id,
// each in delivery order.
func (r repo) deliveries(ctx context.Context, scope store.Scope, reportID string, runIDs ...string) (map[string][]*DeliveryState, error) {
	out := map[string][]*DeliveryState{}
	if len(runIDs) == 0 {
		return out, nil
	}
	guard, tenant := scope.Predicate("")
	args := []any{tenant, reportID}
	marks := make([]string, len(runIDs))
	for i, id := range runIDs {
		args, marks[i] = append(args, id), "?"
	}
	list, err := r.queryDeliveries(ctx, selectDeliveries+" WHERE "+guard+" AND report_id = ? AND run_id IN ("+strings.Join(marks, ", ")+
		") ORDER BY run_id, idx", args...)
	if err != nil {
		return nil, err
	}
	for _, d := range list {
		out[d.RunID] = append(out[d.RunID], d)
	}
	return out, nil
}

func (r repo) queryDeliveries(ctx context.Context, sql string, args ...any) ([]*DeliveryState, error) {
	rows, err := r.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*DeliveryState{}
	for rows.Next() {
		d := &DeliveryState{}
		var idx, attempts uint64
		var deleted uint8
		var kind, status string
		var updated time.Time
		if err := rows.Scan(&d.Tenant, &d.ReportID, &d.RunID, &idx, &d.Version, &deleted, &kind, &d.Target, &status,
			&attempts, &d.LastError, &d.LastAttemptAt, &d.DeliveredAt, &updated); err != nil {
			return nil, err
		}
		d.Index, d.Attempts, d.Kind, d.Status = int(idx), int(attempts), DeliveryKind(kind), DeliveryStatus(status)
		out = append(out, d)
	}
	return out, rows.Err()
}

// redacted is ds without webhook secrets.
func redacted(ds []Delivery) []Delivery {
	out := make([]Delivery, len(ds))
	for i, d := range ds {
		d.Secret = ""
		out[i] = d
	}
	return out
}

func optTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
