package reports

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// Defaults for the zero values of Config.
const (
	DefaultPageSize         = 20
	MaxPageSize             = 100
	DefaultURLTTL           = 7 * 24 * time.Hour
	DefaultRunMaxRetry      = 3
	DefaultDeliveryMaxRetry = 6
	DefaultRunTimeout       = 15 * time.Minute
	DefaultDeliveryTimeout  = 2 * time.Minute
	DefaultWebhookTimeout   = 30 * time.Second
	DefaultMaxAttachment    = 10 << 20 // bigger files are sent as a link only
	DefaultMaxReports       = 100      // per tenant
	DefaultRetention        = 90 * 24 * time.Hour
	// DefaultJanitorSpec runs the janitor hourly.
	DefaultJanitorSpec = "41 * * * *"
	// TickSpec fires the tick every minute; its TaskID is keyed by the
	// minute, so replicas tick once together.
	TickSpec = "* * * * *"
)

// Limits of a report definition.
const (
	MaxDeliveries    = 10
	MaxRecipients    = 20
	MaxMetricQueries = 20
	MaxNameLen       = 200
	MinSecretLen     = 16
)

// Enqueuer enqueues background tasks (*queue.Client).
type Enqueuer interface {
	Enqueue(ctx context.Context, t jobs.Task) (jobs.Receipt, error)
}

// Publisher publishes outgoing events with dedup (*bus.Bus).
type Publisher interface {
	Publish(ctx context.Context, subject string, v any, msgID string) error
}

// Dashboards reads and renders dashboards (*dashboards.Service): a report
// takes its widgets' data from the same render as the API.
type Dashboards interface {
	Get(ctx context.Context, idOrSlug string) (*dashboards.Dashboard, error)
	Render(ctx context.Context, idOrSlug string, filters []metrics.Filter, timeRange *timerange.Spec) (*dashboards.Rendering, error)
}

// MetricQuerier answers metric requests (*metrics.Querier).
type MetricQuerier interface {
	Query(ctx context.Context, req metrics.Request) (*metrics.Result, error)
}

// Mailer sends one message (see SMTPMailer).
type Mailer interface {
	Send(ctx context.Context, to []string, msg []byte) error
}

// Deps are the Service's collaborators. DB, Blobs, Jobs and Dashboards are
// required; the worker needs Bus too, and Mailer for email deliveries (a
// report with an email delivery is refused while Mailer is nil).
type Deps struct {
	DB         *store.DB
	Blobs      blob.Store
	Jobs       Enqueuer
	Bus        Publisher
	Dashboards Dashboards
	Metrics    MetricQuerier
	Mailer     Mailer
	// HTTP posts webhooks; nil means a client with DefaultWebhookTimeout.
	HTTP *http.Client
	// Resolver resolves webhook hosts for the address check; nil means
	// net.DefaultResolver.
	Resolver Resolver
}

// Config tunes the Service. Zero values mean the defaults above.
type Config struct {
	// URLTTL is how long the signed URL of a run's file works; zero means
	// DefaultURLTTL.
	URLTTL time.Duration
	// RunMaxRetry is how often a failed run is retried before it is
	// FAILED; zero means DefaultRunMaxRetry.
	RunMaxRetry int
	// DeliveryMaxRetry is how often a failed delivery is retried (Asynq's
	// exponential backoff) before it is FAILED; zero means
	// DefaultDeliveryMaxRetry.
	DeliveryMaxRetry int
	// RunTimeout and DeliveryTimeout bound one attempt; zero means
	// DefaultRunTimeout and DefaultDeliveryTimeout.
	RunTimeout      time.Duration
	DeliveryTimeout time.Duration
	// MaxAttachment is the largest file attached to an email; zero means
	// DefaultMaxAttachment.
	MaxAttachment int
	// MaxReports caps the reports of a tenant; zero means DefaultMaxReports.
	MaxReports int
	// Retention is how long a run's file is kept after the run finished;
	// the janitor then deletes it and marks the run expired. Zero means
	// DefaultRetention.
	Retention time.Duration
	// AllowPrivateWebhooks lets webhooks reach loopback, private and
	// link-local addresses and local names (localhost, *.internal); false
	// (the default) refuses them at creation and at every delivery and
	// redirect, so tenants cannot reach the service's own network. Tests
	// set it to post to their loopback receivers; otherwise single-host
	// development only (ANALYTICS_REPORT_WEBHOOK_ALLOW_PRIVATE).
	AllowPrivateWebhooks bool
	// Queue is the Asynq queue of runs and deliveries; empty means
	// jobs.QueueDefault.
	Queue string
	// Logger receives the scheduler tick's lines; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	c.RunMaxRetry = cmp.Or(c.RunMaxRetry, DefaultRunMaxRetry)
	c.DeliveryMaxRetry = cmp.Or(c.DeliveryMaxRetry, DefaultDeliveryMaxRetry)
	c.MaxAttachment = cmp.Or(c.MaxAttachment, DefaultMaxAttachment)
	c.MaxReports = cmp.Or(c.MaxReports, DefaultMaxReports)
	c.URLTTL = cmp.Or(c.URLTTL, DefaultURLTTL)
	c.Retention = cmp.Or(c.Retention, DefaultRetention)
	c.RunTimeout = cmp.Or(c.RunTimeout, DefaultRunTimeout)
	c.DeliveryTimeout = cmp.Or(c.DeliveryTimeout, DefaultDeliveryTimeout)
	c.Queue = cmp.Or(c.Queue, jobs.QueueDefault)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
