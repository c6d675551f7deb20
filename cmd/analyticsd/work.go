package main

import (
	"context"

	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/exports"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/privacy"
	"github.com/learnhub/analytics-service/reports"
)

// startWork starts the Asynq workers (after their recovery hooks ran), the
// scheduler and the erasure consumer; the returned func stops them
// gracefully.
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
	rebuild := metrics.NewRebuildRollupsJob(a.db, metrics.RebuildRollupsConfig{Logger: a.log, Cluster: a.cfg.ClickHouseCluster})
	srv.Handle(metrics.KindRebuildRollups, rebuild)
	srv.Handle(exports.KindRun, a.svc.exports.Runner())
	srv.Handle(exports.KindJanitor, a.svc.exports.Janitor())
	srv.AddRecoverer(a.svc.exports.Recoverer())
	srv.Handle(cohorts.KindEvaluate, a.svc.cohorts.EvaluateHandler())
	srv.Handle(cohorts.KindEvaluateAll, a.svc.cohorts.EvaluateAllHandler(client))
	srv.Handle(privacy.KindRetention, a.svc.retention)
	srv.Handle(reports.KindTick, a.svc.reports.Tick(a.log))
	srv.Handle(reports.KindRun, a.svc.reports.Runner())
	srv.Handle(reports.KindDeliver, a.svc.reports.Deliverer())
	srv.Handle(reports.KindJanitor, a.svc.reports.Janitor())
	srv.AddRecoverer(a.svc.reports.Recoverer())

	// One janitor task per hour (the TaskID is keyed by the hour).
	exportsJanitor := jobs.Entry{Name: exports.KindJanitor, Spec: exports.DefaultJanitorSpec,
		Task: jobs.Task{Kind: exports.KindJanitor, Queue: jobs.QueueLow}, KeyLayout: "2006-01-02T15"}
	sched := jobs.NewScheduler(client, jobs.SchedulerConfig{Logger: a.log})
	for _, e := range []jobs.Entry{compact.Entry(), rebuild.Entry(), exportsJanitor, cohorts.Entry(""), a.svc.retention.Entry(), reports.Entry(), reports.JanitorEntry()} {
		if err := sched.Register(e); err != nil {
			return nil, err
		}
	}
	if err := srv.Start(ctx); err != nil {
		return nil, err
	}
	sched.Start()
	stopErasure := a.runErasureConsumer(ctx)
	a.log.Info("workers started", "concurrency", a.cfg.WorkerConcurrency, "compact_cron", a.cfg.CompactCron,
		"retention_cron", a.cfg.RetentionCron, "hot_months", a.cfg.HotMonths)
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
		defer cancel()
		stopErasure(sctx)
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

// runErasureConsumer consumes privacy.erasure.requested.v1 until the
// returned stop is called (or ctx ends). stop cancels the consumer and waits
// for the request in work to settle, at most until sctx ends: an
// interrupted request is redelivered and resumes from its recorded step.
func (a *app) runErasureConsumer(ctx context.Context) (stop func(sctx context.Context)) {
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := privacy.NewConsumer(a.svc.privacy, privacy.ConsumerConfig{Logger: a.log}).Run(cctx); err != nil {
			a.log.Error("erasure consumer stopped", "err", err)
		}
	}()
	return func(sctx context.Context) {
		cancel()
		select {
		case <-done:
		case <-sctx.Done():
			a.log.Warn("erasure consumer did not stop in time")
		}
	}
}
