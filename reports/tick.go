package reports

import (
	"context"
	"errors"
	"log/slog"

	"github.com/learnhub/analytics-service/jobs"
)

// Entry is the scheduler entry of the tick: every minute, keyed by the
// minute, so all replicas' schedulers enqueue one tick per minute.
func Entry() jobs.Entry {
	return jobs.Entry{Name: KindTick, Spec: TickSpec, Task: jobs.Task{Kind: KindTick, Queue: jobs.QueueCritical, MaxRetry: -1}}
}

// Tick returns the jobs.Handler of KindTick. It reads every enabled report
// (so created, changed, disabled and deleted reports take effect at the
// next minute, without a restart) and enqueues the run of each report's
// latest slot that is due and has not run: after ScheduledFrom and after
// the last stored scheduled run. Slots missed while no worker ticked
// collapse into that one latest slot, which runs once on catch-up. The run
// task's TaskID is a function of (report, slot): enqueuing a slot again is
// a no-op while Asynq keeps the task, and the run id makes a second
// execution find the first one's row.
func (s *Service) Tick(log *slog.Logger) jobs.Handler {
	if log == nil {
		log = slog.Default()
	}
	return jobs.HandlerFunc(func(ctx context.Context, _ jobs.Job) error {
		_, err := s.tick(ctx, log)
		return err
	})
}

// tick enqueues the due slots and returns how many it enqueued.
func (s *Service) tick(ctx context.Context, log *slog.Logger) (int, error) {
	reps, err := s.repo.dangerousUnscopedEnabled(ctx)
	if err != nil {
		return 0, err
	}
	last, err := s.repo.dangerousUnscopedLastScheduled(ctx)
	if err != nil {
		return 0, err
	}
	now := s.cfg.Now()
	n := 0
	var all []error
	for _, rep := range reps {
		clock, err := rep.Schedule.Parse("schedule")
		if err != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "report schedule does not parse", slog.String("report", rep.ID), slog.String("error", err.Error()))
			continue
		}
		slot := clock.Latest(now)
		if slot.IsZero() || !slot.After(rep.ScheduledFrom) {
			continue
		}
		if prev, ok := last[rep.Tenant+"/"+rep.ID]; ok && !slot.After(prev) {
			continue
		}
		run := s.newRun(rep, TriggerScheduled, slot)
		if _, err := s.deps.Jobs.Enqueue(ctx, s.runTask(run)); err != nil {
			all = append(all, err)
			continue
		}
		n++
	}
	return n, errors.Join(all...)
}
