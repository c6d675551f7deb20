// Package reports delivers snapshots of a tenant's data on a schedule: a
// Report names a source (a dashboard with filters, or a list of metric
// queries), a cron schedule in an IANA time zone, a file format (PDF with
// charts and tables, XLSX with one sheet per widget, CSV files in a zip) and
// deliveries (email over SMTP, a webhook POST with an HMAC-signed body).
// Every run also writes the file to the blob store under
// tenants/<tenant>/reports/<report>/<run>.<ext> and announces it on
// JetStream as analytics.report.generated.v1.
//
// The flow: the scheduler fires KindTick every minute; the tick reads the
// reports whose next_run_at has passed (tick.go), computes each one's latest
// scheduled slot that has not run yet (schedule.go: wall-clock cron in the
// report's zone, DST rules documented there), records the run QUEUED and
// enqueues KindRun with a TaskID derived from (report, slot), so a slot runs
// once however many replicas tick and however often. A slot missed during
// downtime runs once when the tick catches up (only the latest missed slot). The run (runner.go) reads the data through the same
// dashboards render service the API uses, renders the file, writes it (its
// key is a function of the run id, so a retried run leaves one object),
// publishes the event with Nats-Msg-Id = the run id, and enqueues one
// KindDeliver task per delivery; failed deliveries are retried by Asynq with
// backoff and their attempts are recorded in report_deliveries. A run that
// fails for good publishes analytics.report.failed.v1 once. KindJanitor
// deletes files older than Config.Retention (janitor.go).
//
// Storage (migrations 0010_reports.sql and 0011_reports_schedule.sql):
// reports, report_runs, report_deliveries and report_schedules,
// ReplacingMergeTree rows read with FINAL.
package reports

import (
	"strings"
	"time"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/timerange"
)

// Job kinds this package handles (see Jobs).
const (
	KindTick    = "reports:tick"
	KindRun     = "reports:run"
	KindDeliver = "reports:deliver"
	KindJanitor = "reports:janitor"
)

// Events of runs (docs/events.md).
const (
	// SubjectGenerated announces a SUCCEEDED run and its file.
	SubjectGenerated = "analytics.report.generated.v1"
	// SubjectFailed announces a FAILED run and why.
	SubjectFailed = "analytics.report.failed.v1"
)

// Format is the file format of a report.
type Format string

// The formats.
const (
	FormatPDF    Format = "PDF"
	FormatXLSX   Format = "XLSX"
	FormatCSVZip Format = "CSV_ZIP"
)

// Extension is the file extension of f, with the dot; empty for an unknown
// format.
func (f Format) Extension() string {
	return map[Format]string{FormatPDF: ".pdf", FormatXLSX: ".xlsx", FormatCSVZip: ".zip"}[f]
}

// ContentType is the MIME type of f.
func (f Format) ContentType() string {
	return map[Format]string{FormatPDF: "application/pdf",
		FormatXLSX:   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		FormatCSVZip: "application/zip"}[f]
}

// Report is one scheduled report as stored.
type Report struct {
	ID     string
	Tenant string
	Input
	// Owner is the subject that created the report; runs read the data
	// with the owner's name in the audit trail.
	Owner     string
	Version   uint64
	CreatedAt time.Time
	UpdatedAt time.Time
	// ScheduledFrom is when the current schedule took effect (create, or
	// an update that changed the schedule): slots before it never run.
	ScheduledFrom time.Time
}

// Input is what a caller writes on Create and Update.
type Input struct {
	Name       string     `json:"name"`
	Source     Source     `json:"source"`
	Schedule   Schedule   `json:"schedule"`
	Format     Format     `json:"format"`
	Deliveries []Delivery `json:"deliveries"`
	Enabled    bool       `json:"enabled"`
}

// Source is where a report's data comes from: exactly one of Dashboard
// and Metrics.
type Source struct {
	// Dashboard is a dashboard id or slug; its widgets become the report's
	// sections, rendered by dashboards.Service.Render.
	Dashboard string `json:"dashboard,omitempty"`
	// Filters override the dashboard's filter defaults (as in a render).
	Filters []metrics.Filter `json:"filters,omitempty"`
	// Metrics are metric queries, one section each.
	Metrics []MetricQuery `json:"metrics,omitempty"`
	// TimeRange is each run's period, resolved at the scheduled time in the
	// schedule's zone; zero means the dashboard's default window, or
	// DefaultTimeRange for metric sources.
	TimeRange timerange.Spec `json:"timeRange"`
}

// MetricQuery is one section of a metrics-sourced report.
type MetricQuery struct {
	Title      string                `json:"title"`
	MetricKey  string                `json:"metricKey"`
	Chart      dashboards.WidgetKind `json:"chart"`
	Dimensions []string              `json:"dimensions,omitempty"`
	Grain      metrics.Grain         `json:"grain,omitempty"`
	Limit      int                   `json:"limit,omitempty"`
}

// DefaultTimeRange is the period of a metrics-sourced report without one.
var DefaultTimeRange = timerange.Spec{Last: "7d"}

// DeliveryKind is how a run's file reaches people.
type DeliveryKind string

// The delivery kinds.
const (
	DeliveryEmail   DeliveryKind = "EMAIL"
	DeliveryWebhook DeliveryKind = "WEBHOOK"
)

// Delivery is one destination of every run.
type Delivery struct {
	Kind DeliveryKind `json:"kind"`
	// To are the email recipients (EMAIL).
	To []string `json:"to,omitempty"`
	// URL receives the POST (WEBHOOK).
	URL string `json:"url,omitempty"`
	// Secret keys the HMAC-SHA256 signature of the webhook body; it is
	// write-only (never returned by the API).
	Secret string `json:"secret,omitempty"`
}

// Target is a display form of the destination (recipients or URL).
func (d Delivery) Target() string {
	if d.Kind == DeliveryEmail {
		return strings.Join(d.To, ", ")
	}
	return d.URL
}

// RunStatus is where a run is in its life.
type RunStatus string

// The run statuses.
const (
	RunQueued    RunStatus = "QUEUED"
	RunRunning   RunStatus = "RUNNING"
	RunSucceeded RunStatus = "SUCCEEDED"
	RunFailed    RunStatus = "FAILED"
)

// Trigger says why a run happened.
type Trigger string

// The triggers.
const (
	TriggerScheduled Trigger = "SCHEDULED"
	TriggerManual    Trigger = "MANUAL"
)

// Run is one execution of a report (table report_runs).
type Run struct {
	ID       string
	Tenant   string
	ReportID string
	Version  uint64
	Trigger  Trigger
	// ScheduledFor is the slot (SCHEDULED) or the request time (MANUAL);
	// the period is resolved at it, so a retried run reads the same window.
	ScheduledFor time.Time
	Status       RunStatus
	Format       Format
	// ObjectKey is tenants/<tenant>/reports/<report>/<run>.<ext>.
	ObjectKey string
	Bytes     uint64
	// PeriodFrom and PeriodTo are the resolved window (set when started).
	PeriodFrom time.Time
	PeriodTo   time.Time
	// Error is the client-safe reason of a FAILED run.
	Error      string
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	// ExpiredAt is when the janitor deleted the file after
	// Config.Retention; such a run has no download URL.
	ExpiredAt *time.Time
	// Deliveries are the per-destination states (read from
	// report_deliveries; filled by Service.Runs and Service.Run).
	Deliveries []*DeliveryState
}

// FileName is the download name of the run's file.
func (r *Run) FileName() string {
	return "report-" + r.ScheduledFor.UTC().Format("2006-01-02T1504Z") + r.Format.Extension()
}

// DeliveryStatus is where one delivery of a run is.
type DeliveryStatus string

// The delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "PENDING"
	DeliveryRetrying  DeliveryStatus = "RETRYING"
	DeliverySucceeded DeliveryStatus = "SUCCEEDED"
	DeliveryFailed    DeliveryStatus = "FAILED"
)

// DeliveryState is one delivery of one run (table report_deliveries).
type DeliveryState struct {
	Tenant   string
	ReportID string
	RunID    string
	Index    int
	Version  uint64
	Kind     DeliveryKind
	Target   string
	Status   DeliveryStatus
	// Attempts counts tries so far; LastError is the client-safe reason of
	// the last failed one.
	Attempts      int
	LastError     string
	LastAttemptAt *time.Time
	DeliveredAt   *time.Time
}

// Page is one page of List, newest first.
type Page struct {
	Reports   []*Report
	EndCursor string
	HasNext   bool
}

// RunPage is one page of Runs, newest slot first.
type RunPage struct {
	Runs      []*Run
	EndCursor string
	HasNext   bool
}
