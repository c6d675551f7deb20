package main

import (
	"context"

	"github.com/learnhub/analytics-service/jobs"
)

// startWork starts the Asynq workers (after their recovery hooks ran) and
// the scheduler; the returned func stops both gracefully.
func (a *app) startWork(ctx context.Context) (func(), error) {
	client := jobs.NewClient(a.kv.Client(), jobs.ClientConfig{})
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

	sched := jobs.NewScheduler(client, jobs.SchedulerConfig{Logger: a.log})
	if err := sched.Register(compact.Entry()); err != nil {
		return nil, err
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
