// Package bus is the service's NATS connection: the firehose the ingest
// consumers read and the JetStream stream that carries the service's own
// outgoing, versioned events (analytics.export.completed.v1, …). With no URL
// configured it runs a NATS server with JetStream in-process, its file store
// under DataDir, so `make run` needs nothing installed.
package bus

import (
	"context"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Defaults for the zero values of Config.
const (
	DefaultStream          = "ANALYTICS"
	DefaultStreamSubjects  = "analytics.>"
	DefaultStreamMaxAge    = 7 * 24 * time.Hour
	DefaultDuplicateWindow = 24 * time.Hour
	DefaultHost            = "127.0.0.1"
	DefaultClientName      = "analyticsd"
	DefaultStartTimeout    = 10 * time.Second
	// DefaultPingTimeout bounds Ping when the caller's context has no deadline.
	DefaultPingTimeout = 5 * time.Second
)

// Config says which NATS to use and how to lay out the outgoing stream.
type Config struct {
	// URL is ANALYTICS_NATS_URL, e.g. nats://user:pass@nats-1:4222 (several
	// servers comma-separated). Empty (the default) runs an embedded NATS
	// server with JetStream in-process.
	URL string
	// DataDir is the embedded server's JetStream file store, e.g.
	// <data>/nats. Empty means a temporary directory removed on Close (nothing
	// survives a restart). Ignored when URL is set.
	DataDir string
	// Host is the embedded server's listen address; empty means DefaultHost
	// (loopback only). Ignored when URL is set.
	Host string
	// Port is the embedded server's client port; zero means a random free
	// port (see Bus.ClientURL). Ignored when URL is set.
	Port int
	// Stream names the JetStream stream for outgoing events, created or
	// updated at Open; empty means DefaultStream on DefaultStreamSubjects.
	Stream string
	// StreamMaxAge is how long outgoing events are kept; zero means
	// DefaultStreamMaxAge.
	StreamMaxAge time.Duration
	// DuplicateWindow is how long a Nats-Msg-Id is remembered for dedup;
	// zero means DefaultDuplicateWindow (long enough to cover job retries).
	DuplicateWindow time.Duration
	// StreamReplicas is ANALYTICS_NATS_REPLICAS: the replica count of every
	// stream the service creates (and of their consumers, which inherit it).
	// Zero means automatic (see ResolveReplicas): 3 on a cluster, 1 otherwise.
	StreamReplicas int
	// ClientName is the connection name servers show; empty means
	// DefaultClientName.
	ClientName string
	// StartTimeout bounds the embedded server's start and the first
	// connection; zero means DefaultStartTimeout.
	StartTimeout time.Duration
}

// Bus is an open NATS connection with JetStream. It is safe for concurrent use.
type Bus struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	closed   chan struct{}
	srv      *server.Server // nil when connected to an external server
	tmpDir   string         // removed on Close when DataDir was empty
	replicas int            // resolved StreamReplicas
	url      string
	stream   string
	closeErr error
}

// Open connects to the NATS at cfg.URL, or starts the embedded server when
// the URL is empty, then creates or updates the outgoing-events stream. A
// server that cannot be reached is KindUnavailable.
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	const op = "bus.Open"
	cfg = withDefaults(cfg)
	b := &Bus{closed: make(chan struct{}), url: cfg.URL, stream: cfg.Stream}
	if cfg.URL == "" {
		if err := b.startEmbedded(cfg); err != nil {
			return nil, err
		}
	}
	nc, err := nats.Connect(b.url,
		nats.Name(cfg.ClientName),
		nats.Timeout(cfg.StartTimeout),
		nats.MaxReconnects(-1),
		nats.ClosedHandler(func(*nats.Conn) { close(b.closed) }),
	)
	if err != nil {
		b.stopEmbedded()
		return nil, errs.Wrap(op, errs.KindUnavailable, err, "cannot connect to NATS (ANALYTICS_NATS_URL)")
	}
	b.nc = nc
	if b.replicas, err = ResolveReplicas(cfg.StreamReplicas, topologyOf(nc)); err != nil {
		_ = b.Close()
		return nil, err
	}
	if b.js, err = jetstream.New(nc); err != nil {
		_ = b.Close()
		return nil, errs.Wrap(op, errs.KindInternal, err, "")
	}
	if err := b.EnsureStream(ctx, streamConfig(cfg, b.replicas)); err != nil {
		_ = b.Close()
		return nil, err
	}
	return b, nil
}

// Conn is the core NATS connection (firehose subscriptions).
func (b *Bus) Conn() *nats.Conn { return b.nc }

// JetStream is the JetStream API on Conn (streams, consumers, publishing).
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// ClientURL is the URL clients use: the configured one, or the embedded
// server's (with its actual port).
func (b *Bus) ClientURL() string { return b.url }

// Embedded reports whether the NATS server runs in-process.
func (b *Bus) Embedded() bool { return b.srv != nil }

// Stream is the name of the outgoing-events stream.
func (b *Bus) Stream() string { return b.stream }

// Ping is the readiness check: a round trip to the server and an answer from
// JetStream. Failure is KindUnavailable.
func (b *Bus) Ping(ctx context.Context) error {
	const op = "bus.Ping"
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultPingTimeout)
		defer cancel()
	}
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return errs.Wrap(op, errs.KindUnavailable, err, "NATS does not answer")
	}
	if _, err := b.js.AccountInfo(ctx); err != nil {
		return errs.Wrap(op, errs.KindUnavailable, err, "JetStream does not answer")
	}
	return nil
}

// Close drains the connection (pending publishes and in-flight subscription
// messages finish), then shuts the embedded server down. It is idempotent.
func (b *Bus) Close() error {
	if b.nc != nil && !b.nc.IsClosed() {
		if err := b.nc.Drain(); err != nil {
			b.nc.Close()
			b.closeErr = errs.Wrap("bus.Close", errs.KindInternal, err, "")
		}
		<-b.closed
	}
	b.stopEmbedded()
	return b.closeErr
}

func withDefaults(cfg Config) Config {
	if cfg.Stream == "" {
		cfg.Stream = DefaultStream
	}
	if cfg.StreamMaxAge == 0 {
		cfg.StreamMaxAge = DefaultStreamMaxAge
	}
	if cfg.DuplicateWindow == 0 {
		cfg.DuplicateWindow = DefaultDuplicateWindow
	}
	if cfg.Host == "" {
		cfg.Host = DefaultHost
	}
	if cfg.ClientName == "" {
		cfg.ClientName = DefaultClientName
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	return cfg
}

func (b *Bus) stopEmbedded() {
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
		b.srv = nil
	}
	if b.tmpDir != "" {
		_ = os.RemoveAll(b.tmpDir)
		b.tmpDir = ""
	}
}
