package reports

import "github.com/learnhub/analytics-service/jobs"

// Jobs is the report work a worker runs: the minutely tick that enqueues
// due slots, the runs, the deliveries, the hourly janitor, and the recoverer
// that re-enqueues runs and deliveries a crash stranded.
func (s *Service) Jobs() []jobs.Registration {
	tick, janitor := Entry(), JanitorEntry()
	return []jobs.Registration{
		{Kind: KindTick, Handler: s.Tick(s.cfg.Logger), Schedule: &tick},
		{Kind: KindRun, Handler: s.Runner(), Recover: s.Recoverer()},
		{Kind: KindDeliver, Handler: s.Deliverer()},
		{Kind: KindJanitor, Handler: s.Janitor(), Schedule: &janitor},
	}
}
