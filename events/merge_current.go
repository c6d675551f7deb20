package events

import (
	"context"
	"log/slog"
	"time"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/store"
)

// KindMergeCurrent merges the current month of the events table and of the
// daily rollups.
const KindMergeCurrent = "housekeeping:merge-current"

// Defaults for the zero values of MergeCurrentConfig.
const (
	DefaultMergeCurrentSpec     = "*/10 * * * *" // every 10 minutes (UTC)
	DefaultMergeCurrentMaxParts = 2
)

// DefaultMergeCurrentTables are the tables whose current month reads need
// merged: the events table (raw metrics read it with FINAL) and the daily
// rollups the metric and dashboard fast paths read.
var DefaultMergeCurrentTables = []string{"events", "metrics_daily", "metrics_daily_users", "metrics_daily_active"}

// MergeCurrentConfig tunes the current-month merge job.
type MergeCurrentConfig struct {
	// Spec is the cron schedule; empty means DefaultMergeCurrentSpec.
	Spec string
	// Tables are the tables in the current database whose current month is
	// merged; nil means DefaultMergeCurrentTables. On a cluster name the
	// local (replicated) tables.
	Tables []string
	// MaxParts is how many active parts a table's current month may have
	// before a run merges it; zero means DefaultMergeCurrentMaxParts.
	MaxParts int
	// Logger receives one line per merged table; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock that decides the current month; nil means time.Now.
	Now func() time.Time
}

// CurrentMerger is the handler of KindMergeCurrent. With ingest running, the
// current month of events is written as a new part every batch (about one
// a second) and the engine's background merges keep it at 4–6 parts of
// uneven size; a raw render at 8 M events then took 2.2–2.5 s against
// 0.5 s on the month in one part, and the rollups' speed-up over raw fell
// from 24× to 4–9× (issue #25). Every Spec it finds the tables whose
// current month (UTC) has more than MaxParts active parts and runs
// OPTIMIZE … PARTITION … FINAL on each, which leaves the parts that existed
// when it started as one (rows arriving meanwhile add parts, which the
// next run takes in). Closed months are the nightly Compactor's.
//
// It is system work: no params, no tenant; it reads only system.parts and
// rewrites whole partitions for all tenants at once. A firing is one task
// per minute key, so every scheduler replica that fires it enqueues the
// same TaskID and one worker runs it. It is idempotent: a merged month
// is skipped until it splits again.
type CurrentMerger struct {
	db  *store.DB
	cfg MergeCurrentConfig
}

// NewCurrentMerger returns the handler for db.
func NewCurrentMerger(db *store.DB, cfg MergeCurrentConfig) *CurrentMerger {
	jobDefaults(&cfg.Spec, DefaultMergeCurrentSpec, &cfg.Logger, &cfg.Now)
	if cfg.Tables == nil {
		cfg.Tables = DefaultMergeCurrentTables
	}
	if cfg.MaxParts <= 0 {
		cfg.MaxParts = DefaultMergeCurrentMaxParts
	}
	return &CurrentMerger{db: db, cfg: cfg}
}

// Jobs is the merge task and its schedule, in the low-priority queue; the
// task is keyed by the minute it fired (jobs.DefaultKeyLayout).
func (m *CurrentMerger) Jobs() []jobs.Registration {
	return []jobs.Registration{{Kind: KindMergeCurrent, Handler: m, Schedule: &jobs.Entry{
		Name: KindMergeCurrent,
		Spec: m.cfg.Spec,
		Task: jobs.Task{Kind: KindMergeCurrent, Queue: jobs.QueueLow, Timeout: time.Hour, MaxRetry: 2},
	}}}
}

// ProcessJob merges every configured table whose current month has more
// than MaxParts active parts.
func (m *CurrentMerger) ProcessJob(ctx context.Context, _ jobs.Job) error {
	return optimizeSplit(ctx, m.db, m.policy(), m.cfg.Now(), m.cfg.Logger)
}

// policy is the current month of the configured tables above MaxParts.
func (m *CurrentMerger) policy() splitPolicy {
	return splitPolicy{op: "events.MergeCurrent", tables: m.cfg.Tables, which: currentMonth, limit: m.cfg.MaxParts,
		logMsg: "merged the current month"}
}

// Parts is the number of active parts of the current month (UTC) of each
// configured table; a table without rows this month is missing.
func (m *CurrentMerger) Parts(ctx context.Context) (map[string]int, error) {
	parts, err := splitPartitions(ctx, m.db, m.policy(), 0, m.cfg.Now())
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, p := range parts {
		out[p.table] = int(p.parts)
	}
	return out, nil
}
