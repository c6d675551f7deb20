package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/learnhub/analytics-service/demo"
	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/store"
)

// startIngest runs the firehose: JetStream → ClickHouse directly, or, with
// Kafka brokers configured, JetStream → Kafka bridge and Kafka → ClickHouse
// consumer group. Pipeline failures are sent on errc; they stop when ctx ends.
func (a *app) startIngest(ctx context.Context, errc chan<- error) error {
	m := a.ingestMetrics
	var runs []func(context.Context) error
	if len(a.cfg.KafkaBrokers) == 0 {
		runs = append(runs, ingest.NewDirectConsumer(a.bus, a.db, m, a.log, ingest.DirectConfig{Stream: ingest.StreamConfig{Replicas: a.bus.Replicas()}, Sink: ingest.SinkConfig{Tracing: a.tracing}}).Run)
	} else {
		kcfg := ingest.KafkaConfig{Brokers: a.cfg.KafkaBrokers}
		if err := ingest.EnsureKafkaTopics(ctx, kcfg); err != nil {
			return err
		}
		br, err := ingest.NewKafkaBridge(a.bus, m, a.log, ingest.BridgeConfig{Kafka: kcfg, Stream: ingest.StreamConfig{Replicas: a.bus.Replicas()}})
		if err != nil {
			return err
		}
		kc, err := ingest.NewKafkaConsumer(a.bus.Conn(), a.db, m, a.log, ingest.KafkaConsumerConfig{Kafka: kcfg, Sink: ingest.SinkConfig{Tracing: a.tracing}})
		if err != nil {
			return err
		}
		runs = append(runs, br.Run, kc.Run)
	}
	for _, run := range runs {
		go func() {
			if err := run(ctx); err != nil {
				errc <- fmt.Errorf("ingest: %w", err)
			}
		}()
	}
	a.log.Info("ingest started", "kafka", strings.Join(a.cfg.KafkaBrokers, ","))
	return nil
}

// ingestRoute is POST /v1/events: clients that do not speak NATS publish
// onto the same firehose, with the tenant of their token; refused lines
// become dead letters like the firehose's.
func (a *app) ingestRoute() http.Handler {
	js := a.bus.JetStream()
	return ingest.HTTPHandler(ingest.NewPublisher(js).Traced(a.tracing), ingest.NewDecoder(ingest.DecoderConfig{}),
		ingest.NewDeadLetterWriter(js, a.db, a.ingestMetrics), ingest.HTTPConfig{})
}

// seedDemo publishes the demo data set through the firehose (never straight
// into ClickHouse), reporting progress on w (a bar on a terminal, plain
// lines elsewhere).
func (a *app) seedDemo(ctx context.Context, w io.Writer, opts demo.Options) (int, error) {
	p := newSeedProgress(w)
	n, err := demo.Publish(ctx, a.bus.JetStream(), opts, p.update)
	p.finish()
	return n, err
}

// demoSeeded reports whether tenant demo already has events.
func (a *app) demoSeeded(ctx context.Context) (bool, error) {
	scope, err := store.DangerousScopeForTenant(devTenant)
	if err != nil {
		return false, err
	}
	guard, tenant := scope.Predicate("")
	var n uint64
	err = a.db.QueryRow(ctx, []any{&n}, "SELECT count() FROM events WHERE "+guard+" LIMIT 1", tenant)
	return n > 0, err
}
