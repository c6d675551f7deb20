package exports

import (
	"context"

	"github.com/learnhub/analytics-service/jobs"
)

// Janitor returns the jobs.Handler of KindJanitor (system work, no params):
// it deletes the objects of SUCCEEDED jobs whose ExpiresAt has passed and
// marks those jobs EXPIRED. Jobs schedules it hourly (DefaultJanitorSpec).
// It is idempotent: an expired job is skipped next time
// and deleting a missing object is not an error.
func (s *Service) Janitor() jobs.Handler {
	return jobs.HandlerFunc(func(ctx context.Context, _ jobs.Job) error {
		done, err := s.repo.dangerousUnscopedByStatus(ctx, StatusSucceeded)
		if err != nil {
			return err
		}
		now := s.now()
		for _, j := range done {
			if j.ExpiresAt == nil || j.ExpiresAt.After(now) {
				continue
			}
			if err := s.deps.Blobs.Delete(ctx, j.ObjectKey); err != nil {
				return err
			}
			j.Status = StatusExpired
			if err := s.repo.save(ctx, j); err != nil {
				return err
			}
		}
		return nil
	})
}
