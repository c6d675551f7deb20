package main

import (
	"context"

	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/exports"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/metrics"
)

// startWork starts the Asynq workers (after their recovery hooks ran) and
// the scheduler; the returned func stops both gracefully.
func (a *app) startWork(ctx context.Context) (func(), error) {
	client := a.svc.jobs
	srv, err := jobs.NewServer(a.kv.Client(), jobs.Config{
		Concurrency:     a.cfg.WorkerConcurrency,
		ShutdownTimeout: a.cfg.ShutdownTimeout,
		Logger:          a.log,
		Registry:        a.metrics.Registry,
	})
	if err != nil {
		return nil, err
	}
	compact := jobs.NewCompactEvents(a.db, jobs.CompactEventsConfig{Spec: a.cfg.CompactCron, Table: compactTable(a.cfg.ClickHouseCluster), Logger: a.log})
	srv.Handle(jobs.KindCompactEvents, compact)
	rebuild := metrics.NewRebuildRollupsJob(a.db, metrics.RebuildRollupsConfig{Logger: a.log})
	srv.Handle(metrics.KindRebuildRollups, rebuild)
	srv.Handle(exports.KindRun, a.svc.exports.Runner())
	srv.Handle(exports.KindJanitor, a.svc.exports.Janitor())
	srv.AddRecoverer(a.svc.exports.Recoverer())
	srv.Handle(cohorts.KindEvaluate, a.svc.cohorts.EvaluateHandler())
	srv.Handle(cohorts.KindEvaluateAll, a.svc.cohorts.EvaluateAllHandler(client))

	// One janitor task per hour (the TaskID is keyed by the hour).
	exportsJanitor := jobs.Entry{Name: exports.KindJanitor, Spec: exports.DefaultJanitorSpec,
		Task: jobs.Task{Kind: exports.KindJanitor, Queue: jobs.QueueLow}, KeyLayout: "2006-01-02T15"}
	sched := jobs.NewScheduler(client, jobs.SchedulerConfig{Logger: a.log})
	for _, e := range []jobs.Entry{compact.Entry(), rebuild.Entry(), exportsJanitor, cohorts.Entry("")} {
		if err := sched.Register(e); err != nil {
			return nil, err
		}
	}
	if err := srv.Start(ctx); err != nil {
		return nil, err
	}
	sched.Start()
	a.log.Info("workers started", "concurrency", a.cfg.WorkerConcurrency, "compact_cron", a.cfg.CompactCron)
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
		defer cancel()
		sched.Shutdown(sctx)
		srv.Shutdown()
	}, nil
}

// compactTable is the table compaction optimizes: on a cluster the local
// replicated table (system.parts shows each node's own parts).
func compactTable(cluster string) string {
	if cluster != "" {
		return "events_local"
	}
	return "events"
}
