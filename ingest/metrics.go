package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the firehose's Prometheus instruments.
type Metrics struct {
	// Lag is how many events wait in the source, by consumer (JetStream
	// NumPending of the durable, or the Kafka reader's lag).
	Lag *prometheus.GaugeVec
	// BatchRows is the size of each committed batch (valid events).
	BatchRows prometheus.Histogram
	// InsertSeconds times each ClickHouse insert attempt, by outcome.
	InsertSeconds *prometheus.HistogramVec
	// EndToEndSeconds is, per event, the time from its arrival in the
	// firehose (JetStream timestamp) to its batch being inserted.
	EndToEndSeconds prometheus.Histogram
	// Events counts events committed to ClickHouse.
	Events prometheus.Counter
	// DeadLetters counts refused envelopes by reason code.
	DeadLetters *prometheus.CounterVec
	// Retries counts failed attempts that will be retried, by stage
	// (insert, dead_letters, kafka, dlq).
	Retries *prometheus.CounterVec
}

// NewMetrics builds the instruments and registers them on reg (nil: not
// registered, for tests and tools).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "analytics", Subsystem: "ingest", Name: "consumer_lag_events",
			Help: "Events waiting in the source (JetStream pending or Kafka lag), by consumer.",
		}, []string{"consumer"}),
		BatchRows: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "analytics", Subsystem: "ingest", Name: "batch_rows",
			Help:    "Valid events per committed batch.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 10),
		}),
		InsertSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "analytics", Subsystem: "ingest", Name: "insert_duration_seconds",
			Help:    "ClickHouse batch insert attempts by outcome (ok, error).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"outcome"}),
		EndToEndSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "analytics", Subsystem: "ingest", Name: "end_to_end_seconds",
			Help:    "From an event's arrival in JetStream to its batch being inserted into ClickHouse.",
			Buckets: []float64{.05, .1, .25, .5, .75, 1, 1.5, 2, 3, 5, 10, 30, 60},
		}),
		Events: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "analytics", Subsystem: "ingest", Name: "events_total",
			Help: "Events committed to ClickHouse (redeliveries included).",
		}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "analytics", Subsystem: "ingest", Name: "dead_letters_total",
			Help: "Envelopes refused and sent to the dead-letter destination, by reason code.",
		}, []string{"reason"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "analytics", Subsystem: "ingest", Name: "retries_total",
			Help: "Failed attempts that are retried with backoff, by stage.",
		}, []string{"stage"}),
	}
	// Counters at zero from the start: rate() alerts and dashboards see a
	// series before the first failure.
	for _, o := range []string{"ok", "error"} {
		m.InsertSeconds.WithLabelValues(o)
	}
	for _, stage := range []string{"insert", "dlq", "dead_letters", "kafka"} {
		m.Retries.WithLabelValues(stage)
	}
	for _, r := range []Reason{ReasonTooLarge, ReasonInvalidJSON, ReasonMissingField, ReasonInvalidField, ReasonInvalidTenant,
		ReasonInvalidType, ReasonInvalidSubject, ReasonTenantMismatch, ReasonTypeMismatch, ReasonInvalidTime, ReasonTimeInFuture,
		ReasonTimeTooOld, ReasonInvalidProperties, ReasonInvalidProperty, ReasonRejectedByStore, ReasonTooDeep} {
		m.DeadLetters.WithLabelValues(string(r))
	}
	if reg != nil {
		reg.MustRegister(m.Lag, m.BatchRows, m.InsertSeconds, m.EndToEndSeconds, m.Events, m.DeadLetters, m.Retries)
	}
	return m
}
