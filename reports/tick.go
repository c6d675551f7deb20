package reports

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// noSlot is the last_slot of a report that has not run on its schedule.
var noSlot = time.Unix(0, 0).UTC()

// scheduleState is the tick's bookkeeping of one report (table
// report_schedules, migration 0011): when to look at it next and the last
// slot it enqueued. Report commands write it too, so a created, changed,
// disabled or deleted report takes effect at the next tick.
type scheduleState struct {
	Tenant    string
	ReportID  string
	Version   uint64
	NextRunAt time.Time
	LastSlot  time.Time
	// ReportVersion is the version of the report NextRunAt was computed
	// from.
	ReportVersion uint64
}

// Entry is the scheduler entry of the tick: every minute, keyed by the
// minute, so all replicas' schedulers enqueue one tick per minute.
func Entry() jobs.Entry {
	return jobs.Entry{Name: KindTick, Spec: TickSpec, Task: jobs.Task{Kind: KindTick, Queue: jobs.QueueCritical, MaxRetry: -1}}
}

// Tick returns the jobs.Handler of KindTick. It reads the reports whose
// next_run_at has passed (report_schedules; the cost of a tick grows with
// the due reports, not with all reports or their runs) and, for each,
// records and enqueues the run of its latest slot when that slot is after
// ScheduledFrom and after the last slot enqueued, then stores the next
// slot. Slots missed while no worker ticked collapse into that one latest
// slot, which runs once on catch-up. The run row is written QUEUED before
// the task, so the recoverer re-enqueues a task Redis lost; the TaskID is
// a function of (report, slot), so enqueuing a slot again is a no-op while
// Asynq keeps the task.
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
	now := s.cfg.Now()
	due, err := s.repo.dangerousUnscopedDue(ctx, now)
	if err != nil {
		return 0, err
	}
	n := 0
	var all []error
	for _, st := range due {
		enqueued, err := s.tickOne(ctx, log, st, now)
		if enqueued {
			n++
		}
		if err != nil {
			all = append(all, err)
		}
	}
	return n, errors.Join(all...)
}

// tickOne handles one due report: enqueue its latest slot if that has not
// run, then store when it is due next.
func (s *Service) tickOne(ctx context.Context, log *slog.Logger, st *scheduleState, now time.Time) (bool, error) {
	scope, err := store.DangerousScopeForTenant(st.Tenant)
	if err != nil {
		return false, err
	}
	rep, err := s.repo.getReport(ctx, scope, st.ReportID)
	if errs.Is(err, errs.KindNotFound) {
		return false, s.repo.saveSchedule(ctx, st, true)
	}
	if err != nil {
		return false, err
	}
	clock, err := rep.Schedule.Parse("schedule")
	if err != nil || !rep.Enabled {
		if err != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "report schedule does not parse", slog.String("report", rep.ID), slog.String("error", err.Error()))
		}
		return false, s.repo.saveSchedule(ctx, st, true)
	}
	enqueued := false
	if slot := clock.Latest(now); !slot.IsZero() && slot.After(rep.ScheduledFrom) && slot.After(st.LastSlot) {
		run := s.newRun(rep, TriggerScheduled, slot)
		if err := s.queue(ctx, scope, run); err != nil {
			return false, err // the schedule stays due: the next tick tries again
		}
		st.LastSlot, enqueued = run.ScheduledFor, true
	}
	st.NextRunAt, st.ReportVersion = clock.Next(now).UTC(), rep.Version
	if st.NextRunAt.IsZero() { // no slot within eight years ("0 0 30 2 *")
		return enqueued, s.repo.saveSchedule(ctx, st, true)
	}
	if err := s.repo.saveSchedule(ctx, st, false); err != nil {
		return enqueued, err
	}
	// A command that changed the report meanwhile wrote its own state,
	// which this write may have replaced: look again at the next tick.
	if again, err := s.repo.getReport(ctx, scope, rep.ID); err == nil && again.Version != rep.Version {
		st.NextRunAt = now.UTC()
		return enqueued, s.repo.saveSchedule(ctx, st, false)
	}
	return enqueued, nil
}

// queue stores a scheduled run QUEUED (unless it exists: a tick repeated
// after a failed write) and enqueues it.
func (s *Service) queue(ctx context.Context, scope store.Scope, run *Run) error {
	_, err := s.repo.getRun(ctx, scope, run.ReportID, run.ID)
	switch {
	case errs.Is(err, errs.KindNotFound):
		if err := s.repo.saveRun(ctx, run); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	_, err = s.deps.Jobs.Enqueue(ctx, s.runTask(run))
	return err
}

// reschedule stores the scheduling state of rep after a command: a
// tombstone when it is deleted or disabled; otherwise due at its next slot
// after now, or earlier when the stored state was due earlier (a slot due
// and not yet ticked is not skipped by an unrelated edit). The last slot
// enqueued is kept.
func (s *Service) reschedule(ctx context.Context, rep *Report, deleted bool) error {
	scope, err := store.DangerousScopeForTenant(rep.Tenant)
	if err != nil {
		return err
	}
	st, ok, err := s.repo.getSchedule(ctx, scope, rep.ID)
	if err != nil {
		return err
	}
	if !ok {
		st = &scheduleState{Tenant: rep.Tenant, ReportID: rep.ID, LastSlot: noSlot}
	}
	st.ReportVersion = rep.Version
	if deleted || !rep.Enabled {
		if !ok {
			return nil
		}
		return s.repo.saveSchedule(ctx, st, true)
	}
	clock, err := rep.Schedule.Parse("schedule")
	if err != nil {
		return err
	}
	next := clock.Next(s.cfg.Now()).UTC()
	if next.IsZero() { // no slot within eight years ("0 0 30 2 *")
		if !ok {
			return nil
		}
		return s.repo.saveSchedule(ctx, st, true)
	}
	if !ok || next.Before(st.NextRunAt) {
		st.NextRunAt = next
	}
	return s.repo.saveSchedule(ctx, st, false)
}
