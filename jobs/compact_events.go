package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// KindCompactEvents merges closed months of the events table.
const KindCompactEvents = "housekeeping:compact-events"

// Defaults for the zero values of CompactEventsConfig.
const (
	DefaultCompactEventsSpec  = "30 3 * * *" // daily at 03:30 in the scheduler's zone (UTC by default)
	DefaultCompactEventsTable = "events"
)

// CompactEventsConfig tunes the compaction job.
type CompactEventsConfig struct {
	// Spec is the cron schedule; empty means DefaultCompactEventsSpec.
	Spec string
	// Table is the events table in the current database; empty means
	// DefaultCompactEventsTable. On a cluster name the local
	// (ReplicatedReplacingMergeTree) table, not the Distributed one.
	Table string
	// Logger receives one line per optimized partition; nil means
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock that decides which months are closed; nil means
	// time.Now.
	Now func() time.Time
}

// CompactEvents is the handler of KindCompactEvents. The events table is a
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
type CompactEvents struct {
	db  *store.DB
	cfg CompactEventsConfig
}

// NewCompactEvents returns the handler for db.
func NewCompactEvents(db *store.DB, cfg CompactEventsConfig) *CompactEvents {
	if cfg.Spec == "" {
		cfg.Spec = DefaultCompactEventsSpec
	}
	if cfg.Table == "" {
		cfg.Table = DefaultCompactEventsTable
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &CompactEvents{db: db, cfg: cfg}
}

// Entry is the daily schedule: one task per day (the TaskID is keyed by the
// date), in the low-priority queue.
func (c *CompactEvents) Entry() Entry {
	return Entry{
		Name:      KindCompactEvents,
		Spec:      c.cfg.Spec,
		Task:      Task{Kind: KindCompactEvents, Queue: QueueLow, Timeout: 6 * time.Hour},
		KeyLayout: "2006-01-02",
	}
}

// ProcessJob optimizes every closed month that has more than one active part.
func (c *CompactEvents) ProcessJob(ctx context.Context, _ Job) error {
	const op = "jobs.CompactEvents"
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
func (c *CompactEvents) splitClosedPartitions(ctx context.Context) ([]partition, error) {
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
			return nil, errs.Wrap("jobs.CompactEvents", errs.KindInternal, err, "")
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, rows.Close()
}
