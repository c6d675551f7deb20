package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/exports"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/jobs/jobstest"
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

// memChildEnv names the environment variable that turns the benchmark
// process into a memory child (see exportMemory): it holds the format to
// export and the file to write the measurement to, "FORMAT:path".
const memChildEnv = "ANALYTICSBENCH_EXPORT_MEMORY_CHILD"

var exportFrom = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)

// memResult is what a memory child measured.
type memResult struct {
	// Before is VmRSS just before the export: the engine with the rows
	// loaded, plus the Go runtime.
	Before int64 `json:"before"`
	// Peak is VmHWM during the export (the mark reset just before it).
	Peak int64 `json:"peak"`
	// GoPeak is the most memory the Go runtime held from the system
	// during the export (sampled): what the export costs a worker whose
	// engine is a ClickHouse server.
	GoPeak int64 `json:"goPeak"`
}

// benchExports measures raw event exports of exportRows rows through the
// export runner (engine → store rows → encoder → local blob store) in every
// format, against the engine writing the same query in the same kind of
// format to a file itself (INSERT INTO FUNCTION file(…) SELECT …), run just
// before each export, both warm: the engine's own ceiling for turning these
// rows into that file on this machine. Both files are read back by the
// engine and must hold the table's rows (count and checksum).
//
// Memory is measured apart, in child processes (exportMemory): this
// process's peak would include everything earlier benchmark groups left
// resident.
func benchExports(ctx context.Context, db *store.DB) ([]result, error) {
	if child := os.Getenv(memChildEnv); child != "" {
		return nil, exportMemoryChild(ctx, db, child)
	}
	if err := loadExportRows(ctx, db); err != nil {
		return nil, err
	}
	to := exportTo()

	dir, err := os.MkdirTemp("", "analyticsbench-exports-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	ex, err := newExporter(ctx, db, dir)
	if err != nil {
		return nil, err
	}

	want, err := tableChecksum(ctx, db, to)
	if err != nil {
		return nil, err
	}
	// The machine is shared: each export is compared with the engine
	// writing the same format right before it, so both see about the same
	// load; each side runs once untimed first (warm). Each file, ours and
	// the engine's, is read back by the engine and must hold the table's
	// rows: same count and same checksum of the parsed values.
	var out []result
	for _, f := range []exports.Format{exports.FormatCSV, exports.FormatNDJSON, exports.FormatJSON, exports.FormatParquet, exports.FormatXLSX} {
		engine := engineFormats[f]
		for warm := true; ; warm = false {
			baseRate, baseBytes, err := engineFile(ctx, db, dir, to, engine, want)
			if err != nil {
				return nil, fmt.Errorf("engine baseline %s: %w", engine.write, err)
			}
			start := time.Now()
			j, err := ex.run(f, to)
			if err != nil {
				return nil, err
			}
			rate := float64(exportRows) / time.Since(start).Seconds()
			if err := ex.check(f, j, want); err != nil {
				return nil, err
			}
			if warm {
				continue
			}
			checked := "checked: our file read back by the engine equals the table (rows and checksum of every parsed row), as does the engine's"
			if f == exports.FormatXLSX {
				checked = "checked: row count only (the engine reads no XLSX); the engine has no XLSX writer, so the baseline is its CSVWithNames: not a like-for-like row"
			}
			r := result{
				Name:     fmt.Sprintf("export of %d event rows, %s (runner → local blob store)", exportRows, f),
				Value:    fmt.Sprintf("%.0f rows/s, %.1f MB", rate, float64(j.Bytes)/1e6),
				Baseline: fmt.Sprintf("%.0f rows/s, %.1f MB engine %s to a file, run just before", baseRate, float64(baseBytes)/1e6, engine.write),
				Ratio:    fmt.Sprintf("%.2f×", rate/baseRate),
				Target:   "—",
				Note:     "both sides warm (one untimed run each); " + checked,
			}
			switch f {
			case exports.FormatCSV, exports.FormatNDJSON, exports.FormatParquet:
				r.Target = "≥ 0.70×: " + verdict(rate/baseRate >= 0.7)
			}
			out = append(out, r)
			break
		}
	}

	xlsx, err := exportMemory(ctx, exports.FormatXLSX)
	if err != nil {
		return nil, fmt.Errorf("XLSX memory: %w", err)
	}
	csv, err := exportMemory(ctx, exports.FormatCSV)
	if err != nil {
		return nil, fmt.Errorf("CSV memory: %w", err)
	}
	share := xlsx.Peak - xlsx.Before
	return append(out, result{
		Name:     fmt.Sprintf("XLSX export of %d rows: memory of a fresh process", exportRows),
		Value:    fmt.Sprintf("+%s for the export (peak %s, %s before it); Go runtime %s", mb(share), mb(xlsx.Peak), mb(xlsx.Before), mb(xlsx.GoPeak)),
		Baseline: fmt.Sprintf("CSV: +%s (peak %s, %s before); Go runtime %s", mb(csv.Peak-csv.Before), mb(csv.Peak), mb(csv.Before), mb(csv.GoPeak)),
		Ratio:    fmt.Sprintf("+%s over CSV", mb(share-(csv.Peak-csv.Before))),
		Target:   "≤ " + mb(exportRSSGoal) + " for the export: " + verdict(share <= exportRSSGoal),
		Note: "a child process per format with its own embedded engine, the rows loaded and the engine's allocator purged; " +
			"before = VmRSS then (the idle engine, ~200 MB of it, and the data); peak = VmHWM during the export (clear_refs 5 just before); " +
			"the export's share includes the engine's query memory, the Go heap and excelize's buffers; Go runtime = most memory the Go side held, " +
			"what a worker on a ClickHouse server needs",
	}), nil
}

// exportMemory runs one export of the benchmark's rows in f in a child
// process (this binary again, with memChildEnv set) that opens its own
// embedded engine in a fresh directory and loads the rows, and returns
// what it measured.
func exportMemory(ctx context.Context, f exports.Format) (memResult, error) {
	var m memResult
	self, err := os.Executable()
	if err != nil {
		return m, err
	}
	dir, err := os.MkdirTemp("", "analyticsbench-memory-*")
	if err != nil {
		return m, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "result.json")
	cmd := exec.CommandContext(ctx, self, "-only", "exports")
	cmd.Env = append(os.Environ(), memChildEnv+"="+string(f)+":"+path)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return m, err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(raw, &m)
}

// exportMemoryChild is the child's side of exportMemory: spec is
// "FORMAT:path".
func exportMemoryChild(ctx context.Context, db *store.DB, spec string) error {
	format, path, ok := strings.Cut(spec, ":")
	if !ok {
		return fmt.Errorf("%s=%q: want FORMAT:path", memChildEnv, spec)
	}
	if err := loadExportRows(ctx, db); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "analyticsbench-exports-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ex, err := newExporter(ctx, db, dir)
	if err != nil {
		return err
	}
	// What the load left behind is not the export's: the engine's
	// allocator would otherwise hand its retained pages to the export's
	// query, hiding its memory.
	if err := db.Exec(ctx, "SYSTEM JEMALLOC PURGE"); err != nil {
		return err
	}
	debug.FreeOSMemory()
	m := memResult{Before: currentRSS()}
	stop := sampleGoMemory(&m.GoPeak)
	resetPeakRSS()
	j, err := ex.run(exports.Format(format), exportTo())
	m.Peak = peakRSS()
	stop()
	if err != nil {
		return err
	}
	if err := ex.blobs.Delete(ex.ctx, j.ObjectKey); err != nil {
		return err
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(path, raw, 0o600)
}

// sampleGoMemory records in peak the most memory the Go runtime holds from
// the system (mapped minus released) until stop is called.
func sampleGoMemory(peak *int64) (stop func()) {
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(samples)
			*peak = max(*peak, int64(samples[0].Value.Uint64()-samples[1].Value.Uint64()))
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// loadExportRows inserts the benchmark's events.
func loadExportRows(ctx context.Context, db *store.DB) error {
	return db.Exec(ctx, `INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		SELECT ?, concat('ex-', toString(number)), ['user.login','lesson.started','lesson.completed','quiz.submitted','video.watched'][number % 5 + 1],
		       concat('user-', toString(number % 5000)), concat('s-', toString(number % 20000)),
		       toDateTime64(?, 3, 'UTC') + toIntervalMillisecond(number * 7), toDateTime64(?, 3, 'UTC') + toIntervalMillisecond(number * 7 + 250),
		       toJSONString(map('course_id', concat('c-', toString(number % 40)), 'score', toString(number % 100)))
		FROM numbers(?)`, exportTenant, exportFrom, exportFrom, uint64(exportRows))
}

// exportTo is the end of the window holding every benchmark event.
func exportTo() time.Time { return exportFrom.Add(time.Duration(exportRows*7+1) * time.Millisecond) }

// exporter runs exports of the benchmark's events through the export
// service, with the blob store in a local directory.
type exporter struct {
	ctx   context.Context // carries the requesting principal
	svc   *exports.Service
	q     *jobstest.Recorder
	blobs blob.Store
	dir   string // the local blob store's root
	db    *store.DB
}

func newExporter(ctx context.Context, db *store.DB, dir string) (*exporter, error) {
	blobs, err := blob.NewLocal(blob.LocalConfig{Dir: dir, BaseURL: "http://bench.invalid/blobs", Secret: []byte("analyticsbench-exports-secret")})
	if err != nil {
		return nil, err
	}
	q := &jobstest.Recorder{} // the benchmark runs each task itself
	svc, err := exports.NewService(exports.Deps{DB: db, Blobs: blobs, Jobs: q, Bus: exportBus{}}, exports.Config{})
	if err != nil {
		return nil, err
	}
	caller := auth.WithPrincipal(ctx, auth.Principal{Subject: "bench", Tenant: exportTenant, Roles: []auth.Role{auth.RoleAnalyst}})
	return &exporter{ctx: caller, svc: svc, q: q, blobs: blobs, dir: dir, db: db}, nil
}

// run exports the events up to to in f and checks the row count; check
// (or the caller) deletes the file.
func (e *exporter) run(f exports.Format, to time.Time) (*exports.Job, error) {
	j, err := runExport(e.ctx, e.svc, e.q, f, to)
	if err != nil {
		return nil, fmt.Errorf("%s export: %w", f, err)
	}
	if j.Rows != exportRows {
		return nil, fmt.Errorf("%s export wrote %d rows, want %d", f, j.Rows, exportRows)
	}
	return j, nil
}

// check reads the export file j of format f back through the engine,
// compares it with the table's checksum want (XLSX, which the engine cannot
// read, by row count only) and deletes it.
func (e *exporter) check(f exports.Format, j *exports.Job, want checksum) error {
	if read := engineFormats[f].read; read != "" {
		got, err := fileChecksum(e.ctx, e.db, filepath.Join(e.dir, filepath.FromSlash(j.ObjectKey)), read)
		if err != nil {
			return fmt.Errorf("%s export: reading it back: %w", f, err)
		}
		if got != want {
			return fmt.Errorf("%s export holds %d rows with checksum %d, the table %d rows with checksum %d", f, got.rows, got.sum, want.rows, want.sum)
		}
	}
	return e.blobs.Delete(e.ctx, j.ObjectKey)
}

// engineFormat is how the engine writes a format (write), reads our file
// of it (read; "" when it cannot) and reads its own (readEngine).
type engineFormat struct{ write, read, readEngine string }

// engineFormats names, per export format, the engine format that writes
// the same kind of file (the baseline) and the one that reads ours back.
var engineFormats = map[exports.Format]engineFormat{
	exports.FormatCSV:     {"CSVWithNames", "CSVWithNames", "CSVWithNames"},
	exports.FormatNDJSON:  {"JSONEachRow", "JSONEachRow", "JSONEachRow"},
	exports.FormatJSON:    {"JSON", "JSONEachRow", "JSON"}, // ours is an array of objects, the engine's {meta, data}
	exports.FormatParquet: {"Parquet", "Parquet", "Parquet"},
	exports.FormatXLSX:    {"CSVWithNames", "", "CSVWithNames"},
}

// checksum is a row count and an order-independent sum of row hashes.
type checksum struct{ rows, sum uint64 }

// rowHash hashes one exported row's values after parsing, so that the
// formats' spellings (a date-time as text or a Parquet timestamp, the
// properties as a JSON string or an object) hash alike.
const rowHash = `cityHash64(toString(event_id), toString(type), toString(user_id), toString(session_id),
	toUnixTimestamp64Milli(parseDateTime64BestEffort(toString(occurred_at), 3, 'UTC')),
	toUnixTimestamp64Milli(parseDateTime64BestEffort(toString(received_at), 3, 'UTC')),
	JSONExtractString(toString(properties), 'course_id'), JSONExtractString(toString(properties), 'score'))`

// tableChecksum is the checksum of the rows an export of the window holds.
func tableChecksum(ctx context.Context, db *store.DB, to time.Time) (checksum, error) {
	var c checksum
	err := db.QueryRow(ctx, []any{&c.rows, &c.sum}, "SELECT count(), sum("+rowHash+") FROM events FINAL WHERE tenant_id = ? AND occurred_at >= ? AND occurred_at < ?",
		exportTenant, exportFrom, to)
	return c, err
}

// fileChecksum reads a file through the engine in format and checksums it.
func fileChecksum(ctx context.Context, db *store.DB, path, format string) (checksum, error) {
	var c checksum
	// Text formats are read as text (an object into a String), so the
	// hash sees each value as written; Parquet with its own types.
	structure := "event_id String, type String, user_id String, session_id String, occurred_at String, received_at String, properties String"
	if format == "Parquet" {
		structure = "auto"
	}
	err := db.QueryRow(ctx, []any{&c.rows, &c.sum}, "SELECT count(), sum("+rowHash+") FROM file(?, ?, ?) SETTINGS input_format_json_read_objects_as_strings = 1, input_format_json_validate_types_from_metadata = 0, schema_inference_make_columns_nullable = 0",
		path, format, structure)
	return c, err
}

// engineFile is the baseline: the engine runs the export's query and writes
// the file itself in the engine format of the same kind. It returns rows/s
// and the file's size, after checking the file holds the table's rows.
func engineFile(ctx context.Context, db *store.DB, dir string, to time.Time, format engineFormat, want checksum) (float64, int64, error) {
	path := filepath.Join(dir, "engine-baseline."+strings.ToLower(format.write))
	start := time.Now()
	err := db.Exec(ctx, "INSERT INTO FUNCTION file(?, ?) "+
		"SELECT event_id, type, user_id, session_id, occurred_at, received_at, properties FROM events FINAL "+
		"WHERE tenant_id = ? AND occurred_at >= ? AND occurred_at < ? ORDER BY occurred_at, event_id",
		path, format.write, exportTenant, exportFrom, to)
	if err != nil {
		return 0, 0, err
	}
	rate := float64(exportRows) / time.Since(start).Seconds()
	st, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("the engine wrote no file at %s: %w", path, err)
	}
	got, err := fileChecksum(ctx, db, path, format.readEngine)
	if err != nil {
		return 0, 0, fmt.Errorf("reading the engine's %s back: %w", format.write, err)
	}
	if got != want {
		return 0, 0, fmt.Errorf("the engine's %s holds %d rows with checksum %d, the table %d with %d", format.write, got.rows, got.sum, want.rows, want.sum)
	}
	return rate, st.Size(), os.Remove(path)
}

// runExport requests an export of the benchmark's events in f and runs its
// task through the runner, as a worker would.
func runExport(ctx context.Context, svc *exports.Service, q *jobstest.Recorder, f exports.Format, to time.Time) (*exports.Job, error) {
	from := exportFrom
	j, err := svc.Request(ctx, exports.Spec{Events: &exports.EventsSource{TimeRange: timerange.Spec{From: &from, To: &to}}, Format: f})
	if err != nil {
		return nil, err
	}
	tasks := q.Take(exports.KindRun)
	if len(tasks) != 1 {
		return nil, fmt.Errorf("%d export tasks queued, want 1", len(tasks))
	}
	task := tasks[0]
	id, params, err := jobs.TaskID(task)
	if err != nil {
		return nil, err
	}
	if err := svc.Runner().ProcessJob(ctx, jobs.Job{ID: id, Kind: task.Kind, Tenant: task.Tenant, Params: params, MaxRetry: 0}); err != nil {
		return nil, err
	}
	return svc.Get(ctx, j.ID)
}

// exportBus drops the completion events.
type exportBus struct{}

func (exportBus) Publish(context.Context, string, any, string) error { return nil }

// resetPeakRSS resets the process's VmHWM to its current RSS.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM in bytes (0 when /proc is not there).
func peakRSS() int64 { return procStatus("VmHWM:") }

// currentRSS is VmRSS in bytes (0 when /proc is not there).
func currentRSS() int64 { return procStatus("VmRSS:") }

// procStatus reads a kB field of /proc/self/status in bytes.
func procStatus(field string) int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mb(n int64) string { return fmt.Sprintf("%.0f MB", float64(n)/(1<<20)) }
