package main

import (
	"context"
	"fmt"
	"time"

	"github.com/learnhub/analytics-service/store"
)

// insertBatch is the batch size of the insert benchmark (the ingest sink's default).
const insertBatch = 50_000

var eventColumns = []string{"tenant_id", "event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"}

// benchInsert measures store.Insert of event rows (Go values → engine) and,
// as the baseline, ClickHouse generating the same number of rows itself with
// INSERT … SELECT FROM numbers() — the engine's own ceiling on this machine.
func benchInsert(ctx context.Context, db *store.DB, n int) ([]result, error) {
	types := []string{"user.login", "lesson.started", "lesson.completed", "quiz.submitted", "video.watched"}
	base := time.Now().UTC().Add(-24 * time.Hour)
	start := time.Now()
	for off := 0; off < n; off += insertBatch {
		size := min(insertBatch, n-off)
		rows := make([][]any, size)
		for i := range rows {
			k := off + i
			at := base.Add(time.Duration(k) * time.Millisecond)
			rows[i] = []any{"bench", fmt.Sprintf("ev-%d", k), types[k%len(types)], fmt.Sprintf("user-%d", k%5000), "",
				at, at, map[string]any{"course_id": fmt.Sprintf("c-%d", k%40), "score": k % 100}}
		}
		if err := db.Insert(ctx, store.Insert{Table: "events", Columns: eventColumns, Rows: rows}); err != nil {
			return nil, err
		}
	}
	ours := float64(n) / time.Since(start).Seconds()

	start = time.Now()
	err := db.Exec(ctx, `INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		SELECT 'bench-raw', concat('ev-', toString(number)), ['user.login','lesson.started','lesson.completed','quiz.submitted','video.watched'][number % 5 + 1],
		       concat('user-', toString(number % 5000)), '', now64(3) - toIntervalMillisecond(number), now64(3),
		       toJSONString(map('course_id', concat('c-', toString(number % 40)), 'score', toString(number % 100)))
		FROM numbers(?)`, uint64(n))
	if err != nil {
		return nil, err
	}
	raw := float64(n) / time.Since(start).Seconds()
	var count uint64
	if err := db.QueryRow(ctx, []any{&count}, "SELECT count() FROM events WHERE tenant_id IN ('bench', 'bench-raw')"); err != nil {
		return nil, err
	}
	if count != uint64(2*n) {
		return nil, fmt.Errorf("expected %d rows after the insert benchmark, found %d", 2*n, count)
	}
	return []result{{
		Name:     fmt.Sprintf("embedded insert of %d event rows, batches of %d (store.Insert)", n, insertBatch),
		Value:    fmt.Sprintf("%.0f rows/s", ours),
		Baseline: fmt.Sprintf("%.0f rows/s engine-generated INSERT … SELECT", raw),
		Ratio:    fmt.Sprintf("%.2f×", ours/raw),
		Target:   "—",
		Note:     "the baseline is the engine's ceiling (no row crosses the API)",
	}}, nil
}
