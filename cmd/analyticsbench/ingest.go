package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/config"
	"github.com/learnhub/analytics-service/store"
)

// Ingest benchmark tenants: each phase writes its own, so phases and other
// benchmarks sharing the events table never see each other's rows.
const (
	ingestTenantDirect  = "bench-ingest-direct"
	ingestTenantKafka   = "bench-ingest-kafka"
	ingestTenantLatency = "bench-ingest-latency"
	// ingestLatencyRate and ingestLatencyDuration shape the latency run:
	// a steady trickle, as live traffic looks, not a preloaded backlog.
	ingestLatencyRate     = 1000 // events per second
	ingestLatencyDuration = 5 * time.Second
	ingestTimeout         = 30 * time.Minute
)

// benchIngest measures the firehose: throughput of a preloaded JetStream
// backlog into ClickHouse directly and through Kafka (kfake in a child
// process),
// each against store.Insert of the same rows in this run, and publish →
// queryable latency under a steady trickle.
func benchIngest(ctx context.Context, db *store.DB, events int) ([]result, error) {
	// The collector setting `analyticsd ingest` runs with.
	defer config.ApplyIngestGC(os.Getenv)()
	ctx, cancel := context.WithTimeout(ctx, ingestTimeout)
	defer cancel()
	// The throughput runs write the current month, with background merges
	// running throughout, as they do under live ingest (issue #25: the
	// bench used to stop merges in every timed window).
	at := time.Now().UTC().Add(-2 * time.Hour)
	if at.Month() != time.Now().UTC().Month() {
		at = time.Now().UTC()
	}

	direct, err := ingestThroughput(ctx, db, ingestTenantDirect, events, at, false)
	if err != nil {
		return nil, fmt.Errorf("direct: %w", err)
	}
	viaKafka, err := ingestThroughput(ctx, db, ingestTenantKafka, events, at, true)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	p50, p95, err := ingestLatency(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("latency: %w", err)
	}
	merged, err := benchMergeCurrent(ctx, db, ingestTenantDirect)
	if err != nil {
		return nil, fmt.Errorf("merge current month: %w", err)
	}
	latMark := mark(p95 <= 1500*time.Millisecond)
	row := func(name, note string, t throughput) result {
		return result{
			Name: name, Value: fmt.Sprintf("%.0f events/s", t.rate),
			Baseline: fmt.Sprintf("%.0f events/s engine-generated INSERT … SELECT of the same shape (mean of right before and right after)", t.engine),
			Ratio:    fmt.Sprintf("%.2f× %s", t.rate/t.engine, mark(t.rate/t.engine >= 0.5)), Target: "≥ 0.5×",
			Note: note + fmt.Sprintf("; background merges running; store.Insert of the same rows %.0f events/s (%.2f× of it); ", t.store, t.rate/t.store) + t.cpu.String(),
		}
	}
	return []result{
		row(fmt.Sprintf("ingest NATS → ClickHouse (direct), %d events", events),
			"preloaded JetStream backlog (file store) drained by the durable consumer: fetch, validate, insert, ack", direct),
		row(fmt.Sprintf("ingest NATS → Kafka → ClickHouse, %d events", events),
			"bridge (acks=all) and consumer group running together; broker is kfake in a child process (its CPU is not ours, but it shares the 2 cores)", viaKafka),
		{
			Name:  fmt.Sprintf("ingest latency publish → queryable (direct, %d events/s)", ingestLatencyRate),
			Value: fmt.Sprintf("p50 %d ms, p95 %d ms", p50.Milliseconds(), p95.Milliseconds()), Baseline: "—",
			Ratio: "p95 " + latMark, Target: "p95 ≤ 1.5 s",
			Note: "default batching (50 000 rows / 1 s); visible = counted by a query polled every 20 ms",
		},
		merged,
	}, nil
}

// benchEvents builds n valid learning events for tenant.
func benchEvents(tenant string, n int, at time.Time) []ingest.Event {
	types := []string{ingest.TypeUserLogin, ingest.TypeLessonStarted, ingest.TypeLessonCompleted, ingest.TypeVideoWatched, ingest.TypeQuizSubmitted}
	out := make([]ingest.Event, n)
	for i := range out {
		typ := types[i%len(types)]
		props := fmt.Sprintf(`{"course_id":"c-%d","lesson_id":"l-%d","score":%d,"seconds":%d}`, i%40, i%400, i%101, i%3600)
		out[i] = ingest.Event{ID: fmt.Sprintf("%s-%d", tenant, i), TenantID: tenant, Type: typ,
			UserID: fmt.Sprintf("user-%d", i%5000), SessionID: fmt.Sprintf("s-%d", i/20),
			OccurredAt: at.Add(time.Duration(i) * time.Millisecond), Properties: json.RawMessage(props)}
	}
	return out
}

// throughput is one pipeline's run and its same-run baselines.
type throughput struct {
	rate   float64 // events/s through the pipeline
	engine float64 // events/s of the engine generating the same rows itself
	store  float64 // events/s of store.Insert of the same rows
	cpu    cpuPerEvent
}

// ingestThroughput preloads a fresh embedded NATS with n events, then times
// the pipeline draining them into ClickHouse. Its baselines, the engine's
// own INSERT … SELECT of rows of the same shape (the target's ceiling) and
// store.Insert of the same rows in the sink's batch size, run right before
// and right after (the means are returned), so all see the same machine
// load; a baseline taken once at the start of the benchmark drifted by 2×
// against the later phases on a shared machine. Background merges run
// throughout, and each timed window starts on a quiet engine.
func ingestThroughput(ctx context.Context, db *store.DB, tenant string, n int, at time.Time, viaKafka bool) (t throughput, err error) {
	b, cleanup, err := benchBus(ctx)
	if err != nil {
		return t, err
	}
	defer cleanup()
	events := benchEvents(tenant, n, at)
	res, err := ingest.NewPublisher(b.JetStream()).Publish(ctx, events)
	if err != nil {
		return t, err
	}
	for _, e := range res {
		if e != nil {
			return t, e
		}
	}
	baselines := func(phase string) (engine, insert float64, cpu time.Duration, err error) {
		if err := settleMerges(ctx, db, 2*time.Minute); err != nil {
			return 0, 0, 0, err
		}
		if engine, err = engineEvents(ctx, db, tenant+"-engine-"+phase, n, at); err != nil {
			return 0, 0, 0, err
		}
		insert, cpu, err = rawInsert(ctx, db, tenant+"-raw-"+phase, events, at)
		return engine, insert, cpu, err
	}
	engineBefore, storeBefore, cpuBefore, err := baselines("before")
	if err != nil {
		return t, err
	}
	if err := settleMerges(ctx, db, 2*time.Minute); err != nil {
		return t, err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	// Progress is read from the sink's events counter, which counts a
	// batch once its insert returned (the rows are queryable then): polling
	// count() on the engine every 20 ms took CPU from the pipeline being
	// measured. The engine's count is checked once at the end.
	m := ingest.NewMetrics(nil)
	var broker *brokerProcess
	if viaKafka {
		if broker, err = startKafkaBroker(ctx); err != nil {
			return t, err
		}
		defer broker.close()
	}
	brokerCPU := func() time.Duration {
		if broker == nil {
			return 0
		}
		c, err := broker.cpu()
		if err != nil {
			fmt.Fprintln(os.Stderr, "ingest bench: broker CPU:", err)
		}
		return c
	}
	stopProfile, err := windowProfile(tenant)
	if err != nil {
		return t, err
	}
	defer stopProfile()
	start, cpu0, broker0 := time.Now(), processCPU(), brokerCPU()
	done, err := startPipeline(runCtx, b, db, m, viaKafka, broker)
	if err != nil {
		return t, err
	}
	finish := sync.OnceFunc(func() { stop(); done() })
	defer finish()
	for testutil.ToFloat64(m.Events) < float64(n) {
		if err := pause(ctx, 2*time.Millisecond); err != nil {
			return t, fmt.Errorf("%.0f of %d events arrived: %w", testutil.ToFloat64(m.Events), n, err)
		}
	}
	// The counter includes redelivered batches; the engine's count (events
	// deduplicates) is the truth, so a shortfall keeps the clock running.
	for {
		var c uint64
		if err := db.QueryRow(ctx, []any{&c}, "SELECT count() FROM events WHERE tenant_id = ?", tenant); err != nil {
			return t, err
		}
		if c >= uint64(n) {
			break
		}
		if err := pause(ctx, 20*time.Millisecond); err != nil {
			return t, fmt.Errorf("the sink counted %.0f events inserted but the events table holds %d of %d: %w",
				testutil.ToFloat64(m.Events), c, n, err)
		}
	}
	t.rate = float64(n) / time.Since(start).Seconds()
	t.cpu.pipeline = (processCPU() - cpu0) / time.Duration(n)
	t.cpu.broker = (brokerCPU() - broker0) / time.Duration(n)
	stopProfile()
	finish()
	engineAfter, storeAfter, cpuAfter, err := baselines("after")
	if err != nil {
		return t, err
	}
	t.engine, t.store = (engineBefore+engineAfter)/2, (storeBefore+storeAfter)/2
	t.cpu.raw = (cpuBefore + cpuAfter) / 2
	return t, nil
}

// engineEvents has the engine generate n rows shaped like benchEvents' for
// tenant (same columns, property keys and value ranges) with INSERT …
// SELECT, and returns rows/s: the ceiling the pipelines are held to.
func engineEvents(ctx context.Context, db *store.DB, tenant string, n int, at time.Time) (float64, error) {
	start := time.Now()
	err := db.Exec(ctx, `INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		SELECT ?, concat(?, '-', toString(number)),
		       ['user.login','lesson.started','lesson.completed','video.watched','quiz.submitted'][number % 5 + 1],
		       concat('user-', toString(number % 5000)), concat('s-', toString(intDiv(number, 20))),
		       toDateTime64(?, 3, 'UTC') + toIntervalMillisecond(number), toDateTime64(?, 3, 'UTC'),
		       concat('{"course_id":"c-', toString(number % 40), '","lesson_id":"l-', toString(number % 400),
		              '","score":', toString(number % 101), ',"seconds":', toString(number % 3600), '}')
		FROM numbers(?)`, tenant, tenant, at, at, uint64(n))
	if err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// rawInsert inserts events under tenant with store.Insert in the sink's
// batch size (the sink's columns and values) and returns events/s and the
// process CPU time per event.
func rawInsert(ctx context.Context, db *store.DB, tenant string, events []ingest.Event, at time.Time) (float64, time.Duration, error) {
	start, cpu0 := time.Now(), processCPU()
	for off := 0; off < len(events); off += ingest.DefaultBatchRows {
		batch := events[off:min(off+ingest.DefaultBatchRows, len(events))]
		rows := make([][]any, len(batch))
		for i, e := range batch {
			rows[i] = []any{tenant, e.ID, e.Type, e.UserID, e.SessionID, e.OccurredAt, at, store.ValidJSON(e.Properties)}
		}
		if err := db.Insert(ctx, store.Insert{Table: ingest.EventsTable, Columns: eventColumns, Rows: rows}); err != nil {
			return 0, 0, err
		}
	}
	return float64(len(events)) / time.Since(start).Seconds(), (processCPU() - cpu0) / time.Duration(len(events)), nil
}

// cpuPerEvent is the process's CPU time (every goroutine and engine thread
// in it: JetStream, ClickHouse) per event while a pipeline drained its
// backlog, and while store.Insert wrote the same rows; broker is the Kafka
// broker child's CPU per event in the pipeline's window (zero in direct
// mode).
type cpuPerEvent struct{ pipeline, raw, broker time.Duration }

func (c cpuPerEvent) String() string {
	s := fmt.Sprintf("our CPU per event %.1f µs (store.Insert %.1f µs)", micros(c.pipeline), micros(c.raw))
	if c.broker > 0 {
		s += fmt.Sprintf(", Kafka broker child %.1f µs more", micros(c.broker))
	}
	return s
}

// windowProfileEnv names a directory: when set, each throughput run writes
// a CPU profile of its timed window alone (<dir>/<tenant>.prof), without
// the preload's publishes that dominate a -cpuprofile of the whole run.
const windowProfileEnv = "ANALYTICSBENCH_INGEST_PROFILE"

// windowProfile starts the timed window's CPU profile when asked for; the
// returned stop may be called more than once.
func windowProfile(tenant string) (stop func(), err error) {
	dir := os.Getenv(windowProfileEnv)
	if dir == "" {
		return func() {}, nil
	}
	f, err := os.Create(filepath.Join(dir, tenant+".prof"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w (do not combine it with -cpuprofile)", windowProfileEnv, err)
	}
	return sync.OnceFunc(func() { pprof.StopCPUProfile(); f.Close() }), nil
}

// micros is d in microseconds.
func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }

// processCPU is the user + system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ingestLatency publishes a steady trickle and times each event from its
// publish to the first query that counts it. Delivery is in order, so a
// count of c means events 0..c-1 are visible.
func ingestLatency(ctx context.Context, db *store.DB) (p50, p95 time.Duration, err error) {
	b, cleanup, err := benchBus(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer cleanup()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done, err := startPipeline(runCtx, b, db, nil, false, nil)
	if err != nil {
		return 0, 0, err
	}
	defer func() { stop(); done() }()

	n := int(ingestLatencyRate * ingestLatencyDuration.Seconds())
	events := benchEvents(ingestTenantLatency, n, time.Now().UTC())
	published := make([]time.Time, n)
	pub := ingest.NewPublisher(b.JetStream())
	pubErr := make(chan error, 1)
	go func() {
		const tick = 50 * time.Millisecond
		per := int(ingestLatencyRate * tick.Seconds())
		next := time.Now()
		for off := 0; off < n; off += per {
			chunk := events[off:min(off+per, n)]
			now := time.Now()
			for i := range chunk {
				published[off+i] = now
			}
			if _, err := pub.Publish(ctx, chunk); err != nil {
				pubErr <- err
				return
			}
			next = next.Add(tick)
			if err := pause(ctx, time.Until(next)); err != nil {
				pubErr <- err
				return
			}
		}
		pubErr <- nil
	}()
	lat := make([]time.Duration, 0, n)
	seen := 0
	for seen < n {
		var c uint64
		if err := db.QueryRow(ctx, []any{&c}, "SELECT count() FROM events WHERE tenant_id = ?", ingestTenantLatency); err != nil {
			return 0, 0, err
		}
		now := time.Now()
		for ; seen < int(c) && seen < n; seen++ {
			lat = append(lat, now.Sub(published[seen]))
		}
		if err := pause(ctx, 20*time.Millisecond); err != nil {
			return 0, 0, err
		}
	}
	if err := <-pubErr; err != nil {
		return 0, 0, err
	}
	slices.Sort(lat)
	return lat[len(lat)/2], lat[len(lat)*95/100], nil
}

// startPipeline runs the direct consumer, or the bridge and the Kafka
// consumer on broker, until ctx ends; the returned function waits for them
// to stop.
func startPipeline(ctx context.Context, b *bus.Bus, db *store.DB, m *ingest.Metrics, viaKafka bool, broker *brokerProcess) (wait func(), err error) {
	var runners []interface{ Run(context.Context) error }
	if !viaKafka {
		runners = append(runners, ingest.NewDirectConsumer(b, db, m, nil, ingest.DirectConfig{}))
	} else {
		if broker == nil {
			return nil, fmt.Errorf("the Kafka pipeline needs a broker")
		}
		kcfg := ingest.KafkaConfig{Brokers: broker.Addrs}
		bridge, err := ingest.NewKafkaBridge(b, m, nil, ingest.BridgeConfig{Kafka: kcfg})
		if err != nil {
			return nil, err
		}
		sink, err := ingest.NewKafkaConsumer(nil, db, m, nil, ingest.KafkaConsumerConfig{Kafka: kcfg})
		if err != nil {
			return nil, err
		}
		runners = append(runners, bridge, sink)
	}
	done := make(chan error, len(runners))
	for _, r := range runners {
		go func() { done <- r.Run(ctx) }()
	}
	return func() {
		for range runners {
			if err := <-done; err != nil {
				fmt.Fprintln(os.Stderr, "ingest bench pipeline:", err)
			}
		}
	}, nil
}

// benchBus starts a fresh embedded NATS with the firehose stream.
func benchBus(ctx context.Context) (*bus.Bus, func(), error) {
	dir, err := os.MkdirTemp("", "analyticsbench-nats-*")
	if err != nil {
		return nil, nil, err
	}
	b, err := bus.Open(ctx, bus.Config{DataDir: dir})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	cleanup := func() { _ = b.Close(); os.RemoveAll(dir) }
	if _, err := ingest.EnsureStream(ctx, b.JetStream(), ingest.StreamConfig{}); err != nil {
		cleanup()
		return nil, nil, err
	}
	return b, cleanup, nil
}

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
