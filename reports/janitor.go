package reports

import (
	"context"
	"errors"

	"github.com/learnhub/analytics-service/jobs"
)

// JanitorEntry is the scheduler entry of the janitor: hourly
// (DefaultJanitorSpec), keyed by the hour, so replicas enqueue one task an
// hour.
func JanitorEntry() jobs.Entry {
	return jobs.Entry{Name: KindJanitor, Spec: DefaultJanitorSpec, KeyLayout: "2006-01-02T15",
		Task: jobs.Task{Kind: KindJanitor, Queue: jobs.QueueLow}}
}

// Janitor returns the jobs.Handler of KindJanitor (system work, no
// params): it deletes the files of runs that finished more than
// Config.Retention ago and marks those runs expired (ExpiredAt), so the
// history keeps the run but no longer signs a URL for it. It is
// idempotent: an expired run is not selected again and deleting a missing
// object is not an error.
func (s *Service) Janitor() jobs.Handler {
	return jobs.HandlerFunc(func(ctx context.Context, _ jobs.Job) error {
		_, err := s.expire(ctx)
		return err
	})
}

// expire deletes the files past the retention and returns how many.
func (s *Service) expire(ctx context.Context) (int, error) {
	old, err := s.repo.dangerousUnscopedFinishedBefore(ctx, s.cfg.Now().Add(-s.cfg.Retention))
	if err != nil {
		return 0, err
	}
	n := 0
	var all []error
	for _, run := range old {
		if err := s.deps.Blobs.Delete(ctx, run.ObjectKey); err != nil {
			all = append(all, err)
			continue
		}
		now := s.now()
		run.ExpiredAt = &now
		if err := s.repo.saveRun(ctx, run); err != nil {
			all = append(all, err)
			continue
		}
		n++
	}
	return n, errors.Join(all...)
}
