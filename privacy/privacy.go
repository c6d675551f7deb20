// Package privacy implements the learner's right to erasure and the
// retention of events across two tiers.
//
// Erasure is a saga keyed by its request id (see erasure.go): a request
// published on privacy.erasure.requested.v1 — by Service.RequestErasure or
// any trusted producer — is consumed from a durable JetStream consumer
// (Consumer.Run), its progress kept in the erasure_requests table, so a
// replayed or retried request resumes where it stopped and never publishes a
// second receipt. The hot tier (ClickHouse) loses every row of the user; the
// cold tier (Parquet in the blob store) keeps its rows with the user id
// replaced by a salted per-tenant hash and the PII property keys removed.
//
// Retention (retention.go) moves months older than the hot horizon from the
// events table to Parquet objects under tenants/<t>/cold/events/YYYY/MM/,
// verified by reading them back before the partition is dropped, and deletes
// cold objects past their end of life. CheckHotRange refuses queries that
// reach past the horizon.
package privacy

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/store"
)

// Subjects of the messages this package consumes and publishes.
const (
	// SubjectErasureRequested carries Request (JSON) on the PRIVACY stream.
	SubjectErasureRequested = "privacy.erasure.requested.v1"
	// SubjectErasureCompleted carries Receipt (JSON) on the outgoing stream.
	SubjectErasureCompleted = "analytics.erasure.completed.v1"
)

// Defaults for the zero values of Config.
const (
	DefaultStream          = "PRIVACY"
	DefaultStreamSubjects  = "privacy.>"
	DefaultStreamMaxAge    = 30 * 24 * time.Hour
	DefaultDuplicateWindow = 24 * time.Hour
)

// Tables this package reads and writes (migrations 0001, 0002, 0004, 0007
// and 0008).
const (
	eventsTable      = "events"
	deadLettersTable = "dead_letters"
	cohortUsersTable = "cohort_users"
	rollupTable      = "metrics_daily"
	usersRollupTable = "metrics_daily_users" // migration 0009
	// activeRollupTable holds distinct users per day (migration 0012).
	activeRollupTable = "metrics_daily_active"
	requestsTable     = "erasure_requests"
	saltsTable        = "privacy_salts"
)

// Config tunes a Service.
type Config struct {
	// PIIKeys are the event property keys removed from the erased user's
	// rows in the cold tier; nil means DefaultPIIKeys().
	PIIKeys []string
	// Stream is the JetStream stream of privacy requests, created or
	// updated on first use on DefaultStreamSubjects; empty means
	// DefaultStream.
	Stream string
	// StreamMaxAge is how long requests stay in the stream; zero means
	// DefaultStreamMaxAge.
	StreamMaxAge time.Duration
	// DuplicateWindow is how long a request id is remembered for dedup of
	// published requests; zero means DefaultDuplicateWindow.
	DuplicateWindow time.Duration
	// Now is the clock for requested_at, state rows and receipts; nil means
	// time.Now.
	Now func() time.Time
	// NewID makes request ids; nil means uuid.NewString.
	NewID func() string
	// Rand is the source of new tenant salts; nil means crypto/rand.Reader.
	Rand io.Reader
	// Logger receives one line per processed request; nil means
	// slog.Default().
	Logger *slog.Logger
	// Rollups recomputes the daily rollups of the erased user's days
	// (*metrics.Rollups on the same cluster); required by the hot step: a
	// Service without it refuses to process requests.
	Rollups RollupRebuilder
	// Cluster names the ClickHouse cluster the tables were migrated on:
	// deletes then go to the local replicated tables ON CLUSTER. Empty
	// means a single node.
	Cluster string
}

// RollupRebuilder recomputes a tenant's daily rollups over [from, to) from
// the events left in the hot tier.
type RollupRebuilder interface {
	Rebuild(ctx context.Context, scope store.Scope, from, to time.Time) error
}

// Service runs erasure requests: it publishes them, processes them and
// reports their state. It is safe for concurrent use.
type Service struct {
	db    *store.DB
	bus   *bus.Bus
	blobs blob.Store
	cfg   Config

	mu          sync.Mutex
	streamReady bool
	salts       map[string]string // tenant → salt, once read or created
}

// NewService returns the erasure service on db (hot tier and state), b
// (requests and receipts) and blobs (cold tier).
func NewService(db *store.DB, b *bus.Bus, blobs blob.Store, cfg Config) *Service {
	if cfg.PIIKeys == nil {
		cfg.PIIKeys = DefaultPIIKeys()
	}
	if cfg.Stream == "" {
		cfg.Stream = DefaultStream
	}
	if cfg.StreamMaxAge == 0 {
		cfg.StreamMaxAge = DefaultStreamMaxAge
	}
	if cfg.DuplicateWindow == 0 {
		cfg.DuplicateWindow = DefaultDuplicateWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = uuid.NewString
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{db: db, bus: b, blobs: blobs, cfg: cfg, salts: map[string]string{}}
}

// DefaultPIIKeys are the property keys treated as personal data when
// Config.PIIKeys is nil.
func DefaultPIIKeys() []string {
	return []string{"email", "name", "first_name", "last_name", "phone", "ip", "ip_address", "address", "user_agent"}
}

// now is the service clock in UTC, at millisecond precision (the tables'
// DateTime64(3)).
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }
