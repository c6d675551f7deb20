package reports

import (
	"bytes"
	"context"
	"errors"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// Runner returns the jobs.Handler of KindRun.
//
// It is idempotent: the run id is a function of (report, trigger, slot),
// the object key a function of the run id and blob Put replaces atomically,
// so a run retried after a crash leaves one object; the event carries the
// run id as Nats-Msg-Id, so it is stored once; a run already SUCCEEDED only
// re-publishes its (deduplicated) event and re-enqueues its (deduplicated)
// deliveries, which covers a crash between any two steps; a run already
// FAILED only re-publishes its (deduplicated) failure event.
func (s *Service) Runner() jobs.Handler { return jobs.HandlerFunc(s.run) }

func (s *Service) run(ctx context.Context, tj jobs.Job) error {
	const op = "reports.run"
	if s.deps.Bus == nil {
		return errs.E(op, errs.KindInternal, "the report worker needs a bus")
	}
	var p runParams
	if err := tj.Decode(&p); err != nil {
		return err
	}
	scope, err := store.DangerousScopeForTenant(tj.Tenant)
	if err != nil {
		return errs.Wrap(op, errs.KindInvalid, err, "report task has no tenant")
	}
	rep, err := s.repo.getReport(ctx, scope, p.ReportID)
	if errs.Is(err, errs.KindNotFound) {
		return nil // deleted since the slot was enqueued: nothing to do
	}
	if err != nil {
		return err
	}
	run, err := s.repo.getRun(ctx, scope, rep.ID, p.RunID)
	switch {
	case errs.Is(err, errs.KindNotFound):
		run = s.newRun(rep, p.Trigger, p.ScheduledFor)
		if run.ID != p.RunID {
			return errs.E(op, errs.KindInvalid, "report task's run id does not match its slot")
		}
	case err != nil:
		return err
	}
	switch run.Status {
	case RunSucceeded:
		return s.announce(ctx, rep, run)
	case RunFailed:
		return s.publishFailed(ctx, rep, run) // deduplicated: covers a crash before the first publish
	}
	now := s.now()
	run.Status, run.StartedAt, run.Error = RunRunning, &now, ""
	if err := s.repo.saveRun(ctx, run); err != nil {
		return err
	}
	if err := s.produce(ctx, rep, run); err != nil {
		return s.fail(ctx, tj, rep, run, err)
	}
	return s.succeed(ctx, rep, run)
}

// produce reads the run's data as the report's owner, renders the file
// and writes it to the blob store.
func (s *Service) produce(ctx context.Context, rep *Report, run *Run) error {
	owner := auth.WithPrincipal(ctx, auth.Principal{Subject: rep.Owner, Tenant: rep.Tenant, Roles: []auth.Role{auth.RoleViewer}})
	snap, err := s.snapshot(owner, rep, run)
	if err != nil {
		return err
	}
	run.PeriodFrom, run.PeriodTo = snap.From, snap.To
	var buf bytes.Buffer
	if err := Render(&buf, rep.Format, snap); err != nil {
		return err
	}
	if err := s.deps.Blobs.Put(ctx, run.ObjectKey, bytes.NewReader(buf.Bytes())); err != nil {
		return err
	}
	run.Bytes = uint64(buf.Len())
	return nil
}

// succeed records the deliveries as PENDING, marks the run SUCCEEDED and
// announces it.
func (s *Service) succeed(ctx context.Context, rep *Report, run *Run) error {
	scope, err := store.DangerousScopeForTenant(run.Tenant)
	if err != nil {
		return err
	}
	existing, err := s.repo.deliveries(ctx, scope, rep.ID, run.ID)
	if err != nil {
		return err
	}
	if len(existing[run.ID]) == 0 {
		for i, d := range rep.Deliveries {
			st := &DeliveryState{Tenant: run.Tenant, ReportID: rep.ID, RunID: run.ID, Index: i, Kind: d.Kind, Target: d.Target(), Status: DeliveryPending}
			if err := s.repo.saveDelivery(ctx, st); err != nil {
				return err
			}
		}
	}
	now := s.now()
	run.Status, run.FinishedAt = RunSucceeded, &now
	if err := s.repo.saveRun(ctx, run); err != nil {
		return err
	}
	return s.announce(ctx, rep, run)
}

// announce publishes the event of a SUCCEEDED run and enqueues its
// deliveries; both are deduplicated, so announcing twice is harmless.
func (s *Service) announce(ctx context.Context, rep *Report, run *Run) error {
	ev, err := s.generated(ctx, rep, run)
	if err != nil {
		return err
	}
	if err := s.publishGenerated(ctx, ev); err != nil {
		return err
	}
	scope, err := store.DangerousScopeForTenant(run.Tenant)
	if err != nil {
		return err
	}
	states, err := s.repo.deliveries(ctx, scope, rep.ID, run.ID)
	if err != nil {
		return err
	}
	var all []error
	for _, st := range states[run.ID] {
		if st.Status == DeliveryPending || st.Status == DeliveryRetrying {
			_, err := s.deps.Jobs.Enqueue(ctx, s.deliverTask(st))
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}

// fail records a failed run: on the last attempt (or for bad input) the
// run becomes FAILED and analytics.report.failed.v1 is published (once per
// run: its msg id is the run id); otherwise the error goes back to Asynq
// for a retry.
func (s *Service) fail(ctx context.Context, tj jobs.Job, rep *Report, run *Run, cause error) error {
	if !errs.Is(cause, errs.KindInvalid) && tj.Retried < tj.MaxRetry {
		return cause
	}
	ctx = context.WithoutCancel(ctx)
	now := s.now()
	run.Status, run.FinishedAt, run.Error = RunFailed, &now, errs.PublicMessage(cause)
	if err := s.repo.saveRun(ctx, run); err != nil {
		return errors.Join(cause, err)
	}
	if err := s.publishFailed(ctx, rep, run); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}
