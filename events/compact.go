package events

import (
	"context"
	"log/slog"
	"time"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/store"
)

// KindCompact merges closed months of the events table.
const KindCompact = "housekeeping:compact-events"

// Defaults for the zero values of CompactConfig.
const (
	DefaultCompactSpec  = "30 3 * * *" // daily at 03:30 in the scheduler's zone (UTC by default)
	DefaultCompactTable = "events"
)

// CompactConfig tunes the compaction job.
type CompactConfig struct {
	// Spec is the cron schedule; empty means DefaultCompactSpec.
	Spec string
	// Table is the events table in the current database; empty means
	// DefaultCompactTable. On a cluster name the local
	// (ReplicatedReplacingMergeTree) table, not the Distributed one.
	Table string
	// Logger receives one line per optimized partition; nil means
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock that decides which months are closed; nil means
	// time.Now.
	Now func() time.Time
}

// Compactor is the handler of KindCompact. The events table is a
// ReplacingMergeTree partitioned by month: duplicates from at-least-once
// delivery collapse when parts merge, but a month can stay split into
// several parts long after it closed, and then every read of it pays for
// merge-on-read (FINAL). This job finds months before the current one (UTC)
// with more than one active part and runs OPTIMIZE … FINAL on each, so a
// closed month is one part without duplicates.
//
// It is system work: no params, no tenant. It reads only system.parts
// (part counts, no tenant data) and rewrites whole partitions for all
// tenants at once. It is idempotent: a merged month has one part and is
// skipped next time, so a retry or a second run does nothing.
type Compactor struct {
	db  *store.DB
	cfg CompactConfig
}

// NewCompactor returns the handler for db.
func NewCompactor(db *store.DB, cfg CompactConfig) *Compactor {
	jobDefaults(&cfg.Spec, DefaultCompactSpec, &cfg.Logger, &cfg.Now)
	if cfg.Table == "" {
		cfg.Table = DefaultCompactTable
	}
	return &Compactor{db: db, cfg: cfg}
}

// Jobs is the compaction task and its daily schedule: one task per day (the
// TaskID is keyed by the date), in the low-priority queue.
func (c *Compactor) Jobs() []jobs.Registration {
	return []jobs.Registration{{Kind: KindCompact, Handler: c, Schedule: &jobs.Entry{
		Name:      KindCompact,
		Spec:      c.cfg.Spec,
		Task:      jobs.Task{Kind: KindCompact, Queue: jobs.QueueLow, Timeout: 6 * time.Hour},
		KeyLayout: "2006-01-02",
	}}}
}

// ProcessJob optimizes every closed month that has more than one active part.
func (c *Compactor) ProcessJob(ctx context.Context, _ jobs.Job) error {
	return optimizeSplit(ctx, c.db, splitPolicy{
		op: "events.Compact", tables: []string{c.cfg.Table}, which: closedMonths, limit: 1,
		logMsg: "compacted events partition",
	}, c.cfg.Now(), c.cfg.Logger)
}
