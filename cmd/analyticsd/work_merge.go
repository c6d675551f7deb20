package main

import "github.com/learnhub/analytics-service/events"

// currentMerger is the job that keeps the current month of events and of
// the daily rollups merged (events.CurrentMerger). On a cluster it merges
// the local replicated tables (system.parts lists each node's own parts).
func (a *app) currentMerger() *events.CurrentMerger {
	tables := events.DefaultMergeCurrentTables
	if a.cfg.ClickHouseCluster != "" {
		local := make([]string, len(tables))
		for i, t := range tables {
			local[i] = t + "_local"
		}
		tables = local
	}
	return events.NewCurrentMerger(a.db, events.MergeCurrentConfig{
		Spec: a.cfg.MergeCurrentCron, Tables: tables, MaxParts: a.cfg.MergeMaxParts, Logger: a.log,
	})
}
