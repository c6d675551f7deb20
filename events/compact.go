package events

import (
	"context"
	"log/slog"
	"time"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/errs"
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
	if cfg.Spec == "" {
		cfg.Spec = DefaultCompactSpec
	}
	if cfg.Table == "" {
		cfg.Table = DefaultCompactTable
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
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
	const op = "events.Compact"
	parts, err := c.splitClosedPartitions(ctx)
	if err != nil {
		return err
	}
	stmt := "OPTIMIZE TABLE " + store.QuoteIdent(c.cfg.Table) + " PARTITION ID ? FINAL"
	for _, p := range parts {
		start := time.Now()
		if err := c.db.Exec(ctx, stmt, p.id); err != nil {
			return errs.Wrap(op, errs.KindOf(err), err, "cannot optimize partition "+p.id)
		}
		c.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "compacted events partition",
			slog.String("table", c.cfg.Table), slog.String("partition_id", p.id),
			slog.Int64("parts_before", p.parts), slog.Duration("took", time.Since(start)))
	}
	return nil
}

// partition is one month that still has several active parts.
type partition struct {
	id    string
	parts int64
}

// splitClosedPartitions lists months before the current one (partition ids
// are toYYYYMM values, so they compare as strings) with more than one active
// part.
func (c *Compactor) splitClosedPartitions(ctx context.Context) ([]partition, error) {
	current := c.cfg.Now().UTC().Format("200601")
	rows, err := c.db.Query(ctx, `
		SELECT partition_id, count() AS parts
		FROM system.parts
		WHERE database = currentDatabase() AND table = ? AND active
		GROUP BY partition_id
		HAVING parts > 1 AND partition_id < ?
		ORDER BY partition_id`, c.cfg.Table, current)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []partition
	for rows.Next() {
		var p partition
		if err := rows.Scan(&p.id, &p.parts); err != nil {
			return nil, errs.Wrap("events.Compact", errs.KindInternal, err, "")
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, rows.Close()
}
