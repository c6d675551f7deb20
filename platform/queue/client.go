package queue

import (
	"context"
	"errors"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/propagation"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/telemetry"
)

// DefaultRetention is ClientConfig.Retention when it is zero.
const DefaultRetention = 24 * time.Hour

// ClientConfig tunes a Client.
type ClientConfig struct {
	// Retention is how long a completed task is kept. It is also the dedup
	// horizon: while the completed task is kept, enqueuing the same input is
	// a no-op. Zero means DefaultRetention.
	Retention time.Duration
	// Tracing carries the caller's trace context into the task (nil: none).
	Tracing *telemetry.Tracing
}

// Client enqueues tasks. It is safe for concurrent use.
type Client struct {
	ac  *asynq.Client
	cfg ClientConfig
}

// NewClient returns a Client on rc (e.g. kv.KV.Client()). The caller keeps
// ownership of rc.
func NewClient(rc redis.UniversalClient, cfg ClientConfig) *Client {
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	return &Client{ac: asynq.NewClientFromRedisClient(rc), cfg: cfg}
}

// Enqueue adds t to its queue under its deterministic TaskID. Enqueuing the
// same input again while the first task exists (pending, running, retrying,
// archived, or completed within Retention) is a no-op reported as Duplicate.
// Redis being unreachable is KindUnavailable.
func (c *Client) Enqueue(ctx context.Context, t jobs.Task) (jobs.Receipt, error) {
	const op = "queue.Enqueue"
	if t.Kind == "" {
		return jobs.Receipt{}, errs.E(op, errs.KindInternal, "task has no kind")
	}
	id, params, err := jobs.TaskID(t)
	if err != nil {
		return jobs.Receipt{}, err
	}
	carrier := propagation.MapCarrier{}
	c.cfg.Tracing.Inject(ctx, carrier)
	if len(carrier) == 0 {
		carrier = nil
	}
	payload, err := jsonEnvelope(t.Tenant, params, carrier)
	if err != nil {
		return jobs.Receipt{}, errs.Wrap(op, errs.KindInternal, err, "")
	}
	_, err = c.ac.EnqueueContext(ctx, asynq.NewTask(t.Kind, payload), c.options(t, id)...)
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict):
		return jobs.Receipt{ID: id, Duplicate: true}, nil
	case err != nil:
		return jobs.Receipt{}, errs.Wrap(op, errs.KindUnavailable, err, "cannot enqueue "+t.Kind)
	}
	return jobs.Receipt{ID: id}, nil
}

func (c *Client) options(t jobs.Task, id string) []asynq.Option {
	queue := t.Queue
	if queue == "" {
		queue = jobs.QueueDefault
	}
	retry := t.MaxRetry
	switch {
	case retry == 0:
		retry = jobs.DefaultMaxRetry
	case retry < 0:
		retry = 0
	}
	timeout := t.Timeout
	if timeout == 0 {
		timeout = jobs.DefaultTimeout
	}
	return []asynq.Option{
		asynq.TaskID(id),
		asynq.Queue(queue),
		asynq.MaxRetry(retry),
		asynq.Timeout(timeout),
		asynq.Retention(c.cfg.Retention),
	}
}
