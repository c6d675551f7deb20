package alerts

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// NextEvaluation is when the evaluation tick (Config.TickSpec, read in UTC
// as the scheduler does) next fires after now: a rule gets its first state,
// or its next one, then.
func (s *Service) NextEvaluation(now time.Time) (time.Time, error) {
	spec, err := cron.ParseStandard(s.cfg.TickSpec)
	if err != nil {
		return time.Time{}, fmt.Errorf("alerts: next evaluation: tick schedule %q: %w", s.cfg.TickSpec, err)
	}
	return spec.Next(now.UTC()), nil
}
