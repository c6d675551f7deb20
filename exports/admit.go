package exports

import (
	"context"
	"fmt"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// Admission waits at most this long for another replica's check-and-insert
// of the same tenant, polling every admitPoll.
const (
	admitWait = 2 * time.Second
	admitPoll = 10 * time.Millisecond
)

// admit stores j unless its tenant is at the cap of active exports. The
// count and the insert are one critical section per tenant: within the
// process under s.admitMu, across replicas under a short Redis lock
// (Deps.Locks; without it only the process-wide lock holds and two
// replicas may each admit one export past the cap).
func (s *Service) admit(ctx context.Context, scope store.Scope, j *Job) error {
	const op = "exports.Request"
	s.admitMu.Lock()
	defer s.admitMu.Unlock()
	unlock, err := s.lockTenant(ctx, scope.Tenant())
	if err != nil {
		return err
	}
	defer unlock()
	n, err := s.repo.countActive(ctx, scope)
	if err != nil {
		return err
	}
	if n >= s.cfg.MaxConcurrentPerTenant {
		return errs.E(op, errs.KindRateLimited, fmt.Sprintf(
			"your tenant already has %d exports queued or running (the limit is %d); wait for one to finish or cancel one",
			n, s.cfg.MaxConcurrentPerTenant)).With("limit", s.cfg.MaxConcurrentPerTenant)
	}
	return s.repo.save(ctx, j)
}

// lockTenant takes the tenant's admission lock in Redis, waiting up to
// admitWait while another replica holds it.
func (s *Service) lockTenant(ctx context.Context, tenant string) (func(), error) {
	key := "exports:admit:" + tenant
	deadline := time.NewTimer(admitWait)
	defer deadline.Stop()
	tick := time.NewTicker(admitPoll)
	defer tick.Stop()
	for {
		unlock, err := s.locks.Lock(ctx, key)
		if !errs.Is(err, errs.KindConflict) {
			return unlock, err
		}
		select {
		case <-ctx.Done():
			return nil, errs.Wrap("exports.Request", errs.KindUnavailable, ctx.Err(), "the export request was cancelled")
		case <-deadline.C:
			return nil, errs.E("exports.Request", errs.KindUnavailable, "another export request of your tenant is being admitted; retry")
		case <-tick.C:
		}
	}
}
