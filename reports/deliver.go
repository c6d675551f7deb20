package reports

import (
	"context"
	"errors"
	"fmt"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// deliverParams is the payload of a KindDeliver task.
type deliverParams struct {
	ReportID string `json:"report_id"`
	RunID    string `json:"run_id"`
	Index    int    `json:"index"`
}

// deliverTask is the Asynq task of one delivery of a run. Asynq retries a
// failed attempt with exponential backoff up to DeliveryMaxRetry times.
func (s *Service) deliverTask(st *DeliveryState) jobs.Task {
	return jobs.Task{Kind: KindDeliver, Tenant: st.Tenant, Queue: s.cfg.Queue, MaxRetry: s.cfg.DeliveryMaxRetry,
		Timeout: s.cfg.DeliveryTimeout, Params: deliverParams{ReportID: st.ReportID, RunID: st.RunID, Index: st.Index}}
}

// Deliverer returns the jobs.Handler of KindDeliver: it sends one run's
// file to one destination and records the attempt (attempts, last error,
// RETRYING until the last attempt, then FAILED; SUCCEEDED once sent). A
// delivery already SUCCEEDED or FAILED is not sent again.
func (s *Service) Deliverer() jobs.Handler { return jobs.HandlerFunc(s.deliver) }

func (s *Service) deliver(ctx context.Context, tj jobs.Job) error {
	const op = "reports.deliver"
	var p deliverParams
	if err := tj.Decode(&p); err != nil {
		return err
	}
	scope, err := store.DangerousScopeForTenant(tj.Tenant)
	if err != nil {
		return errs.Wrap(op, errs.KindInvalid, err, "delivery task has no tenant")
	}
	states, err := s.repo.deliveries(ctx, scope, p.ReportID, p.RunID)
	if err != nil {
		return err
	}
	var st *DeliveryState
	for _, x := range states[p.RunID] {
		if x.Index == p.Index {
			st = x
		}
	}
	if st == nil {
		return errs.E(op, errs.KindInvalid, "delivery row is missing")
	}
	if st.Status == DeliverySucceeded || st.Status == DeliveryFailed {
		return nil
	}
	run, err := s.repo.getRun(ctx, scope, p.ReportID, p.RunID)
	if err != nil {
		return err
	}
	rep, err := s.repo.getReport(ctx, scope, p.ReportID)
	var sendErr error
	switch {
	case errs.Is(err, errs.KindNotFound):
		sendErr = errs.E(op, errs.KindInvalid, "the report was deleted before its file was delivered")
	case err != nil:
		return err
	default:
		sendErr = s.send(ctx, rep, run, st)
	}
	return s.record(ctx, tj, st, sendErr)
}

// send delivers the run's file to the destination at st.Index, which must
// still be the one the run recorded.
func (s *Service) send(ctx context.Context, rep *Report, run *Run, st *DeliveryState) error {
	if st.Index >= len(rep.Deliveries) || rep.Deliveries[st.Index].Kind != st.Kind || rep.Deliveries[st.Index].Target() != st.Target {
		return errs.E("reports.deliver", errs.KindInvalid, "the report's deliveries changed after the run; this destination was removed")
	}
	d := rep.Deliveries[st.Index]
	ev, err := s.generated(ctx, rep, run)
	if err != nil {
		return err
	}
	if d.Kind == DeliveryEmail {
		return s.sendEmail(ctx, d, rep, run, ev)
	}
	return s.postWebhook(ctx, d, ev, fmt.Sprintf("%s/%d", run.ID, st.Index))
}

// record stores the outcome of one attempt. A failure that will be retried
// is RETRYING and goes back to Asynq; bad input or the last attempt is
// FAILED.
func (s *Service) record(ctx context.Context, tj jobs.Job, st *DeliveryState, cause error) error {
	ctx = context.WithoutCancel(ctx)
	now := s.now()
	st.Attempts, st.LastAttemptAt = tj.Retried+1, &now
	switch {
	case cause == nil:
		st.Status, st.DeliveredAt, st.LastError = DeliverySucceeded, &now, ""
	case errs.Is(cause, errs.KindInvalid) || tj.Retried >= tj.MaxRetry:
		st.Status, st.LastError = DeliveryFailed, errs.PublicMessage(cause)
	default:
		st.Status, st.LastError = DeliveryRetrying, errs.PublicMessage(cause)
	}
	if err := s.repo.saveDelivery(ctx, st); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}
