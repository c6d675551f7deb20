package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/reqid"
	"github.com/learnhub/analytics-service/platform/telemetry"
)

// Defaults for the zero values of Config.
const (
	DefaultConcurrency     = 4
	DefaultShutdownTimeout = 30 * time.Second
	DefaultRecoverTimeout  = 5 * time.Minute
)

// Config tunes a Server.
type Config struct {
	// Concurrency is how many tasks run at once; zero means
	// DefaultConcurrency.
	Concurrency int
	// Queues weighs the queues the server takes tasks from (name → weight);
	// nil means DefaultQueues().
	Queues map[string]int
	// ShutdownTimeout is how long Shutdown waits for running tasks before
	// it hands them back to Redis for another worker; zero means
	// DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// Tracing records a span per task, continuing the enqueuer's trace
	// (nil: none).
	Tracing *telemetry.Tracing
	// RecoverTimeout bounds all Recoverers together at Start; zero means
	// DefaultRecoverTimeout.
	RecoverTimeout time.Duration
	// Logger receives failed runs and Asynq's own lines; nil means
	// slog.Default().
	Logger *slog.Logger
	// Failures counts failed runs (labels: kind, final); nil means a counter
	// made by NewFailureCounter(Registry).
	Failures *prometheus.CounterVec
	// Registry is where the failure counter is registered when Failures is
	// nil; nil means it is not registered anywhere.
	Registry prometheus.Registerer
}

// Server runs job handlers: it takes tasks from the queues, runs the Handler
// registered for each task's kind, and retries or archives failures.
type Server struct {
	srv        *asynq.Server
	log        *slog.Logger
	cfg        Config
	mu         sync.RWMutex
	handlers   map[string]jobs.Handler
	recoverers []jobs.Recoverer
}

// DefaultQueues is the queue weighting used when Config.Queues is nil: with
// all queues busy, critical gets 6 of 12 runs, default 3, insights (the
// answers users wait for) 2, low 1.
func DefaultQueues() map[string]int {
	return map[string]int{jobs.QueueCritical: 6, jobs.QueueDefault: 3, QueueInsights: 2, jobs.QueueLow: 1}
}

// QueueInsights is the queue of insights:answer tasks (package insights
// names it too; platform must not import a domain).
const QueueInsights = "insights"

// NewServer returns a Server on rc (e.g. kv.KV.Client()); rc stays the
// caller's to close. Register handlers and recoverers, then Start.
func NewServer(rc redis.UniversalClient, cfg Config) (*Server, error) {
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Queues == nil {
		cfg.Queues = DefaultQueues()
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.RecoverTimeout == 0 {
		cfg.RecoverTimeout = DefaultRecoverTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Failures == nil {
		c, err := NewFailureCounter(cfg.Registry)
		if err != nil {
			return nil, errs.Wrap("queue.NewServer", errs.KindInternal, err, "cannot register the failure counter")
		}
		cfg.Failures = c
	}
	s := &Server{log: cfg.Logger, cfg: cfg, handlers: map[string]jobs.Handler{}}
	s.srv = asynq.NewServerFromRedisClient(rc, asynq.Config{
		Concurrency:     cfg.Concurrency,
		Queues:          maps.Clone(cfg.Queues),
		ShutdownTimeout: cfg.ShutdownTimeout,
		ErrorHandler:    failureHandler(cfg.Logger, cfg.Failures),
		Logger:          asynqLogger{cfg.Logger},
		LogLevel:        asynq.WarnLevel,
	})
	return s, nil
}

// Handle registers h for tasks of exactly this kind. Registering a kind twice
// is a programming error and panics.
func (s *Server) Handle(kind string, h jobs.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.handlers[kind]; dup {
		panic("queue: handler for " + kind + " registered twice")
	}
	s.handlers[kind] = h
	for _, final := range []string{"false", "true"} { // exported at zero from the start
		s.cfg.Failures.WithLabelValues(kind, final)
	}
}

// AddRecoverer registers r to run once at Start, before the first task.
func (s *Server) AddRecoverer(r jobs.Recoverer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recoverers = append(s.recoverers, r)
}

// Start runs every Recoverer in registration order, then starts taking
// tasks. If a Recoverer fails the server does not start: the error is
// returned (with its kind) so the process can exit and be restarted, rather
// than serve with work stranded.
func (s *Server) Start(ctx context.Context) error {
	const op = "queue.Server.Start"
	s.mu.RLock()
	recoverers := append([]jobs.Recoverer(nil), s.recoverers...)
	s.mu.RUnlock()
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RecoverTimeout)
	defer cancel()
	for _, r := range recoverers {
		if err := r.Recover(rctx); err != nil {
			return errs.Wrap(op, errs.KindOf(err), err, fmt.Sprintf("recovery %T failed; the worker did not start", r))
		}
	}
	if err := s.srv.Start(asynq.HandlerFunc(s.dispatch)); err != nil {
		return errs.Wrap(op, errs.KindInternal, err, "")
	}
	return nil
}

// Shutdown stops taking tasks and waits up to ShutdownTimeout for running
// ones; unfinished tasks go back to Redis and run again elsewhere.
func (s *Server) Shutdown() { s.srv.Shutdown() }

// Ping checks the connection to Redis.
func (s *Server) Ping() error {
	if err := s.srv.Ping(); err != nil {
		return errs.Wrap("queue.Server.Ping", errs.KindUnavailable, err, "Redis does not answer")
	}
	return nil
}

// dispatch runs the handler of the task's kind with the task id as the
// request id (it reaches ClickHouse's log_comment). Bad input — an unknown
// kind, an undecodable payload, a KindInvalid error — is archived at once.
func (s *Server) dispatch(ctx context.Context, t *asynq.Task) error {
	s.mu.RLock()
	h, ok := s.handlers[t.Type()]
	s.mu.RUnlock()
	if !ok {
		return fmt.Errorf("no handler for job kind %q: %w", t.Type(), asynq.SkipRetry)
	}
	env, err := decodeEnvelope(t.Payload())
	if err != nil {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	j := jobs.Job{Kind: t.Type(), Tenant: env.Tenant, Params: env.Params}
	j.ID, _ = asynq.GetTaskID(ctx)
	j.Retried, _ = asynq.GetRetryCount(ctx)
	j.MaxRetry, _ = asynq.GetMaxRetry(ctx)
	ctx = s.cfg.Tracing.Extract(ctx, propagation.MapCarrier(env.Trace))
	ctx, sp := s.cfg.Tracing.Tracer("analytics/queue").Start(ctx, "job "+j.Kind, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("messaging.system", "asynq"), attribute.String("analytics.job.kind", j.Kind),
			attribute.String("analytics.job.id", j.ID), attribute.String("analytics.tenant", j.Tenant), attribute.Int("analytics.job.retried", j.Retried)))
	err = h.ProcessJob(reqid.With(ctx, j.ID), j)
	if err != nil {
		sp.RecordError(err)
		sp.SetStatus(codes.Error, "job failed")
	}
	sp.End()
	if err != nil && errs.Is(err, errs.KindInvalid) && !errors.Is(err, asynq.SkipRetry) {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return err
}
