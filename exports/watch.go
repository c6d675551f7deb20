package exports

import (
	"context"
	"time"
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
	out := make(chan Job, 1)
	go func() {
		defer close(out)
		t := time.NewTicker(s.cfg.WatchInterval)
		defer t.Stop()
		for {
			select {
			case out <- *j:
			case <-ctx.Done():
				return
			}
			if !j.Status.Active() {
				return
			}
			last := j.Version
			for j.Version == last {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				next, err := s.Get(ctx, id)
				if err != nil {
					return
				}
				j = next
			}
		}
	}()
	return out, nil
}
