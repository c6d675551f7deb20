package privacy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/rowfile"
	"github.com/learnhub/analytics-service/store"
)

// KindRetention moves old months to the cold tier and expires cold objects.
const KindRetention = "privacy:retention"

// Defaults for the zero values of RetentionConfig.
const (
	DefaultRetentionSpec = "45 3 * * *" // daily at 03:45 in the scheduler's zone (UTC by default)
	DefaultColdYears     = 5
)

// retentionTask is the task of one retention run.
var retentionTask = jobs.Task{Kind: KindRetention, Queue: jobs.QueueLow, Timeout: 6 * time.Hour}

// exportColumns are the events columns written to the cold tier.
const exportColumns = "tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties"

// RetentionConfig tunes the retention job.
type RetentionConfig struct {
	// Spec is the cron schedule; empty means DefaultRetentionSpec.
	Spec string
	// HotMonths is how many months stay in ClickHouse, the current one
	// included; zero means DefaultHotMonths.
	HotMonths int
	// ColdYears is how long a month stays in the cold tier: objects of
	// months starting before the current month minus ColdYears are
	// deleted; zero means DefaultColdYears.
	ColdYears int
	// Logger receives one line per moved month and expired object; nil
	// means slog.Default().
	Logger *slog.Logger
	// Now is the clock that places the horizons; nil means time.Now.
	Now func() time.Time
	// Cluster names the ClickHouse cluster the tables were migrated on:
	// partitions are then listed on the local table and dropped ON
	// CLUSTER. Empty means a single node.
	Cluster string
}

// Enqueuer queues a task; *queue.Client is one.
type Enqueuer interface {
	Enqueue(ctx context.Context, t jobs.Task) (jobs.Receipt, error)
}

// Retention is the handler of KindRetention. For each month of the events
// table before the hot horizon it exports every tenant's rows (FINAL, so
// deduplicated) to ColdKey(tenant, month, first block of the partition),
// reads each object back and compares its row count and checksum (sum of
// the first 8 bytes of MD5(event_id)) with ClickHouse's, checks once more
// that the partition still holds exactly the exported rows, and only then
// drops the partition from events and from the daily rollups
// (metrics_daily, and metrics_daily_users and metrics_daily_active when
// they exist): the hot tier no
// longer answers for that month (see CheckHotRange). Any failure stops
// before the drop, so every row is always in at least one tier; a rerun
// overwrites the same objects (Put is atomic) and carries on, while rows
// that arrive for a month already moved get objects of their own. Then it deletes cold objects whose month
// started more than ColdYears before the current one.
//
// It is system work over all tenants (no params, no tenant).
type Retention struct {
	db    *store.DB
	blobs blob.Store
	jobs  Enqueuer
	cfg   RetentionConfig
}

// Report says what a retention run moved and expired, or with DryRun what
// it would.
type Report struct {
	DryRun bool `json:"dry_run"`
	// Horizon is the first instant kept in the hot tier.
	Horizon time.Time `json:"horizon"`
	// ColdHorizon: cold months starting before it are expired.
	ColdHorizon time.Time   `json:"cold_horizon"`
	Months      []MonthMove `json:"months"`
	// Expired are the cold object keys deleted (or to delete).
	Expired []string `json:"expired"`
	// ColdMonths are the months the cold tier holds (TenantReport only).
	ColdMonths []time.Time `json:"cold_months,omitempty"`
	// Queued is true when RunNow queued a run of the job.
	Queued bool `json:"queued,omitempty"`
}

// MonthMove is one month of the events table leaving the hot tier.
type MonthMove struct {
	// Partition is the events partition id, YYYYMM.
	Partition string       `json:"partition"`
	Tenants   []TenantMove `json:"tenants"`
	// Dropped is true once the partition is gone from the hot tier.
	Dropped bool `json:"dropped"`
}

// Month is the first instant of the partition's month (UTC); zero for an
// unexpected partition id.
func (m MonthMove) Month() time.Time {
	t, _ := time.Parse("200601", m.Partition)
	return t
}

// TenantMove is one tenant's rows of a month.
type TenantMove struct {
	Tenant   string `json:"tenant"`
	Key      string `json:"key"`
	Rows     uint64 `json:"rows"`
	Checksum uint64 `json:"checksum"`
	// Verified is true once the object was read back with equal rows and
	// checksum.
	Verified bool `json:"verified"`
}

// retentionParams are the optional job params.
type retentionParams struct {
	DryRun bool `json:"dry_run"`
}

// NewRetention returns the retention handler on db and blobs; jobs queues
// RunNow's runs (nil: RunNow is unavailable).
func NewRetention(db *store.DB, blobs blob.Store, jobs Enqueuer, cfg RetentionConfig) *Retention {
	if cfg.Spec == "" {
		cfg.Spec = DefaultRetentionSpec
	}
	if cfg.HotMonths <= 0 {
		cfg.HotMonths = DefaultHotMonths
	}
	if cfg.ColdYears <= 0 {
		cfg.ColdYears = DefaultColdYears
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Retention{db: db, blobs: blobs, jobs: jobs, cfg: cfg}
}

// Jobs is the retention task and its daily schedule (see Entry).
func (r *Retention) Jobs() []jobs.Registration {
	e := r.Entry()
	return []jobs.Registration{{Kind: KindRetention, Handler: r, Schedule: &e}}
}

// Entry is the daily schedule: one task per day, in the low queue.
func (r *Retention) Entry() jobs.Entry {
	return jobs.Entry{Name: KindRetention, Spec: r.cfg.Spec, Task: retentionTask, KeyLayout: "2006-01-02"}
}

// TenantReport is a dry run restricted to the caller's tenant (from the
// verified token): the horizons, the tenant's months that the next run
// moves, its cold objects that it expires, and the months its cold tier
// holds. Other tenants' rows are never read.
func (r *Retention) TenantReport(ctx context.Context) (Report, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return Report{}, err
	}
	rep, err := r.run(ctx, true, &scope)
	if err != nil {
		return rep, err
	}
	objs, err := r.blobs.List(ctx, ColdPrefix(scope.Tenant()))
	if err != nil {
		return rep, err
	}
	for _, o := range objs {
		if m, ok := ColdMonth(o.Key); ok && !slices.ContainsFunc(rep.ColdMonths, m.Equal) {
			rep.ColdMonths = append(rep.ColdMonths, m)
		}
	}
	return rep, nil
}

// RunNow queues a run of the retention job (at most one per hour, whoever
// asks: the task id is keyed by the hour) and returns TenantReport as of
// now — the plan the run starts from — with Queued set and DryRun cleared.
// The job spans every tenant, as the daily run does; running it early moves
// only months already past the hot horizon, which queries and exports
// refuse anyway, so no tenant's answers change — only when the work happens.
func (r *Retention) RunNow(ctx context.Context) (Report, error) {
	const op = "privacy.RunNow"
	if r.jobs == nil {
		return Report{}, errs.E(op, errs.KindUnavailable, "retention runs cannot be queued by this server")
	}
	rep, err := r.TenantReport(ctx)
	if err != nil {
		return rep, err
	}
	t := retentionTask
	t.Key = "now-" + r.cfg.Now().UTC().Format("2006-01-02T15")
	if _, err := r.jobs.Enqueue(ctx, t); err != nil {
		return rep, err
	}
	rep.DryRun, rep.Queued = false, true
	return rep, nil
}

// ProcessJob runs retention; params {"dry_run": true} only log the plan.
func (r *Retention) ProcessJob(ctx context.Context, j jobs.Job) error {
	var p retentionParams
	if len(j.Params) > 0 {
		if err := j.Decode(&p); err != nil {
			return err
		}
	}
	var rep Report
	var err error
	if p.DryRun {
		rep, err = r.Plan(ctx)
	} else {
		rep, err = r.Run(ctx)
	}
	r.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "retention", slog.Bool("dry_run", rep.DryRun),
		slog.Int("months", len(rep.Months)), slog.Int("expired", len(rep.Expired)), slog.Any("report", rep))
	return err
}

// Plan is a dry run: what Run would move and expire now, changing nothing.
func (r *Retention) Plan(ctx context.Context) (Report, error) { return r.run(ctx, true, nil) }

// Run moves every month before the hot horizon to the cold tier and expires
// old cold objects, returning what it did (so far, when it fails).
func (r *Retention) Run(ctx context.Context) (Report, error) { return r.run(ctx, false, nil) }

// run is Plan and Run; a dry run may be restricted to one tenant (only).
func (r *Retention) run(ctx context.Context, dry bool, only *store.Scope) (Report, error) {
	now := r.cfg.Now()
	rep := Report{DryRun: dry, Horizon: HotHorizon(now, r.cfg.HotMonths), ColdHorizon: monthStart(now).AddDate(-r.cfg.ColdYears, 0, 0)}
	parts, err := r.oldPartitions(ctx, rep.Horizon)
	if err != nil {
		return rep, err
	}
	prefix := "tenants/"
	if only != nil {
		prefix = blob.TenantPrefix(only.Tenant())
	}
	for _, p := range parts {
		m, err := r.moveMonth(ctx, p.id, p.block, dry, only)
		if err != nil {
			rep.Months = append(rep.Months, m)
			return rep, err
		}
		if only == nil || len(m.Tenants) > 0 {
			rep.Months = append(rep.Months, m)
		}
	}
	rep.Expired, err = r.expire(ctx, rep.ColdHorizon, dry, prefix)
	return rep, err
}

// partition is an events partition and its first block number.
type partition struct {
	id    string // YYYYMM
	block uint64
}

// oldPartitions lists the events partitions before horizon.
func (r *Retention) oldPartitions(ctx context.Context, horizon time.Time) ([]partition, error) {
	parts := "system.parts"
	if r.cfg.Cluster != "" { // every node's parts, not only this one's
		parts = "clusterAllReplicas(" + store.QuoteIdent(r.cfg.Cluster) + ", system.parts)"
	}
	rows, err := r.db.Query(ctx, `SELECT partition_id, min(min_block_number) FROM `+parts+`
		WHERE database = currentDatabase() AND table = ? AND active AND partition_id < ? GROUP BY partition_id ORDER BY partition_id`,
		localTable(eventsTable, r.cfg.Cluster), horizon.Format("200601"))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []partition
	for rows.Next() {
		var p partition
		var block int64
		if err := rows.Scan(&p.id, &block); err != nil {
			return nil, errs.Wrap("privacy.Retention", errs.KindInternal, err, "")
		}
		p.block = uint64(max(block, 0))
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, rows.Close()
}

// moveMonth exports, verifies and drops one partition; only (dry runs)
// restricts it to one tenant.
func (r *Retention) moveMonth(ctx context.Context, partition string, block uint64, dry bool, only *store.Scope) (MonthMove, error) {
	const op = "privacy.Retention"
	m := MonthMove{Partition: partition}
	month, err := time.Parse("200601", partition)
	if err != nil {
		return m, errs.Wrap(op, errs.KindInternal, err, "unexpected partition id "+partition)
	}
	from, to := month, month.AddDate(0, 1, 0)
	if only != nil && !dry {
		return m, errs.E(op, errs.KindInternal, "a retention run cannot be restricted to one tenant")
	}
	tenants, err := r.tenantTotals(ctx, from, to, only)
	if err != nil {
		return m, err
	}
	for _, t := range tenants {
		t.Key = ColdKey(t.Tenant, month, block)
		if !dry {
			if err := r.export(ctx, t, from, to); err != nil {
				m.Tenants = append(m.Tenants, t)
				return m, err
			}
			rows, sum, err := r.readBack(ctx, t.Tenant, t.Key)
			if err != nil {
				m.Tenants = append(m.Tenants, t)
				return m, err
			}
			if rows != t.Rows || sum != t.Checksum {
				m.Tenants = append(m.Tenants, t)
				return m, errs.E(op, errs.KindInternal, fmt.Sprintf(
					"cold object %s has %d rows (checksum %d), the hot tier %d (checksum %d); partition %s kept",
					t.Key, rows, sum, t.Rows, t.Checksum, partition))
			}
			t.Verified = true
		}
		m.Tenants = append(m.Tenants, t)
	}
	if dry {
		return m, nil
	}
	// Rows that arrived for this month since the export would be lost by
	// the drop: check the partition holds exactly what was verified.
	again, err := r.tenantTotals(ctx, from, to, nil)
	if err != nil {
		return m, err
	}
	if !sameTotals(again, m.Tenants) {
		return m, errs.E(op, errs.KindUnavailable, "partition "+partition+" changed during the export; it is kept and retried on the next run")
	}
	for _, table := range []string{eventsTable, rollupTable, usersRollupTable, activeRollupTable} {
		if ok, err := tableExists(ctx, r.db, table); err != nil || !ok {
			if err != nil {
				return m, err
			}
			continue
		}
		if err := r.db.Exec(ctx, "ALTER TABLE "+store.MutationTarget(table, r.cfg.Cluster)+" DROP PARTITION ID ?", partition); err != nil {
			return m, errs.Wrap(op, errs.KindOf(err), err, "cannot drop partition "+partition+" of "+table)
		}
	}
	m.Dropped = true
	r.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "moved month to the cold tier", slog.String("partition", partition),
		slog.Int("tenants", len(m.Tenants)))
	return m, nil
}

// tenantTotals counts and checksums each tenant's rows in [from, to), or
// only one tenant's when only is set.
func (r *Retention) tenantTotals(ctx context.Context, from, to time.Time, only *store.Scope) ([]TenantMove, error) {
	where, args := "", []any{}
	if only != nil {
		guard, tenant := only.Predicate("")
		where, args = guard+" AND ", []any{tenant}
	}
	rows, err := r.db.Query(ctx, "SELECT tenant_id, count(), "+checksumSQL+" FROM "+store.QuoteIdent(eventsTable)+
		" FINAL WHERE "+where+"occurred_at >= ? AND occurred_at < ? GROUP BY tenant_id ORDER BY tenant_id", append(args, from, to)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TenantMove
	for rows.Next() {
		var t TenantMove
		if err := rows.Scan(&t.Tenant, &t.Rows, &t.Checksum); err != nil {
			return nil, errs.Wrap("privacy.Retention", errs.KindInternal, err, "")
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, rows.Close()
}

// sameTotals reports whether a recount matches the verified moves.
func sameTotals(a, b []TenantMove) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Tenant != b[i].Tenant || a[i].Rows != b[i].Rows || a[i].Checksum != b[i].Checksum {
			return false
		}
	}
	return true
}

// export writes one tenant's month to its cold object with the export
// Parquet encoder, streaming rows from ClickHouse into blob.Store.Put.
func (r *Retention) export(ctx context.Context, t TenantMove, from, to time.Time) error {
	scope, err := store.DangerousScopeForTenant(t.Tenant)
	if err != nil {
		return err
	}
	guard, tenant := scope.Predicate("")
	rows, err := r.db.Query(ctx, "SELECT "+exportColumns+" FROM "+store.QuoteIdent(eventsTable)+" FINAL WHERE "+guard+
		" AND occurred_at >= ? AND occurred_at < ? ORDER BY occurred_at, event_id", tenant, from, to)
	if err != nil {
		return err
	}
	defer rows.Close()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := encodeRows(rows, rowfile.NewParquet(pw))
		_ = pw.CloseWithError(err)
		done <- err
	}()
	putErr := r.blobs.Put(ctx, t.Key, pr)
	_ = pr.CloseWithError(io.ErrClosedPipe)
	encErr := <-done
	if putErr != nil {
		return putErr
	}
	if encErr != nil {
		return errs.Wrap("privacy.Retention", errs.KindOf(encErr), encErr, "cannot export "+t.Key)
	}
	return nil
}

// encodeRows writes every row of rows with enc.
func encodeRows(rows store.Rows, enc rowfile.Encoder) error {
	cols := rows.Columns()
	if err := enc.Begin(cols); err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := enc.Row(vals); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return enc.Close()
}

// readBack counts and checksums a cold object, checking every row belongs
// to tenant.
func (r *Retention) readBack(ctx context.Context, tenant, key string) (uint64, uint64, error) {
	f, err := openCold(ctx, r.blobs, key)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	idCol, tenantCol := f.column("event_id"), f.column("tenant_id")
	var n, sum uint64
	err = f.each(func(row parquet.Row) error {
		if stringAt(row, tenantCol) != tenant {
			return errs.E("privacy.Retention", errs.KindInternal, "cold object "+key+" holds a row of another tenant")
		}
		n++
		sum += eventChecksum(stringAt(row, idCol))
		return nil
	})
	return n, sum, err
}

// expire deletes (unless dry) cold event objects under prefix whose month
// starts before horizon; keys are tenants/<t>/cold/events/YYYY/MM/<name>.
func (r *Retention) expire(ctx context.Context, horizon time.Time, dry bool, prefix string) ([]string, error) {
	objs, err := r.blobs.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, o := range objs {
		month, ok := ColdMonth(o.Key)
		if !ok || !month.Before(horizon) {
			continue
		}
		if !dry {
			if err := r.blobs.Delete(ctx, o.Key); err != nil {
				return out, err
			}
			r.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "expired cold object", slog.String("key", o.Key))
		}
		out = append(out, o.Key)
	}
	return out, nil
}

// coldMonth parses the month of a cold event object key.
func ColdMonth(key string) (time.Time, bool) {
	tenant, ok := blob.TenantOf(key)
	if !ok {
		return time.Time{}, false
	}
	rest, ok := strings.CutPrefix(key, ColdPrefix(tenant))
	if !ok {
		return time.Time{}, false
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) != 3 {
		return time.Time{}, false
	}
	m, err := time.Parse("2006/01", parts[0]+"/"+parts[1])
	return m, err == nil
}

// localTable is the table system.parts lists for table: itself on a single
// node, the local replicated table on a cluster.
func localTable(table, cluster string) string {
	if cluster == "" {
		return table
	}
	return table + "_local"
}
