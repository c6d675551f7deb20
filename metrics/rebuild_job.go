package metrics

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// KindRebuildRollups recomputes the recently closed days of metrics_daily.
const KindRebuildRollups = "metrics:rebuild-rollups"

// Defaults for the zero values of RebuildRollupsConfig.
const (
	DefaultRebuildRollupsSpec = "15 3 * * *" // daily at 03:15 in the scheduler's zone (UTC by default)
	DefaultRebuildRollupsDays = 3
)

// RebuildRollupsConfig tunes the rebuild job.
type RebuildRollupsConfig struct {
	// Spec is the cron schedule; empty means DefaultRebuildRollupsSpec.
	Spec string
	// Days is how many closed UTC days before today each run rebuilds;
	// zero means DefaultRebuildRollupsDays. More than one covers missed
	// runs and duplicates redelivered a day or two late.
	Days int
	// Logger receives one line per rebuilt day; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock that decides which days are closed; nil means time.Now.
	Now func() time.Time
	// Cluster names the ClickHouse cluster the tables were migrated on;
	// empty means a single node.
	Cluster string
}

// RebuildRollupsJob is the handler of KindRebuildRollups. The materialized
// view that keeps metrics_daily current sees every insert block: an event
// redelivered in a different batch is collapsed by the events table
// (ReplacingMergeTree, read with FINAL by the raw path) but added to the
// rollup's counts and sums a second time. Each run recomputes the last
// Days closed UTC days (before today) of every tenant from events FINAL,
// so the rollup path agrees with the raw path again at most a day after
// the duplicate arrived.
//
// It is system work: no params, no tenant; each day is one DELETE mutation
// and one INSERT … SELECT over all tenants. It is idempotent: a rebuilt
// day is recomputed to the same rows. Today is never touched (its rows
// are still arriving); duplicates older than Days stay until a manual
// Rollups.Rebuild.
type RebuildRollupsJob struct {
	rollups *Rollups
	cfg     RebuildRollupsConfig
}

// NewRebuildRollupsJob returns the handler for db.
func NewRebuildRollupsJob(db *store.DB, cfg RebuildRollupsConfig) *RebuildRollupsJob {
	if cfg.Spec == "" {
		cfg.Spec = DefaultRebuildRollupsSpec
	}
	if cfg.Days <= 0 {
		cfg.Days = DefaultRebuildRollupsDays
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &RebuildRollupsJob{rollups: NewRollups(db).OnCluster(cfg.Cluster), cfg: cfg}
}

// Entry is the daily schedule: one task per day (the TaskID is keyed by
// the date), in the low-priority queue.
func (j *RebuildRollupsJob) Entry() jobs.Entry {
	return jobs.Entry{
		Name:      KindRebuildRollups,
		Spec:      j.cfg.Spec,
		Task:      jobs.Task{Kind: KindRebuildRollups, Queue: jobs.QueueLow, Timeout: 2 * time.Hour},
		KeyLayout: "2006-01-02",
	}
}

// ProcessJob rebuilds the closed days, oldest first: every older day on
// which metrics_daily_users or metrics_daily_active is incomplete (a
// database upgraded past migration 0009 or 0012 lacks their earlier days,
// fully or in part, and unique users read those days short from them until
// this run), every closed day written since its last rebuild (dirty: the
// rollup path reads it from events until then), and the last Days. A run that times out leaves the remaining
// days to the next one.
func (j *RebuildRollupsJob) ProcessJob(ctx context.Context, _ jobs.Job) error {
	const op = "metrics.RebuildRollupsJob"
	today := j.cfg.Now().UTC().Truncate(24 * time.Hour)
	recent := today.AddDate(0, 0, -j.cfg.Days)
	missing, err := j.rollups.dangerousIncompleteDays(ctx, recent)
	if err != nil {
		// The recent days are still worth rebuilding; the next run lists again.
		j.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "cannot list the days a users rollup lacks", slog.String("err", err.Error()))
		missing = nil
	}
	// Closed days written since their last rebuild (late or redelivered
	// events): the rollup path reads them from events until rebuilt.
	dirty, err := j.rollups.dangerousDirtyDays(ctx, today)
	if err != nil {
		j.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "cannot list the dirty rollup days", slog.String("err", err.Error()))
	}
	missing = append(missing, dirty...)
	for d := recent; d.Before(today); d = d.AddDate(0, 0, 1) {
		missing = append(missing, d)
	}
	slices.SortFunc(missing, func(a, b time.Time) int { return a.Compare(b) })
	missing = slices.CompactFunc(missing, func(a, b time.Time) bool { return a.Equal(b) })
	for _, d := range missing {
		start := time.Now()
		if err := j.rollups.dangerousRebuildAllTenants(ctx, d, d.AddDate(0, 0, 1)); err != nil {
			return errs.Wrap(op, errs.KindOf(err), err, "cannot rebuild metrics_daily for "+d.Format(time.DateOnly))
		}
		j.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "rebuilt metrics rollup day",
			slog.String("day", d.Format(time.DateOnly)), slog.Duration("took", time.Since(start)))
	}
	return nil
}

// Jobs is the rebuild task and its daily schedule (see Entry).
func (j *RebuildRollupsJob) Jobs() []jobs.Registration {
	e := j.Entry()
	return []jobs.Registration{{Kind: KindRebuildRollups, Handler: j, Schedule: &e}}
}
