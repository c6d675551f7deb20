package exports

import (
	"context"

	"github.com/learnhub/analytics-service/platform/watch"
)

// Watch follows a job of the caller's tenant for a subscription: it sends
// the job now and again whenever its stored version changes (status,
// progress), polling every Config.WatchInterval, and closes the channel
// after a final status or when ctx ends. Polling reads one row by key; it
// works the same on every deployment and needs no extra bus traffic. An
// unknown job (or another tenant's) is the error, before any send.
func (s *Service) Watch(ctx context.Context, id string) (<-chan Job, error) {
	j, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return watch.Follow(ctx, s.cfg.WatchInterval, *j, func(ctx context.Context) (Job, error) {
		next, err := s.Get(ctx, id)
		if err != nil {
			return Job{}, err
		}
		return *next, nil
	}), nil
}

// StoredVersion and Final let watch.Follow follow an export job.
func (j Job) StoredVersion() uint64 { return j.Version }
func (j Job) Final() bool           { return !j.Status.Active() }
