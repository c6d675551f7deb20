package reports

import (
	"context"
	"errors"

	"github.com/learnhub/analytics-service/jobs"
)

// Recoverer returns the jobs.Recoverer that re-enqueues every run left
// QUEUED or RUNNING and every delivery left PENDING or RETRYING (a worker
// died, Redis lost the task). The TaskIDs are the ones first enqueued, so a
// task that still exists (waiting for its retry, say) is not duplicated.
func (s *Service) Recoverer() jobs.Recoverer {
	return jobs.RecovererFunc(func(ctx context.Context) error {
		active, err := s.repo.dangerousUnscopedActiveRuns(ctx)
		if err != nil {
			return err
		}
		open, err := s.repo.dangerousUnscopedOpenDeliveries(ctx)
		if err != nil {
			return err
		}
		var all []error
		for _, run := range active {
			_, err := s.deps.Jobs.Enqueue(ctx, s.runTask(run))
			all = append(all, err)
		}
		for _, d := range open {
			_, err := s.deps.Jobs.Enqueue(ctx, s.deliverTask(d))
			all = append(all, err)
		}
		return errors.Join(all...)
	})
}
