// Package monitors watches metrics for anomalies: a Monitor names a metric
// (with filters and top-N series per dimension value), a grain and an
// anomaly detector; an Asynq schedule per grain evaluates every active
// monitor of every tenant on the latest complete buckets through the metric
// querier, and stores one score per (monitor, series, bucket) in
// monitor_scores. It also answers forecasts and on-the-fly anomaly scores
// of any metric.
//
// The rules the package keeps:
//
//   - Replay is backfill. Detectors (package anomaly) are causal and
//     deterministic, so an evaluation queries the monitor's whole history
//     window and replays the detector over it; a backfill writes every
//     bucket of the window, a tick only the newest complete ones. Rows are
//     keyed by (tenant, monitor, series, bucket) in a ReplacingMergeTree
//     whose version is the evaluation's scheduled time, so an evaluation
//     run twice leaves the same rows.
//   - Key metrics are watched by default: every metric of a tenant with
//     KeyMetric set has a virtual monitor "key:<metricKey>" at DAY grain
//     (HOUR when the metric's default grain is HOUR). It is stored only when
//     an admin tunes it (or switches it off); until then List and the
//     schedule derive it from the metric catalog. Its first evaluation is a
//     backfill, like every monitor version's first evaluation.
//   - One series failing never stops the others: its error is recorded in
//     monitor_runs and the remaining series are scored.
package monitors

import (
	"time"

	"github.com/learnhub/analytics-service/metrics"
)

// Task kinds, schedules and limits.
const (
	KindTick     = "monitors:tick"     // one per grain on its cron: enqueues KindEvaluate per tenant
	KindEvaluate = "monitors:evaluate" // every active monitor of one tenant and grain
	KindBackfill = "monitors:backfill" // one monitor version's whole history

	// HourSpec and DaySpec are the cron schedules of the ticks: a few
	// minutes after each bucket closes, so late events have arrived.
	HourSpec = "5 * * * *"
	DaySpec  = "20 0 * * *"

	// DefaultIDPrefix prefixes the ids of the key-metric defaults.
	DefaultIDPrefix = "key:"

	// MaxTopN bounds Monitor.TopN; DefaultTopN applies to a monitor with
	// dimensions and no TopN.
	MaxTopN     = 50
	DefaultTopN = 10
	// MaxDimensions bounds Monitor.Dimensions.
	MaxDimensions = 2

	// HourHistory and DayHistory are the windows an evaluation replays
	// (buckets): 30 days of hours, 365 days (inside the default 13-month hot horizon).
	HourHistory = 720
	DayHistory  = 365
	// TickBuckets is how many of the newest complete buckets a tick
	// (re)writes, so a bucket that received late events is rescored.
	TickBuckets = 2

	// MinConfidence is the detector confidence below which no bucket is
	// flagged (the detector is still warming up).
	MinConfidence = 0.5
)

// The grains a monitor may use.
const (
	GrainHour = metrics.Grain("HOUR")
	GrainDay  = metrics.Grain("DAY")
)

// Sensitivity maps to a score threshold; a monitor may instead set
// Threshold directly.
type Sensitivity string

// The sensitivities, from fewest to most alarms.
const (
	SensitivityLow    Sensitivity = "LOW"
	SensitivityMedium Sensitivity = "MEDIUM"
	SensitivityHigh   Sensitivity = "HIGH"
)

// thresholds are the score thresholds of the sensitivities. The default
// ensemble's scores are calibrated against the series' own history, so one
// threshold serves every series: MEDIUM is the threshold that maximises the
// ensemble's NAB standard score (0.5956, docs/BENCHMARKS.md), LOW and HIGH
// one step either side.
var thresholds = map[Sensitivity]float64{
	SensitivityLow:    0.7,
	SensitivityMedium: 0.6,
	SensitivityHigh:   0.5,
}

// Monitor is one watched metric.
type Monitor struct {
	ID        string
	Name      string
	MetricKey string
	// Filters narrow the metric (the metric's own dimensions).
	Filters []metrics.Filter `json:",omitempty"`
	// Dimensions split the metric into series, at most MaxDimensions; nil
	// watches the metric as one series.
	Dimensions []string `json:",omitempty"`
	// TopN keeps the TopN biggest series per evaluation and folds the rest
	// into one "(other)" series; zero means DefaultTopN (with dimensions).
	TopN int `json:",omitempty"`
	// Grain is HOUR or DAY.
	Grain metrics.Grain
	// Detector is an anomaly.DetectorNames() name; empty means the
	// metric's default, stored on validation: "counts" for a COUNT metric
	// at DAY grain, the ensemble otherwise.
	Detector string `json:",omitempty"`
	// Sensitivity picks the score threshold; empty means MEDIUM.
	Sensitivity Sensitivity `json:",omitempty"`
	// Threshold, when above zero, is the score (0…1) at or above which a
	// bucket is anomalous, overriding Sensitivity.
	Threshold float64 `json:",omitempty"`
	// MinHistory is how many buckets of a series are scored before any is
	// flagged; zero means 14 (DAY) or 168 (HOUR).
	MinHistory int `json:",omitempty"`
	// QuietHours are hours of the day in which no bucket is flagged
	// (scores are still stored); nil means none.
	QuietHours *QuietHours `json:",omitempty"`
	// LLMReview asks the AI gateway's model to explain (EXPLAIN) or
	// re-rank within a bounded step (RERANK) the buckets the detector
	// flags (review.go); empty means OFF.
	LLMReview LLMReview `json:",omitempty"`
	Active    bool
	// Default is true for the key-metric defaults ("key:<metricKey>").
	Default   bool `json:",omitempty"`
	Version   uint64
	UpdatedAt time.Time
	UpdatedBy string
}

// QuietHours is a daily window [From, To) of hours 0–23 in Timezone; To <
// From wraps past midnight (22 → 6).
type QuietHours struct {
	From, To int
	Timezone string `json:",omitempty"` // IANA; empty means UTC
}

// Score is one scored bucket of one series of a monitor (what alert rules
// read).
type Score struct {
	MonitorID string
	Bucket    time.Time
	// Series are the dimension values of the series; empty for a monitor
	// without dimensions.
	Series map[string]string
	Value  float64
	// Expected, Lower and Upper are the detector's one-step expectation and
	// its 95% band; NaN while it warms up.
	Expected, Lower, Upper float64
	Score, Confidence      float64
	// Anomalous says the score crossed the monitor's threshold with enough
	// confidence and history, outside quiet hours.
	Anomalous bool
	Detector  string
	// Query is the metric request that produced Value, as JSON (metricKey,
	// grain, filters including the series' values, the bucket's range), so
	// a reader can reproduce it with metricQuery.
	Query       string
	EvaluatedAt time.Time
	// Review is the LLM review of the bucket, nil when there is none
	// (llmReview OFF, not a candidate, or reviewed at another score).
	Review *Review
	// gated says the bucket passed every flagging gate but the threshold
	// (history, warm-up confidence, quiet hours); set by evaluations only.
	gated bool
}

// AnomalyConfidence is the monitor's confidence that the bucket is
// anomalous — what an alert rule on CONFIDENCE compares: the score on a
// bucket the monitor flags (at its sensitivity, after the detector's
// warm-up and the monitor's minimum history, outside quiet hours), 0 on
// every other. Confidence itself only says how much history backs the
// score (1 on every bucket after the warm-up), so a rule comparing it
// would fire on every bucket. A RERANK review replaces both the flag and
// the score with its reviewed ones (bounded, see review.go).
func (s Score) AnomalyConfidence() float64 {
	if s.Review.Reranked() {
		if !s.Review.Anomalous {
			return 0
		}
		return s.Review.Confidence
	}
	if !s.Anomalous {
		return 0
	}
	return s.Score
}

// Run is one evaluation of one monitor, as monitor_runs records it.
type Run struct {
	MonitorID    string
	ScheduledFor time.Time
	Kind         string // "tick" or "backfill"
	Series       int
	Scored       int
	Errors       []SeriesError
	EvaluatedAt  time.Time
}

// SeriesError is the failure of one series (or of the whole monitor's
// query, with Series empty).
type SeriesError struct {
	Series string `json:"series"`
	Error  string `json:"error"`
}

// Run kinds.
const (
	RunTick     = "tick"
	RunBackfill = "backfill"
)

// threshold is the monitor's effective score threshold.
func (m *Monitor) threshold() float64 {
	if m.Threshold > 0 {
		return m.Threshold
	}
	if t, ok := thresholds[m.Sensitivity]; ok {
		return t
	}
	return thresholds[SensitivityMedium]
}

// minHistory is the monitor's effective MinHistory.
func (m *Monitor) minHistory() int {
	if m.MinHistory > 0 {
		return m.MinHistory
	}
	if m.Grain == GrainHour {
		return 168
	}
	return 14
}

// history is the number of buckets an evaluation replays.
func (m *Monitor) history() int {
	if m.Grain == GrainHour {
		return HourHistory
	}
	return DayHistory
}

// topN is the effective TopN (zero without dimensions: all of one series).
func (m *Monitor) topN() int {
	if len(m.Dimensions) == 0 {
		return 0
	}
	if m.TopN > 0 {
		return m.TopN
	}
	return DefaultTopN
}

// quiet says whether bucket falls in the monitor's quiet hours.
func (m *Monitor) quiet(bucket time.Time, loc *time.Location) bool {
	q := m.QuietHours
	if q == nil || q.From == q.To {
		return false
	}
	h := bucket.In(loc).Hour()
	if q.From < q.To {
		return h >= q.From && h < q.To
	}
	return h >= q.From || h < q.To
}

// EffectiveTopN is the series kept per evaluation (0 without dimensions).
func (m *Monitor) EffectiveTopN() int { return m.topN() }

// EffectiveDetector is the detector name, the default filled in.
func (m *Monitor) EffectiveDetector() string { return m.detector() }

// EffectiveSensitivity is the sensitivity, MEDIUM when unset.
func (m *Monitor) EffectiveSensitivity() Sensitivity {
	if m.Sensitivity == "" {
		return SensitivityMedium
	}
	return m.Sensitivity
}

// EffectiveThreshold is the score threshold in force.
func (m *Monitor) EffectiveThreshold() float64 { return m.threshold() }

// EffectiveMinHistory is the buckets scored before any is flagged.
func (m *Monitor) EffectiveMinHistory() int { return m.minHistory() }
