package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/learnhub/analytics-service/apikeys"
	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/config"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/kv/rediskv"
	"github.com/learnhub/analytics-service/platform/queue"
	"github.com/learnhub/analytics-service/platform/telemetry"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
	"github.com/learnhub/analytics-service/store/chserver"
)

// devTokenTTL is how long the admin token printed in embedded mode lives.
const devTokenTTL = 7 * 24 * time.Hour

// devTenant is the tenant of the printed dev token and of the demo data.
const devTenant = "demo"

// app holds the adapters one process opened; close releases them in reverse.
type app struct {
	cfg       config.Config
	log       *slog.Logger
	metrics   *telemetry.Metrics
	db        *store.DB
	chVersion string
	kv        *rediskv.KV
	bus       *bus.Bus
	verifier  auth.Verifier
	apiKeys   *apikeys.Service
	signer    *auth.HMACSigner // nil when HS256 is not enabled
	devToken  string           // printed and pre-filled in dev mode
	svc       *services
	sched     *queue.Scheduler   // the work role's scheduler; nil in other roles
	tracing   *telemetry.Tracing // nil: no tracing (OTEL_* unset)
	// ingestMetrics are shared by the ingest pipelines and the HTTP ingest route.
	ingestMetrics *ingest.Metrics
	closers       []func() error
	wrapBlobs     func(blob.Store) blob.Store // appDeps.wrapBlobs; nil in the binary
}

// openApp opens ClickHouse (and migrates it), Redis and NATS, and builds the
// token verifier.
func openApp(ctx context.Context, cfg config.Config, stderr io.Writer) (*app, error) {
	return openAppOn(ctx, cfg, stderr, appDeps{})
}

// appDeps are adapters a test hands in instead of the ones configuration
// names (zero in the binary).
type appDeps struct {
	// db is an engine another app already opened: two replicas in one test
	// process share the embedded engine this way, as production replicas
	// share a ClickHouse cluster; whoever opened it closes it.
	db *store.DB
	// tracing replaces the OTEL_*-configured tracer provider (tests record
	// spans in memory).
	tracing *telemetry.Tracing
	// wrapBlobs, when set, wraps the blob store (fault injection: a
	// replica that dies while writing a file).
	wrapBlobs func(blob.Store) blob.Store
}

// openAppOn is openApp with some adapters given (see appDeps).
func openAppOn(ctx context.Context, cfg config.Config, stderr io.Writer, deps appDeps) (*app, error) {
	a := &app{cfg: cfg, log: telemetry.NewLogger(stderr, cfg.LogLevel), metrics: telemetry.NewMetrics(), db: deps.db, tracing: deps.tracing,
		wrapBlobs: deps.wrapBlobs}
	a.metrics.RegisterBuildInfo(buildVersion())
	ok := false
	defer func() {
		if !ok {
			a.close()
		}
	}()
	if a.tracing == nil {
		t, err := telemetry.NewTracing(ctx, os.Getenv, version)
		if err != nil {
			return nil, err
		}
		if t != nil {
			a.tracing = t
			a.closers = append(a.closers, func() error { return t.Shutdown(context.Background()) })
		}
	}
	if err := a.openStore(ctx); err != nil {
		return nil, err
	}
	k, err := rediskv.Open(ctx, rediskv.Config{URL: cfg.RedisURL})
	if err != nil {
		return nil, err
	}
	a.kv = k
	a.closers = append(a.closers, k.Close)
	b, err := bus.Open(ctx, bus.Config{URL: cfg.NATSURL, DataDir: filepath.Join(cfg.DataDir, "nats"), StreamReplicas: cfg.NATSReplicas})
	if err != nil {
		return nil, err
	}
	a.bus = b
	a.closers = append(a.closers, b.Close)
	// The firehose stream exists before any role publishes or consumes.
	if _, err := ingest.EnsureStream(ctx, b.JetStream(), ingest.StreamConfig{Replicas: b.Replicas()}); err != nil {
		return nil, err
	}
	a.ingestMetrics = ingest.NewMetrics(a.metrics.Registry)
	if err := a.openAuth(ctx); err != nil {
		return nil, err
	}
	a.openAPIKeys()
	if a.svc, err = a.openServices(ctx); err != nil {
		return nil, err
	}
	ok = true
	return a, nil
}

func (a *app) openStore(ctx context.Context) error {
	opts := store.Options{MaxExecutionTime: a.cfg.QueryTimeout, Observe: a.metrics.ObserveStore, Charge: a.metrics.ChargeStore}
	if a.tracing != nil {
		opts.Tracer = a.tracing.Tracer("analytics/clickhouse")
	}
	var backend store.Backend
	switch {
	case a.db != nil: // shared (openAppOn)
		opts.Mode = a.db.Mode()
	case a.cfg.Embedded():
		b, err := chembedded.Open(ctx, chembedded.Options{
			LibPath:  a.cfg.ChDBLib,
			Path:     filepath.Join(a.cfg.DataDir, "clickhouse"),
			Database: a.cfg.Database,
		})
		if err != nil {
			return err
		}
		backend, opts.Mode = b, "embedded"
	default:
		b, err := chserver.Open(ctx, chserver.Options{URL: a.cfg.ClickHouseURL, Cluster: a.cfg.ClickHouseCluster})
		if err != nil {
			return err
		}
		backend, opts.Mode = b, "server"
	}
	if backend != nil {
		a.db = store.New(backend, opts)
		a.closers = append(a.closers, a.db.Close)
	}
	v, err := a.db.ServerVersion(ctx)
	if err != nil {
		return err
	}
	a.chVersion = v
	applied, err := store.Migrate(ctx, a.db, store.MigrateOptions{Cluster: a.cfg.ClickHouseCluster})
	if err != nil {
		return err
	}
	a.log.Info("clickhouse ready", "mode", opts.Mode, "version", v, "migrations_applied", applied)
	return nil
}

// openAuth enables HS256 with the configured secret, or — only when no
// production verification is configured — with a dev secret kept under the
// data dir; and RS256/ES256 through JWKS when a URL is set.
func (a *app) openAuth(ctx context.Context) error {
	secret, err := hmacSecret(a.cfg)
	if err != nil {
		return err
	}
	vopts := auth.VerifyOptions{Issuer: a.cfg.JWTIssuer, Audience: a.cfg.JWTAudience, Claims: claimNames(a.cfg)}
	var vs []auth.AlgorithmVerifier
	if secret != nil {
		hv, err := auth.NewHMACVerifier(secret, vopts)
		if err != nil {
			return err
		}
		vs = append(vs, hv)
		if a.signer, err = newSigner(a.cfg, secret); err != nil {
			return err
		}
	}
	if a.cfg.JWKSURL != "" {
		// The keys are fetched now, so a wrong URL shows at startup; an
		// identity provider that is briefly down is logged and retried on
		// the first token and by the background refresh (ctx ends it).
		jv, err := auth.NewJWKSVerifier(ctx, a.cfg.JWKSURL, auth.JWKSOptions{VerifyOptions: vopts, Log: a.log})
		if err != nil {
			return err
		}
		if !jv.Ready(ctx) {
			a.log.Warn("no JWKS signing keys yet; RS256/ES256 tokens are refused until a fetch succeeds", "url", a.cfg.JWKSURL)
		}
		vs = append(vs, jv)
	}
	chain, err := auth.NewChain(vs...)
	if err != nil {
		return err
	}
	// Verified tokens are reused until their exp (at most 5 min) so a
	// client's repeated bearer token is checked once (ANALYTICS_TOKEN_CACHE_SIZE).
	a.verifier = auth.NewCachingVerifier(chain, auth.TokenCacheConfig{Size: a.cfg.TokenCacheSize})
	return nil
}

// claimNames are where this deployment's tokens carry the tenant and roles.
func claimNames(cfg config.Config) auth.ClaimNames {
	return auth.ClaimNames(cfg.JWTClaims)
}

// newSigner signs HS256 tokens (the dev token, `analyticsd token`) with the
// claim names the verifiers of the same configuration read.
func newSigner(cfg config.Config, secret []byte) (*auth.HMACSigner, error) {
	s, err := auth.NewHMACSigner(secret)
	if err != nil {
		return nil, err
	}
	return s.WithClaims(claimNames(cfg)), nil
}

// hmacSecret is the HS256 secret: configured, or the data dir's dev secret
// when neither a secret nor a JWKS URL is configured, or nil (HS256 off).
func hmacSecret(cfg config.Config) ([]byte, error) {
	switch {
	case cfg.JWTSecret != "":
		return []byte(cfg.JWTSecret), nil
	case cfg.JWKSURL != "":
		return nil, nil
	default:
		return auth.LoadOrCreateSecret(cfg.DataDir)
	}
}

// devMode reports whether the process runs with the generated dev secret,
// in which case it prints an admin token and pre-fills the playground.
func (a *app) devMode() bool { return a.cfg.JWTSecret == "" && a.cfg.JWKSURL == "" }

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.log.Warn("close", "err", err)
		}
	}
	a.closers = nil
}

// describe renders an error for the terminal: the classified message first.
func describe(err error) string {
	var e *errs.Error
	if errors.As(err, &e) && e.Msg != "" {
		if e.Err != nil {
			return fmt.Sprintf("%s (%v)", e.Msg, e.Err)
		}
		return e.Msg
	}
	return err.Error()
}
