package main

import (
	"context"

	"github.com/learnhub/analytics-service/events"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/queue"
	"github.com/learnhub/analytics-service/privacy"
)

// startWork starts the Asynq workers (after their recovery hooks ran), the
// scheduler and the erasure consumer; the returned func stops them
// gracefully.
func (a *app) startWork(ctx context.Context) (func(), error) {
	srv, err := queue.NewServer(a.kv.Client(), queue.Config{
		Concurrency:     a.cfg.WorkerConcurrency,
		ShutdownTimeout: a.cfg.ShutdownTimeout,
		Logger:          a.log,
		Registry:        a.metrics.Registry,
		Tracing:         a.tracing,
	})
	if err != nil {
		return nil, err
	}
	if err := a.metrics.Registry.Register(queue.NewDepthCollector(a.kv.Client(), nil)); err != nil {
		return nil, err
	}
	sched := queue.NewScheduler(a.svc.jobs, queue.SchedulerConfig{Logger: a.log})
	for _, r := range a.jobs() {
		if r.Handler != nil {
			srv.Handle(r.Kind, r.Handler)
		}
		if r.Recover != nil {
			srv.AddRecoverer(r.Recover)
		}
		if r.Schedule != nil {
			if err := sched.Register(*r.Schedule); err != nil {
				return nil, err
			}
		}
	}
	if err := srv.Start(ctx); err != nil {
		return nil, err
	}
	sched.Start()
	a.sched = sched
	a.catchUpMonitors(ctx)
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

// jobs is every domain's background work: each declares its handlers,
// schedules and recoverers as Jobs() []jobs.Registration. A new domain with
// background work adds one line here.
func (a *app) jobs() []jobs.Registration {
	var all []jobs.Registration
	for _, d := range []interface{ Jobs() []jobs.Registration }{
		events.NewCompactor(a.db, events.CompactConfig{Spec: a.cfg.CompactCron, Table: compactTable(a.cfg.ClickHouseCluster), Logger: a.log}),
		a.currentMerger(),
		metrics.NewRebuildRollupsJob(a.db, metrics.RebuildRollupsConfig{Logger: a.log, Cluster: a.cfg.ClickHouseCluster}),
		a.svc.exports,
		a.svc.cohorts,
		a.svc.retention,
		a.svc.reports,
		a.svc.monitors,
		a.svc.insights,
		a.svc.alerts,
	} {
		all = append(all, d.Jobs()...)
	}
	return all
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
