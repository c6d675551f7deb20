// Package jobs is how domain packages describe background work: a Task to
// enqueue, the Handler that runs it as a Job, cron Entries, Recoverers that
// run before a worker serves, and the Registration that bundles them — with
// no queue driver in sight. platform/queue runs them on Asynq (Redis); the
// composition root wires every domain's Jobs() into it.
//
// Delivery is at least once: a handler may run twice for one enqueue (a
// worker dies after the work but before the ack, a lease expires, a retry
// follows a partial failure). Every Handler must therefore be idempotent —
// running it again with the same Job must leave the same result — and derive
// any keys it writes with (insert dedup tokens, Nats-Msg-Id) from the Job,
// never from the clock or a random source.
package jobs

import (
	"context"
	"encoding/json"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Defaults for the zero values of Task.
const (
	DefaultMaxRetry = 10
	DefaultTimeout  = 30 * time.Minute
)

// Queues, from most to least urgent; the runtime's Config.Queues weighs them.
const (
	QueueCritical = "critical"
	QueueDefault  = "default"
	QueueLow      = "low"
)

// Task is one unit of background work as a domain package describes it. Its
// TaskID is a hash of Kind, Tenant, Key and Params, so enqueuing the same
// work twice is a no-op.
type Task struct {
	// Kind names the handler, e.g. "exports:run" (domain:verb).
	Kind string
	// Tenant is the tenant the work belongs to; empty for system work that
	// spans tenants (housekeeping).
	Tenant string
	// Params is the handler's input, sent as JSON. It must marshal the same
	// way every time (structs and maps do); nil sends no params.
	Params any
	// Key is extra input to the TaskID that is not sent to the handler; a
	// scheduled run sets it to its period (e.g. "2026-05-01") so the same
	// work runs once per period.
	Key string
	// Queue is the queue to wait in; empty means QueueDefault.
	Queue string
	// MaxRetry is how often a failed run is retried; zero means
	// DefaultMaxRetry, negative means never.
	MaxRetry int
	// Timeout bounds one run; zero means DefaultTimeout.
	Timeout time.Duration
}

// Job is a Task as its handler receives it.
type Job struct {
	ID     string          // the deterministic TaskID
	Kind   string          // Task.Kind
	Tenant string          // Task.Tenant; empty for system work
	Params json.RawMessage // Task.Params as JSON; empty when there were none
	// Retried is how many times this task has failed before this run.
	Retried int
	// MaxRetry is the number of retries the task is allowed.
	MaxRetry int
}

// Handler runs one kind of job. Implementations must be idempotent (see the
// package documentation). An error of kind errs.KindInvalid is not retried —
// bad input does not get better — and the task is archived with its error;
// any other error is retried with backoff until MaxRetry.
type Handler interface {
	ProcessJob(ctx context.Context, j Job) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, j Job) error

// ProcessJob calls f.
func (f HandlerFunc) ProcessJob(ctx context.Context, j Job) error { return f(ctx, j) }

// Decode reads the job's params into v. Params that do not fit v are a
// KindInvalid error, so the task is archived instead of retried.
func (j Job) Decode(v any) error {
	if len(j.Params) == 0 {
		return errs.E("jobs.Decode", errs.KindInvalid, "job "+j.Kind+" has no params")
	}
	if err := json.Unmarshal(j.Params, v); err != nil {
		return errs.Wrap("jobs.Decode", errs.KindInvalid, err, "job "+j.Kind+" has params that do not decode")
	}
	return nil
}

// Receipt says what Enqueue did.
type Receipt struct {
	ID string // the task's deterministic id
	// Duplicate is true when a task with the same input already existed, so
	// nothing new was enqueued.
	Duplicate bool
}

// DefaultKeyLayout keys a scheduled task by the minute it fired, so every
// scheduler replica that fires the same entry in the same minute enqueues
// the same TaskID and the work runs once.
const DefaultKeyLayout = "2006-01-02T15:04"

// Entry is one cron schedule.
type Entry struct {
	// Name identifies the entry in logs and in Trigger.
	Name string
	// Spec is a standard 5-field cron spec ("30 3 * * *") or a descriptor
	// ("@daily", "@every 1h"), read in the scheduler's time zone (UTC by default).
	Spec string
	// Task is what each firing enqueues; its Key is replaced by the firing
	// time formatted with KeyLayout.
	Task Task
	// KeyLayout formats the firing time into Task.Key (a time.Format
	// layout); empty means DefaultKeyLayout. A daily entry uses "2006-01-02"
	// so one task per day exists however often it is fired.
	KeyLayout string
}

// Registration is one piece of a domain's background work, as the domain
// declares it and the worker process wires it: the Handler of a task kind,
// the cron Entry that enqueues it (if it runs on a schedule) and a Recoverer
// to run before the worker serves (if work can be stranded by a crash).
// Every domain with background work offers them the same way:
//
//	func (s *Service) Jobs() []jobs.Registration
//
// and cmd/analyticsd registers every domain's list in one loop.
type Registration struct {
	// Kind is the task kind Handler runs; empty for a Recoverer alone.
	Kind string
	// Handler runs tasks of Kind.
	Handler Handler
	// Schedule enqueues tasks on a cron schedule; nil when tasks are only
	// enqueued on demand.
	Schedule *Entry
	// Recover runs once before the worker takes tasks; nil when none.
	Recover Recoverer
}
