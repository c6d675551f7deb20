package exports

import (
	"context"
	"errors"

	"github.com/learnhub/analytics-service/jobs"
)

// Recoverer returns the jobs.Recoverer that re-enqueues every job left
// QUEUED or RUNNING (a worker died, Redis lost the task). The TaskID is the
// same as at Request, so a task that still exists is not duplicated.
func (s *Service) Recoverer() jobs.Recoverer {
	return jobs.RecovererFunc(func(ctx context.Context) error {
		active, err := s.repo.dangerousUnscopedByStatus(ctx, StatusQueued, StatusRunning)
		if err != nil {
			return err
		}
		var all []error
		for _, j := range active {
			all = append(all, s.enqueue(ctx, j))
		}
		return errors.Join(all...)
	})
}
