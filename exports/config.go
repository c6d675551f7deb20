package exports

import (
	"context"
	"time"

	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/platform/kv"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxConcurrentPerTenant = 2
	DefaultProgressEvery          = 10_000
	DefaultURLTTL                 = 24 * time.Hour
	DefaultRetention              = 7 * 24 * time.Hour
	DefaultMaxRows                = 5_000_000
	DefaultWatchInterval          = time.Second
	DefaultMaxRetry               = 3
	DefaultTimeout                = time.Hour
	DefaultMaxExecutionTime       = 30 * time.Minute
	DefaultJanitorSpec            = "17 * * * *" // hourly
)

// admitLockTTL bounds how long a crashed replica can hold a tenant's
// admission lock (a count and one insert take milliseconds).
const admitLockTTL = 5 * time.Second

// Subjects of the events this package publishes (docs/events.md).
const (
	SubjectCompleted = "analytics.export.completed.v1"
	SubjectFailed    = "analytics.export.failed.v1"
)

// Enqueuer enqueues background tasks (*queue.Client).
type Enqueuer interface {
	Enqueue(ctx context.Context, t jobs.Task) (jobs.Receipt, error)
}

// Publisher publishes outgoing events with dedup (*bus.Bus).
type Publisher interface {
	Publish(ctx context.Context, subject string, v any, msgID string) error
}

// MetricQuerier answers metric requests (*metrics.Querier).
type MetricQuerier interface {
	Query(ctx context.Context, req metrics.Request) (*metrics.Result, error)
}

// SQLPrinter prepares tenant SQL with the ad-hoc walls (*adhoc.Service):
// our grammar re-printed with tenant guards and bound values, then the
// engine's plan check. Give exports its own adhoc.Service whose MaxLimit is
// Config.MaxRows: Prepare caps the rows of a query at its MaxLimit.
type SQLPrinter interface {
	Prepare(ctx context.Context, sql string, limit int) (*adhoc.Printed, error)
}

// Deps are the Service's collaborators. DB, Blobs and Jobs are required;
// Bus, Metrics and SQL may be nil in a process that only requests exports
// (serve role) — the worker needs Bus, and a source whose dependency is nil
// is refused with a clear error.
type Deps struct {
	DB      *store.DB
	Blobs   blob.Store
	Jobs    Enqueuer
	Bus     Publisher
	Metrics MetricQuerier
	SQL     SQLPrinter
	// Journeys answers funnel, retention and paths sources; nil refuses them.
	Journeys JourneyRunner
	// Locks takes the per-tenant admission lock that keeps the cap of
	// active exports across replicas; nil means the cap is kept within one
	// process only.
	Locks kv.Locker
	// Cohorts checks the cohorts a metric source names (*cohorts.Service
	// implements it); nil refuses metric exports with cohort filters or a
	// cohort breakdown, since their cohorts cannot be checked.
	Cohorts metrics.CohortChecker
}

// Config tunes the Service. Zero values mean the defaults above.
type Config struct {
	// MaxConcurrentPerTenant caps QUEUED+RUNNING exports per tenant; zero
	// means DefaultMaxConcurrentPerTenant.
	MaxConcurrentPerTenant int
	// ProgressEvery is how many rows pass between progress updates of the
	// job row, stored at most once per WatchInterval; zero means
	// DefaultProgressEvery.
	ProgressEvery int
	// URLTTL is how long a signed URL works; zero means DefaultURLTTL
	// (capped at the object's expiry).
	URLTTL time.Duration
	// Retention is how long the object is kept after the job succeeds;
	// zero means DefaultRetention.
	Retention time.Duration
	// MaxRows caps the rows of one export (the query stops with an error
	// past it); zero means DefaultMaxRows.
	MaxRows int
	// MaxExecutionTime bounds the export query in ClickHouse; zero means
	// DefaultMaxExecutionTime.
	MaxExecutionTime time.Duration
	// WatchInterval is how often Watch polls the job; zero means
	// DefaultWatchInterval.
	WatchInterval time.Duration
	// Queue is the Asynq queue of run tasks; empty means jobs.QueueDefault.
	Queue string
	// MaxRetry is how often a failed run is retried before the job is
	// FAILED; zero means DefaultMaxRetry.
	MaxRetry int
	// Timeout bounds one run; zero means DefaultTimeout.
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CheckRange refuses, when the export is requested, an events or
	// metric window the engine cannot answer: the composition root passes
	// the privacy hot horizon check, so a window in the cold tier fails at
	// once rather than exporting an empty file. nil means no check.
	CheckRange func(timerange.Range) error
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxConcurrentPerTenant, DefaultMaxConcurrentPerTenant)
	def(&c.ProgressEvery, DefaultProgressEvery)
	def(&c.MaxRows, DefaultMaxRows)
	def(&c.MaxRetry, DefaultMaxRetry)
	defD(&c.URLTTL, DefaultURLTTL)
	defD(&c.Retention, DefaultRetention)
	defD(&c.MaxExecutionTime, DefaultMaxExecutionTime)
	defD(&c.WatchInterval, DefaultWatchInterval)
	defD(&c.Timeout, DefaultTimeout)
	if c.Queue == "" {
		c.Queue = jobs.QueueDefault
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
