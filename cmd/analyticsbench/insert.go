package main

import (
	"context"
	"fmt"
	"time"

	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
)

// insertBatch is the batch size of the insert benchmark (the ingest sink's default).
const insertBatch = 50_000

// insertRounds is how often the insert benchmark alternates its three
// sides; each side's rate is the mean over the rounds, so a load change on
// the shared machine falls on every side alike.
const insertRounds = 2

var eventColumns = []string{"tenant_id", "event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"}

// benchInsert measures store.Insert of event rows (Go values → engine) in
// RowBinary (the default) and in the JSONCompactEachRow text it replaced
// (a second backend on the same engine with TextInserts), and, as the
// baseline, ClickHouse generating the same number of rows itself with
// INSERT … SELECT FROM numbers() — the engine's own ceiling on this machine.
// Background merges run throughout, as in production; the sides alternate
// in rounds.
func benchInsert(ctx context.Context, db *store.DB, n int) ([]result, error) {
	emb, ok := db.Backend().(*chembedded.Backend)
	if !ok {
		return nil, fmt.Errorf("the insert benchmark needs the embedded backend")
	}
	textBackend, err := chembedded.Open(ctx, chembedded.Options{Path: emb.DataPath(), Database: emb.Database(), TextInserts: true})
	if err != nil {
		return nil, err
	}
	textDB := store.New(textBackend, store.Options{Mode: "embedded"})
	defer textDB.Close()

	var binRate, textRate, rawRate float64
	var binCPU, textCPU, rawCPU time.Duration
	for round := range insertRounds {
		r, cpu, err := timedInsert(ctx, textDB, fmt.Sprintf("bench-text-%d", round), n)
		if err != nil {
			return nil, fmt.Errorf("text inserts: %w", err)
		}
		textRate, textCPU = textRate+r/insertRounds, textCPU+cpu
		if r, cpu, err = timedInsert(ctx, db, fmt.Sprintf("bench-%d", round), n); err != nil {
			return nil, err
		}
		binRate, binCPU = binRate+r/insertRounds, binCPU+cpu
		cpu0 := processCPU()
		if r, err = engineInsert(ctx, db, fmt.Sprintf("bench-raw-%d", round), n); err != nil {
			return nil, err
		}
		rawRate, rawCPU = rawRate+r/insertRounds, rawCPU+processCPU()-cpu0
	}
	perRow := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 / float64(insertRounds*n) }
	var count uint64
	if err := db.QueryRow(ctx, []any{&count}, "SELECT count() FROM events WHERE startsWith(tenant_id, 'bench-')"); err != nil {
		return nil, err
	}
	if want := uint64(3 * insertRounds * n); count != want {
		return nil, fmt.Errorf("expected %d rows after the insert benchmark, found %d", want, count)
	}
	baseline := fmt.Sprintf("%.0f rows/s engine-generated INSERT … SELECT (process CPU %.2f µs/row)", rawRate, perRow(rawCPU))
	note := fmt.Sprintf("merges running; %d alternating rounds, mean; the baseline is the engine's ceiling (no row crosses the API)", insertRounds)
	upkeep, err := rollupUpkeep(ctx, db, n)
	if err != nil {
		return nil, err
	}
	return []result{
		upkeep,
		{
			Name:  fmt.Sprintf("embedded insert of %d event rows, batches of %d (store.Insert, RowBinary)", n, insertBatch),
			Value: fmt.Sprintf("%.0f rows/s", binRate), Baseline: baseline, Ratio: fmt.Sprintf("%.2f× %s", binRate/rawRate, mark(binRate/rawRate >= 0.5)),
			Target: "≥ 0.5×", Note: note + fmt.Sprintf("; %.2f× the text format; process CPU %.2f µs/row (text %.2f µs/row); Go rows built outside the clocks, encoding inside", binRate/textRate, perRow(binCPU), perRow(textCPU)),
		},
		{
			Name:  fmt.Sprintf("embedded insert of %d event rows, batches of %d (JSONCompactEachRow text, before)", n, insertBatch),
			Value: fmt.Sprintf("%.0f rows/s", textRate), Baseline: baseline, Ratio: fmt.Sprintf("%.2f×", textRate/rawRate),
			Target: "—", Note: note + fmt.Sprintf("; process CPU %.2f µs/row", perRow(textCPU)),
		},
	}, nil
}

// timedInsert writes n event rows for tenant through db.Insert in
// insertBatch batches and returns rows/s and the process CPU time over the
// Insert calls alone (each batch's Go values are built before its clocks
// start).
func timedInsert(ctx context.Context, db *store.DB, tenant string, n int) (float64, time.Duration, error) {
	types := []string{"user.login", "lesson.started", "lesson.completed", "quiz.submitted", "video.watched"}
	base := time.Now().UTC().Add(-24 * time.Hour)
	var spent, cpu time.Duration
	for off := 0; off < n; off += insertBatch {
		size := min(insertBatch, n-off)
		rows := make([][]any, size)
		for i := range rows {
			k := off + i
			at := base.Add(time.Duration(k) * time.Millisecond)
			rows[i] = []any{tenant, fmt.Sprintf("ev-%d", k), types[k%len(types)], fmt.Sprintf("user-%d", k%5000), "",
				at, at, map[string]any{"course_id": fmt.Sprintf("c-%d", k%40), "score": k % 100}}
		}
		start, cpu0 := time.Now(), processCPU()
		if err := db.Insert(ctx, store.Insert{Table: "events", Columns: eventColumns, Rows: rows}); err != nil {
			return 0, 0, err
		}
		spent, cpu = spent+time.Since(start), cpu+processCPU()-cpu0
	}
	return float64(n) / spent.Seconds(), cpu, nil
}

// engineInsert has the engine generate n event rows like timedInsert's for
// tenant with INSERT … SELECT and returns rows/s.
func engineInsert(ctx context.Context, db *store.DB, tenant string, n int) (float64, error) {
	return engineInsertInto(ctx, db, "events", tenant, n)
}

// engineInsertInto is engineInsert into table (events or a copy of it).
func engineInsertInto(ctx context.Context, db *store.DB, table, tenant string, n int) (float64, error) {
	start := time.Now()
	err := db.Exec(ctx, `INSERT INTO `+table+` (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		SELECT ?, concat('ev-', toString(number)), ['user.login','lesson.started','lesson.completed','quiz.submitted','video.watched'][number % 5 + 1],
		       concat('user-', toString(number % 5000)), '', now64(3) - toIntervalMillisecond(number), now64(3),
		       toJSONString(map('course_id', concat('c-', toString(number % 40)), 'score', toString(number % 100)))
		FROM numbers(?)`, tenant, uint64(n))
	if err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
