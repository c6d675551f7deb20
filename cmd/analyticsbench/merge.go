package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/events"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/store"
)

// mergeReadRuns is how often the read of the merge row runs on each side;
// the median is reported.
const mergeReadRuns = 5

// benchMergeCurrent is the current month as the ingest runs leave it (their
// parts and whatever background merges made of them meanwhile), read on
// the raw path (a day series of one tenant with FINAL), then merged by the
// job production schedules (events.CurrentMerger) and read again. The row
// reports the part counts of events and the daily rollups on both sides.
func benchMergeCurrent(ctx context.Context, db *store.DB, tenant string) (result, error) {
	m := events.NewCurrentMerger(db, events.MergeCurrentConfig{Logger: slog.New(slog.DiscardHandler)})
	before, err := m.Parts(ctx)
	if err != nil {
		return result{}, err
	}
	readBefore, sum, err := timedMonthRead(ctx, db, tenant)
	if err != nil {
		return result{}, err
	}
	start := time.Now()
	if err := m.ProcessJob(ctx, jobs.Job{Kind: events.KindMergeCurrent}); err != nil {
		return result{}, err
	}
	took := time.Since(start)
	after, err := m.Parts(ctx)
	if err != nil {
		return result{}, err
	}
	readAfter, sumAfter, err := timedMonthRead(ctx, db, tenant)
	if err != nil {
		return result{}, err
	}
	if sum != sumAfter {
		return result{}, fmt.Errorf("the month read %d events before the merge and %d after", sum, sumAfter)
	}
	return result{
		Name:     "current month merged by events.CurrentMerger after the ingest runs: raw day series of one tenant (FINAL)",
		Value:    fmt.Sprintf("%.1f ms", float64(readAfter.Microseconds())/1000),
		Baseline: fmt.Sprintf("%.1f ms before the merge", float64(readBefore.Microseconds())/1000),
		Ratio:    fmt.Sprintf("%.2f×", readBefore.Seconds()/readAfter.Seconds()),
		Target:   "—",
		Note: fmt.Sprintf("active parts this month before: %s; after: %s; the merge job took %s; median of %d reads each, same result",
			partList(before), partList(after), took.Round(100*time.Millisecond), mergeReadRuns),
	}, nil
}

// timedMonthRead runs the raw path's shape of a daily count over tenant's
// current month mergeReadRuns times and returns the median and the total.
func timedMonthRead(ctx context.Context, db *store.DB, tenant string) (time.Duration, uint64, error) {
	now := time.Now().UTC()
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	var took []time.Duration
	var total uint64
	for range mergeReadRuns {
		start := time.Now()
		var n uint64
		if err := db.QueryRow(ctx, []any{&n}, `
			SELECT sum(c) FROM (
				SELECT toDate(occurred_at) AS d, count() AS c FROM events FINAL
				WHERE tenant_id = ? AND occurred_at >= ? GROUP BY d)`, tenant, from); err != nil {
			return 0, 0, err
		}
		took = append(took, time.Since(start))
		total = n
	}
	slices.Sort(took)
	return took[len(took)/2], total, nil
}

// partList prints part counts by table in a fixed order.
func partList(parts map[string]int) string {
	var out []string
	for _, t := range events.DefaultMergeCurrentTables {
		out = append(out, fmt.Sprintf("%s %d", t, parts[t]))
	}
	return strings.Join(out, ", ")
}
