package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/learnhub/analytics-service/exports"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// The export benchmark's data: exportRows events of one tenant in one
// window, every column of a raw events export.
const (
	exportRows    = 1_000_000
	exportTenant  = "bench-export"
	exportRSSGoal = 200 << 20
)

var exportFrom = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)

// benchExports measures raw event exports of exportRows rows through the
// export runner (engine → store rows → encoder → local blob store) in every
// format, against the engine writing the same query as CSVWithNames to a
// file itself (INSERT INTO FUNCTION file(…) SELECT …): the engine's own
// ceiling for turning these rows into a file on this machine.
//
// Memory: before each export the process's peak-RSS mark is reset (writing
// 5 to /proc/self/clear_refs, Linux ≥ 4.0) and VmHWM is read after it, so
// each run reports its own peak. The engine is in-process, so that peak
// includes ClickHouse reading and sorting the rows; the CSV run's peak is
// the same engine work with a streaming text encoder, so XLSX's peak minus
// CSV's is what the XLSX encoder itself holds.
func benchExports(ctx context.Context, db *store.DB) ([]result, error) {
	if err := db.Exec(ctx, `INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		SELECT ?, concat('ex-', toString(number)), ['user.login','lesson.started','lesson.completed','quiz.submitted','video.watched'][number % 5 + 1],
		       concat('user-', toString(number % 5000)), concat('s-', toString(number % 20000)),
		       toDateTime64(?, 3, 'UTC') + toIntervalMillisecond(number * 7), toDateTime64(?, 3, 'UTC') + toIntervalMillisecond(number * 7 + 250),
		       toJSONString(map('course_id', concat('c-', toString(number % 40)), 'score', toString(number % 100)))
		FROM numbers(?)`, exportTenant, exportFrom, exportFrom, uint64(exportRows)); err != nil {
		return nil, err
	}
	to := exportFrom.Add(time.Duration(exportRows*7+1) * time.Millisecond)

	dir, err := os.MkdirTemp("", "analyticsbench-exports-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	baseRate, baseBytes, err := engineCSV(ctx, db, dir, to)
	if err != nil {
		return nil, fmt.Errorf("engine baseline: %w", err)
	}

	blobs, err := blob.NewLocal(blob.LocalConfig{Dir: dir, BaseURL: "http://bench.invalid/blobs", Secret: []byte("analyticsbench-exports-secret")})
	if err != nil {
		return nil, err
	}
	q := &exportQueue{}
	svc, err := exports.NewService(exports.Deps{DB: db, Blobs: blobs, Jobs: q, Bus: exportBus{}}, exports.Config{})
	if err != nil {
		return nil, err
	}
	caller := auth.WithPrincipal(ctx, auth.Principal{Subject: "bench", Tenant: exportTenant, Roles: []auth.Role{auth.RoleAnalyst}})

	var out []result
	peaks := map[exports.Format]int64{}
	for _, f := range []exports.Format{exports.FormatCSV, exports.FormatNDJSON, exports.FormatJSON, exports.FormatParquet, exports.FormatXLSX} {
		resetPeakRSS()
		start := time.Now()
		j, err := runExport(caller, svc, q, f, to)
		if err != nil {
			return nil, fmt.Errorf("%s export: %w", f, err)
		}
		elapsed := time.Since(start)
		peaks[f] = peakRSS()
		if j.Rows != exportRows {
			return nil, fmt.Errorf("%s export wrote %d rows, want %d", f, j.Rows, exportRows)
		}
		if err := blobs.Delete(ctx, j.ObjectKey); err != nil {
			return nil, err
		}
		rate := float64(exportRows) / elapsed.Seconds()
		r := result{
			Name:     fmt.Sprintf("export of %d event rows, %s (runner → local blob store)", exportRows, f),
			Value:    fmt.Sprintf("%.0f rows/s, %.1f MB", rate, float64(j.Bytes)/1e6),
			Baseline: fmt.Sprintf("%.0f rows/s, %.1f MB engine CSVWithNames to a file", baseRate, float64(baseBytes)/1e6),
			Ratio:    fmt.Sprintf("%.2f×", rate/baseRate),
			Target:   "—",
			Note:     fmt.Sprintf("peak RSS %s", mb(peaks[f])),
		}
		switch f {
		case exports.FormatCSV, exports.FormatNDJSON, exports.FormatParquet:
			r.Target = "≥ 0.70×: " + verdict(rate/baseRate >= 0.7)
		}
		out = append(out, r)
	}
	if x, c := peaks[exports.FormatXLSX], peaks[exports.FormatCSV]; x > 0 {
		out = append(out, result{
			Name:     fmt.Sprintf("XLSX export of %d rows: peak RSS of the process", exportRows),
			Value:    mb(x),
			Baseline: mb(c) + " (CSV export, same engine work)",
			Ratio:    "+" + mb(x-c) + " for the XLSX encoder",
			Target:   "≤ " + mb(exportRSSGoal) + ": " + verdict(x <= exportRSSGoal),
			Note:     "VmHWM after resetting it (clear_refs 5); includes the in-process engine",
		})
	}
	return out, nil
}

// engineCSV is the baseline: the engine runs the export's query and writes
// CSVWithNames to a file in dir. It returns rows/s and the file's size.
func engineCSV(ctx context.Context, db *store.DB, dir string, to time.Time) (float64, int64, error) {
	path := filepath.Join(dir, "engine-baseline.csv")
	start := time.Now()
	err := db.Exec(ctx, "INSERT INTO FUNCTION file(?, 'CSVWithNames') "+
		"SELECT event_id, type, user_id, session_id, occurred_at, received_at, properties FROM events FINAL "+
		"WHERE tenant_id = ? AND occurred_at >= ? AND occurred_at < ? ORDER BY occurred_at, event_id",
		path, exportTenant, exportFrom, to)
	if err != nil {
		return 0, 0, err
	}
	rate := float64(exportRows) / time.Since(start).Seconds()
	st, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("the engine wrote no file at %s: %w", path, err)
	}
	return rate, st.Size(), os.Remove(path)
}

// runExport requests an export of the benchmark's events in f and runs its
// task through the runner, as a worker would.
func runExport(ctx context.Context, svc *exports.Service, q *exportQueue, f exports.Format, to time.Time) (*exports.Job, error) {
	from := exportFrom
	j, err := svc.Request(ctx, exports.Spec{Events: &exports.EventsSource{TimeRange: timerange.Spec{From: &from, To: &to}}, Format: f})
	if err != nil {
		return nil, err
	}
	task := q.take()
	id, params, err := jobs.TaskID(task)
	if err != nil {
		return nil, err
	}
	if err := svc.Runner().ProcessJob(ctx, jobs.Job{ID: id, Kind: task.Kind, Tenant: task.Tenant, Params: params, MaxRetry: 0}); err != nil {
		return nil, err
	}
	return svc.Get(ctx, j.ID)
}

// exportQueue is an in-process exports.Enqueuer: the benchmark runs the
// task itself.
type exportQueue struct {
	mu    sync.Mutex
	tasks []jobs.Task
}

func (q *exportQueue) Enqueue(_ context.Context, t jobs.Task) (jobs.Receipt, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.tasks = append(q.tasks, t)
	id, _, err := jobs.TaskID(t)
	return jobs.Receipt{ID: id}, err
}

func (q *exportQueue) take() jobs.Task {
	q.mu.Lock()
	defer q.mu.Unlock()
	t := q.tasks[len(q.tasks)-1]
	q.tasks = q.tasks[:len(q.tasks)-1]
	return t
}

// exportBus drops the completion events.
type exportBus struct{}

func (exportBus) Publish(context.Context, string, any, string) error { return nil }

// resetPeakRSS resets the process's VmHWM to its current RSS.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM in bytes (0 when /proc is not there).
func peakRSS() int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mb(n int64) string { return fmt.Sprintf("%.0f MB", float64(n)/(1<<20)) }
