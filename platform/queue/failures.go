package queue

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// FailureCounterName is the metric NewFailureCounter registers.
const FailureCounterName = "analytics_jobs_failures_total"

// NewFailureCounter makes the failed-run counter (labels: kind, final —
// "true" when the task will not be retried and is archived) and registers it
// on reg. Registering twice on one registry returns the existing counter.
func NewFailureCounter(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: FailureCounterName,
		Help: "Background job runs that returned an error, by task kind; final=true means the task was archived.",
	}, []string{"kind", "final"})
	if reg == nil {
		return c, nil
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing, nil
			}
		}
		return nil, err
	}
	return c, nil
}

// failureHandler logs every failed run with its task id and retry state and
// counts it. The error itself stays on the task in Redis (Inspector shows it
// as LastErr).
func failureHandler(log *slog.Logger, counter *prometheus.CounterVec) asynq.ErrorHandlerFunc {
	return func(ctx context.Context, task *asynq.Task, err error) {
		id, _ := asynq.GetTaskID(ctx)
		retried, _ := asynq.GetRetryCount(ctx)
		maxRetry, _ := asynq.GetMaxRetry(ctx)
		final := retried >= maxRetry || errors.Is(err, asynq.SkipRetry)
		counter.WithLabelValues(task.Type(), strconv.FormatBool(final)).Inc()
		log.LogAttrs(ctx, slog.LevelError, "job failed",
			slog.String("kind", task.Type()),
			slog.String("task_id", id),
			slog.Int("retried", retried),
			slog.Int("max_retry", maxRetry),
			slog.Bool("final", final),
			slog.Bool("panic", asynq.IsPanicError(err)),
			slog.String("error", err.Error()),
		)
	}
}
