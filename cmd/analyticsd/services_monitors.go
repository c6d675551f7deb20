package main

import "github.com/learnhub/analytics-service/monitors"

// openMonitors builds the monitor service: definitions and scores in
// ClickHouse, metric values through the shared querier (rollups where they
// apply, the hot horizon enforced), backfills and ticks on the job queue.
func (a *app) openMonitors(s *services) *monitors.Service {
	return monitors.NewService(a.db, s.registry, s.querier, monitors.Config{Locks: a.kv, Queue: s.jobs,
		Reviewer: a.monitorReviewer()})
}
