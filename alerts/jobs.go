package alerts

import (
	"context"
	"strings"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/errs"
)

// Jobs is the alerts' background work: the evaluation tick (every five
// minutes unless Config.TickSpec says otherwise) (its TaskID is keyed by the minute, so scheduler replicas tick
// once together) and the notification deliveries it enqueues.
func (s *Service) Jobs() []jobs.Registration {
	return []jobs.Registration{
		{Kind: KindTick, Handler: jobs.HandlerFunc(s.tick),
			Schedule: &jobs.Entry{Name: KindTick, Spec: s.cfg.TickSpec, Task: jobs.Task{Kind: KindTick, Queue: s.cfg.Queue, MaxRetry: 3}}},
		{Kind: KindNotify, Handler: s.Notifier()},
	}
}

// Tick evaluates every tenant's enabled rules on their latest completed
// bucket (see EvaluateTenant). A tenant or rule that fails never stops the
// others; the returned error (a retry) names the ones not recorded, and
// the retry evaluates only those, as recorded buckets are skipped.
func (s *Service) Tick(ctx context.Context) error { return s.tick(ctx, jobs.Job{Kind: KindTick}) }

func (s *Service) tick(ctx context.Context, _ jobs.Job) error {
	now := s.cfg.Now()
	tenants, err := s.repo.dangerousUnscopedTenants(ctx)
	if err != nil {
		return err
	}
	var failed []string
	for _, t := range tenants {
		evs, err := s.EvaluateTenant(ctx, t, now)
		if err != nil {
			failed = append(failed, t)
		}
		for _, ev := range evs {
			if ev.Err != nil {
				s.cfg.Logger.Warn("alert rule evaluated as ERROR", "tenant", t, "rule", ev.RuleID, "err", ev.Err)
			}
		}
	}
	if len(failed) > 0 {
		return errs.E("alerts.tick", errs.KindUnavailable, "evaluations not recorded for tenants "+strings.Join(failed, ", "))
	}
	return nil
}
