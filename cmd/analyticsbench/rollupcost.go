package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/store"
)

// rollupUpkeep measures what keeping the daily rollups current costs an
// insert: the engine's own INSERT … SELECT of n event rows into events,
// whose materialized views feed the rollups (and the written-days log) on
// every insert, against the same statement into a copy of events with the
// same engine and sort key but no views. The two alternate in rounds, as
// the other insert rows do; merges run.
func rollupUpkeep(ctx context.Context, db *store.DB, n int) (result, error) {
	const copyTable = "bench_events_no_views"
	if err := db.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+copyTable+" AS events"); err != nil {
		return result{}, err
	}
	defer func() { _ = db.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+copyTable) }()
	var views []string
	rows, err := db.Query(ctx, "SELECT arrayJoin(dependencies_table) AS v FROM system.tables WHERE database = currentDatabase() AND name = 'events' ORDER BY v")
	if err != nil {
		return result{}, err
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return result{}, err
		}
		views = append(views, name)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return result{}, err
	}
	rows.Close()
	var with, without float64
	var withCPU, withoutCPU time.Duration
	for round := range insertRounds {
		cpu0 := processCPU()
		r, err := engineInsertInto(ctx, db, "events", fmt.Sprintf("bench-upkeep-%d", round), n)
		if err != nil {
			return result{}, err
		}
		with, withCPU = with+r/insertRounds, withCPU+processCPU()-cpu0
		cpu0 = processCPU()
		if r, err = engineInsertInto(ctx, db, copyTable, fmt.Sprintf("bench-upkeep-%d", round), n); err != nil {
			return result{}, err
		}
		without, withoutCPU = without+r/insertRounds, withoutCPU+processCPU()-cpu0
	}
	perRow := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 / float64(insertRounds*n) }
	return result{
		Name:     fmt.Sprintf("keeping the daily rollups current on insert: engine INSERT … SELECT of %d event rows into events (%d materialized views)", n, len(views)),
		Value:    fmt.Sprintf("%.0f rows/s, process CPU %.2f µs/row", with, perRow(withCPU)),
		Baseline: fmt.Sprintf("%.0f rows/s, process CPU %.2f µs/row into a copy of events without views", without, perRow(withoutCPU)),
		Ratio:    fmt.Sprintf("%.2f×", with/without),
		Target:   "—",
		Note: fmt.Sprintf("the cost the rollups add to every insert (views: %s); merges running; %d alternating rounds, mean",
			strings.Join(views, ", "), insertRounds),
	}, nil
}
