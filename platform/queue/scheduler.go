package queue

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/errs"
)

// DefaultEnqueueTimeout bounds one scheduled enqueue.
const DefaultEnqueueTimeout = 10 * time.Second

// SchedulerConfig tunes a Scheduler.
type SchedulerConfig struct {
	// Location is the time zone cron specs are read in; nil means UTC.
	Location *time.Location
	// Logger receives enqueue failures; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock the period key is taken from; nil means time.Now.
	Now func() time.Time
}

// Scheduler enqueues tasks on cron schedules through a Client. Each firing
// gets a TaskID keyed by its period, so several worker replicas may each run
// a Scheduler: the first enqueue of a period wins, the others are no-ops.
//
// It is built on robfig/cron (which asynq.Scheduler also uses) rather than on
// asynq.Scheduler itself, because asynq.Scheduler enqueues every firing with
// the same fixed options and cannot give each period its own TaskID.
type Scheduler struct {
	client  *Client
	cfg     SchedulerConfig
	cron    *cron.Cron
	mu      sync.Mutex
	entries map[string]jobs.Entry
}

// NewScheduler returns a Scheduler that enqueues through client.
func NewScheduler(client *Client, cfg SchedulerConfig) *Scheduler {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Scheduler{
		client:  client,
		cfg:     cfg,
		cron:    cron.New(cron.WithLocation(cfg.Location)),
		entries: map[string]jobs.Entry{},
	}
}

// Register adds e. A spec that does not parse is KindInvalid and names the
// entry; a name registered twice is KindConflict.
func (s *Scheduler) Register(e jobs.Entry) error {
	const op = "queue.Scheduler.Register"
	if e.KeyLayout == "" {
		e.KeyLayout = jobs.DefaultKeyLayout
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.entries[e.Name]; dup {
		return errs.E(op, errs.KindConflict, "schedule "+e.Name+" is registered twice")
	}
	if _, err := s.cron.AddFunc(e.Spec, func() { s.fire(e) }); err != nil {
		return errs.Wrap(op, errs.KindInvalid, err, "schedule "+e.Name+": cron spec "+
			`"`+e.Spec+`" does not parse; use 5 fields (minute hour day-of-month month day-of-week), e.g. "30 3 * * *"`).
			With("field", e.Name)
	}
	s.entries[e.Name] = e
	return nil
}

// Trigger enqueues entry name's task as if it had fired at `at` (for
// operators and tests). The TaskID is the one the schedule would use for
// that period, so triggering cannot duplicate a scheduled run.
func (s *Scheduler) Trigger(ctx context.Context, name string, at time.Time) (jobs.Receipt, error) {
	s.mu.Lock()
	e, ok := s.entries[name]
	s.mu.Unlock()
	if !ok {
		return jobs.Receipt{}, errs.E("queue.Scheduler.Trigger", errs.KindNotFound, "no schedule named "+name)
	}
	return s.enqueue(ctx, e, at)
}

// Names lists the registered entries, sorted.
func (s *Scheduler) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.entries))
	for n := range s.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Start begins firing entries.
func (s *Scheduler) Start() { s.cron.Start() }

// Shutdown stops firing and waits for enqueues in flight, up to ctx.
func (s *Scheduler) Shutdown(ctx context.Context) {
	select {
	case <-s.cron.Stop().Done():
	case <-ctx.Done():
	}
}

func (s *Scheduler) fire(e jobs.Entry) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultEnqueueTimeout)
	defer cancel()
	r, err := s.enqueue(ctx, e, s.cfg.Now())
	if err != nil {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "scheduled enqueue failed",
			slog.String("schedule", e.Name), slog.String("error", err.Error()))
		return
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "scheduled enqueue",
		slog.String("schedule", e.Name), slog.String("task_id", r.ID), slog.Bool("duplicate", r.Duplicate))
}

func (s *Scheduler) enqueue(ctx context.Context, e jobs.Entry, at time.Time) (jobs.Receipt, error) {
	t := e.Task
	t.Key = at.In(s.cfg.Location).Format(e.KeyLayout)
	return s.client.Enqueue(ctx, t)
}
