// Package exports turns a tenant's data into a downloadable file: a metric
// query, raw events, tenant SQL or a journey (funnel, retention, paths), written as CSV, XLSX, JSON, NDJSON or
// Parquet to the blob store under the tenant's prefix, with a signed URL.
//
// The flow: Service.Request validates the spec, stores an ExportJob (QUEUED)
// in ClickHouse and enqueues an Asynq task whose TaskID derives from the job
// id. The worker (Runner, kind KindRun) marks the job RUNNING, streams the
// rows from ClickHouse through the encoder into blob.Store.Put (never the
// whole result in memory; a large events window is read in time windows,
// see window.go), records progress every Config.ProgressEvery rows (at most
// once per Config.WatchInterval), then marks it SUCCEEDED and publishes
// analytics.export.completed.v1 — or FAILED with analytics.export.failed.v1.
// Events carry Nats-Msg-Id = the job id, so a job run twice publishes once;
// the object key is a function of the job id, so it is written once.
// Recoverer re-enqueues jobs left QUEUED or RUNNING when a worker starts;
// Janitor (KindJanitor) deletes expired objects and marks their jobs EXPIRED.
//
// Progress for subscriptions: Service.Watch polls the job row (see watch.go).
package exports

import (
	"time"

	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/timerange"
)

// Job kinds this package handles (see Jobs).
const (
	KindRun     = "exports:run"
	KindJanitor = "exports:janitor"
)

// Status is where a job is in its life.
type Status string

// The statuses. QUEUED and RUNNING are active (they count against the
// per-tenant cap); the rest are final.
const (
	StatusQueued    Status = "QUEUED"
	StatusRunning   Status = "RUNNING"
	StatusSucceeded Status = "SUCCEEDED"
	StatusFailed    Status = "FAILED"
	StatusCancelled Status = "CANCELLED"
	StatusExpired   Status = "EXPIRED"
)

// Active reports whether the job may still change on its own.
func (s Status) Active() bool { return s == StatusQueued || s == StatusRunning }

// Format is the file format of an export.
type Format string

// The formats.
const (
	FormatCSV     Format = "CSV"
	FormatXLSX    Format = "XLSX"
	FormatJSON    Format = "JSON"
	FormatNDJSON  Format = "NDJSON"
	FormatParquet Format = "PARQUET"
)

// Text reports whether the format is text (and so may be gzipped).
func (f Format) Text() bool { return f == FormatCSV || f == FormatJSON || f == FormatNDJSON }

// SourceKind says where an export's rows come from.
type SourceKind string

// The sources.
const (
	SourceMetric SourceKind = "METRIC"
	SourceEvents SourceKind = "EVENTS"
	SourceSQL    SourceKind = "SQL"
	// The journey sources are named as journeys.Kind.
	SourceFunnel    SourceKind = SourceKind(journeys.KindFunnel)
	SourceRetention SourceKind = SourceKind(journeys.KindRetention)
	SourcePaths     SourceKind = SourceKind(journeys.KindPaths)
)

// Spec is what a caller asks to export. Exactly one of Metric, Events,
// SQL and Journey is set.
type Spec struct {
	Metric *metrics.Request `json:"metric,omitempty"`
	Events *EventsSource    `json:"events,omitempty"`
	SQL    *SQLSource       `json:"sql,omitempty"`
	// Journey is a funnel, retention or paths query; its time range is
	// resolved to from/to when the export is requested.
	Journey *journeys.Query `json:"journey,omitempty"`
	Format  Format          `json:"format"`
	Options Options         `json:"options"`
}

// EventsSource exports raw events of a time range.
type EventsSource struct {
	// TimeRange is resolved when the export is requested, so a retried run
	// reads the same window.
	TimeRange timerange.Spec `json:"timeRange"`
	// From and To are the resolved window (set by Request).
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Types keeps only these event types; empty means all.
	Types []string `json:"types,omitempty"`
	// Columns picks and orders columns from EventColumns; empty means all.
	Columns []string `json:"columns,omitempty"`
}

// SQLSource exports the result of tenant SQL, which passes the same guards
// as ad-hoc queries (adhoc.Service.Prepare: our grammar re-printed with
// tenant guards, the engine's plan check) and runs with their readonly,
// read and memory settings.
type SQLSource struct {
	Query string `json:"query"`
}

// Options shape the file.
type Options struct {
	// Timezone is the IANA zone date-times are written in (CSV, JSON,
	// NDJSON, XLSX; Parquet stores UTC instants); empty means UTC.
	Timezone string `json:"timezone,omitempty"`
	// Gzip compresses text formats (CSV, JSON, NDJSON); the file name gets
	// ".gz". Refused for XLSX and Parquet, which are compressed already.
	Gzip bool `json:"gzip,omitempty"`
	// FileName is the download name without extension; empty means
	// "export-<job id>". Letters, digits, '-', '_' and '.' only.
	FileName string `json:"fileName,omitempty"`
}

// Job is one export as stored in ClickHouse (table export_jobs).
type Job struct {
	ID          string
	Tenant      string
	Version     uint64
	Status      Status
	Format      Format
	Source      SourceKind
	Spec        Spec
	RequestedBy string
	// ObjectKey is the blob key, tenants/<tenant>/exports/<id>/<FileName>
	// (tenants/<tenant>/exports/<id>.<ext> for jobs of earlier versions).
	ObjectKey string
	// Rows and Bytes written so far (final when SUCCEEDED).
	Rows  uint64
	Bytes uint64
	// Error is the client-safe reason of a FAILED job.
	Error     string
	CreatedAt time.Time
	UpdatedAt time.Time
	// StartedAt, FinishedAt, URLExpiresAt and ExpiresAt are nil until set.
	StartedAt  *time.Time
	FinishedAt *time.Time
	// URLExpiresAt is when the URL published with the completed event
	// stops working; Service.URL signs fresh ones until ExpiresAt.
	URLExpiresAt *time.Time
	// ExpiresAt is when the janitor deletes the object.
	ExpiresAt *time.Time
}

// FileName is the download name of the job's object, with extension.
func (j *Job) FileName() string {
	base := j.Spec.Options.FileName
	if base == "" {
		base = "export-" + j.ID
	}
	return base + Extension(j.Format, j.Spec.Options.Gzip)
}

// Extension is a format's file extension, with ".gz" when gzipped.
func Extension(f Format, gz bool) string {
	ext := map[Format]string{FormatCSV: ".csv", FormatXLSX: ".xlsx", FormatJSON: ".json", FormatNDJSON: ".ndjson", FormatParquet: ".parquet"}[f]
	if gz && f.Text() {
		ext += ".gz"
	}
	return ext
}

// ObjectKey is where the object of a tenant's job lives: under the job's
// id, named as the download (Job.FileName), so the name a browser saves
// from any store's URL is the one the caller asked for.
func ObjectKey(tenant, id, fileName string) string {
	return "tenants/" + tenant + "/exports/" + id + "/" + fileName
}

// Page is one page of List, newest first.
type Page struct {
	Jobs      []*Job
	EndCursor string // pass as after for the next page; empty when none
	HasNext   bool
}
