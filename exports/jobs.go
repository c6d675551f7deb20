package exports

import "github.com/learnhub/analytics-service/jobs"

// Jobs is the export work a worker runs: the runs, the hourly janitor (one
// task per hour: the TaskID is keyed by the hour) and the recoverer that
// re-enqueues or fails jobs a crash stranded.
func (s *Service) Jobs() []jobs.Registration {
	return []jobs.Registration{
		{Kind: KindRun, Handler: s.Runner(), Recover: s.Recoverer()},
		{Kind: KindJanitor, Handler: s.Janitor(), Schedule: &jobs.Entry{Name: KindJanitor, Spec: DefaultJanitorSpec,
			Task: jobs.Task{Kind: KindJanitor, Queue: jobs.QueueLow}, KeyLayout: "2006-01-02T15"}},
	}
}
