// Package alerts watches metrics for the tenant and tells its admins when
// one breaks: alert rules (a threshold, a relative change against the
// previous period, or a monitor's anomaly confidence), a pure per-series
// state machine after Grafana's (NORMAL → PENDING → FIRING → RECOVERING →
// NORMAL, plus NO_DATA and ERROR with a configurable treatment), the state
// history with values, the outgoing events analytics.alert.triggered.v1 and
// analytics.alert.resolved.v1, and grouped notifications (email, signed
// webhook, the in-app alertEvents feed).
//
// The rule the package keeps: every transition is announced exactly once.
// Evaluation is a deterministic function of (rule, bucket, previous state,
// data), every key it writes is derived from (tenant, rule, series,
// transition bucket) — the Nats-Msg-Id of an event, the TaskID of a
// notification and the key of its delivery log — so a retried tick, a
// second scheduler replica or a restarted worker re-derives the same keys
// and sends nothing twice.
//
// Storage (migration 0014_alerts.sql): alert_rules (definitions),
// alert_states (current state per series), alert_rule_status (last
// evaluated bucket and error per rule), alert_history (one row per series
// and evaluated bucket), alert_deliveries (the notification delivery log)
// and alert_channels (where a tenant's admins are notified).
package alerts

import (
	"context"
	"time"

	"github.com/learnhub/analytics-service/metrics"
)

// Events (docs/events.md).
const (
	// SubjectTriggered announces a series entering FIRING.
	SubjectTriggered = "analytics.alert.triggered.v1"
	// SubjectResolved announces a FIRING (or RECOVERING) series leaving it.
	SubjectResolved = "analytics.alert.resolved.v1"
)

// Job kinds (see Jobs).
const (
	KindTick   = "alerts:tick"
	KindNotify = "alerts:notify"
)

// Kind is what a rule watches.
type Kind string

// The rule kinds.
const (
	// KindThreshold fires when the metric's value is above (below) Threshold.
	KindThreshold Kind = "THRESHOLD"
	// KindRelativeChange fires when the change against the previous period,
	// in percent, is above (below) Threshold (e.g. BELOW -30 for a 30 % drop).
	KindRelativeChange Kind = "RELATIVE_CHANGE"
	// KindAnomaly fires when a monitor's confidence (or score) for the bucket
	// is above Threshold.
	KindAnomaly Kind = "ANOMALY"
)

// Comparator says on which side of the threshold a value breaks the rule.
type Comparator string

// The comparators.
const (
	Above Comparator = "ABOVE"
	Below Comparator = "BELOW"
)

// ScoreField is what an ANOMALY rule compares with its threshold.
type ScoreField string

// The score fields.
const (
	FieldConfidence ScoreField = "CONFIDENCE"
	FieldScore      ScoreField = "SCORE"
)

// Treatment says what a NO_DATA or ERROR evaluation does to a series.
type Treatment string

// The treatments.
const (
	// TreatAsNoData (for missing data) and TreatAsError (for a failed
	// evaluation) move the series to the NO_DATA or ERROR state.
	TreatAsNoData Treatment = "NO_DATA"
	TreatAsError  Treatment = "ERROR"
	// TreatAlerting counts the evaluation as a breach.
	TreatAlerting Treatment = "ALERTING"
	// TreatOK counts the evaluation as normal.
	TreatOK Treatment = "OK"
	// TreatKeepLast leaves the series in the state it is in.
	TreatKeepLast Treatment = "KEEP_LAST"
)

// ChannelKind is how a notification reaches people.
type ChannelKind string

// The channel kinds.
const (
	ChannelEmail   ChannelKind = "EMAIL"
	ChannelWebhook ChannelKind = "WEBHOOK"
)

// Channel is one destination of a rule's notifications.
type Channel struct {
	Kind ChannelKind `json:"kind"`
	// To are the recipients (EMAIL).
	To []string `json:"to,omitempty"`
	// URL receives the signed POST (WEBHOOK).
	URL string `json:"url,omitempty"`
	// Secret keys the webhook's HMAC signature; write-only.
	Secret string `json:"secret,omitempty"`
}

// Input is what an admin writes on Create and Update.
type Input struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// MetricKey is the watched metric (THRESHOLD, RELATIVE_CHANGE; for
	// ANOMALY the monitor's metric, shown in events).
	MetricKey string `json:"metricKey"`
	// Filters narrow the metric; Dimensions split it into series (each
	// series is evaluated on its own).
	Filters    []metrics.Filter `json:"filters,omitempty"`
	Dimensions []string         `json:"dimensions,omitempty"`
	// Grain is the bucket the rule evaluates, once per completed bucket.
	Grain metrics.Grain `json:"grain"`
	// MonitorID is the monitor whose scores an ANOMALY rule reads.
	MonitorID  string     `json:"monitorId,omitempty"`
	Comparator Comparator `json:"comparator,omitempty"`
	Threshold  float64    `json:"threshold"`
	// ScoreField is what an ANOMALY rule compares; empty means CONFIDENCE.
	ScoreField ScoreField `json:"scoreField,omitempty"`
	// For is how long the condition must hold before FIRING (PENDING
	// meanwhile); zero fires on the first breach.
	For time.Duration `json:"for"`
	// KeepFiringFor keeps a series FIRING (as RECOVERING) this long after
	// the condition cleared; zero resolves at once.
	KeepFiringFor time.Duration `json:"keepFiringFor"`
	// NoData and OnError are the treatments of missing data and of a failed
	// evaluation; empty means NO_DATA and ERROR.
	NoData  Treatment `json:"noData,omitempty"`
	OnError Treatment `json:"onError,omitempty"`
	// SnoozedUntil mutes notifications (not evaluation, history or events)
	// until then.
	SnoozedUntil *time.Time `json:"snoozedUntil,omitempty"`
	// NotifyAdmins sends notifications to the tenant's alert channels (see
	// ChannelSettings); Channels are extra destinations of this rule.
	NotifyAdmins bool      `json:"notifyAdmins"`
	Channels     []Channel `json:"channels,omitempty"`
	// RepeatInterval re-sends a notification while series stay FIRING;
	// zero means DefaultRepeatInterval.
	RepeatInterval time.Duration `json:"repeatInterval"`
	Enabled        bool          `json:"enabled"`
}

// Rule is a stored (or virtual default) rule.
type Rule struct {
	ID     string
	Tenant string
	Input
	// Default marks a key-metric default rule; Virtual means it was never
	// tuned, so it is not stored and follows the built-in defaults.
	Default   bool
	Virtual   bool
	Owner     string
	Version   uint64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Muted reports whether notifications of r are snoozed at now.
func (r *Rule) Muted(now time.Time) bool {
	return r.SnoozedUntil != nil && now.Before(*r.SnoozedUntil)
}

// AnomalyPoint is one bucket's score of one monitor series, as the monitors
// package stores it.
type AnomalyPoint struct {
	Bucket     time.Time
	Series     map[string]string
	Value      float64
	Expected   float64
	Lower      float64
	Upper      float64
	Score      float64
	Confidence float64
	Detector   string
	// Query is the metric query that produced Value, so a reader can
	// reproduce it.
	Query string
	// Explanation and ReviewedBy are the monitor's LLM review of the
	// bucket (its explanation and model), empty without one.
	Explanation, ReviewedBy string
}

// AnomalySource reads a monitor's per-bucket scores for a tenant
// (package monitors; the composition root adapts it). Points are those
// with from <= Bucket < to.
type AnomalySource interface {
	Scores(ctx context.Context, tenant, monitorID string, from, to time.Time) ([]AnomalyPoint, error)
}

// AnomalyReadiness is optionally implemented by an AnomalySource: whether
// the monitor has been evaluated for the buckets before to. An ANOMALY rule
// waits for its monitor (at most one more bucket) instead of reading
// NO_DATA from scores not written yet: the monitors' DAY tick runs at 00:20
// UTC, after the alerts' ticks at 00:00–00:15, and a freshly loaded tenant
// is scored by a catch-up that takes a while.
type AnomalyReadiness interface {
	Evaluated(ctx context.Context, tenant, monitorID string, to time.Time) (bool, error)
}

// MetricQuerier answers metric requests (*metrics.Querier).
type MetricQuerier interface {
	Query(ctx context.Context, req metrics.Request) (*metrics.Result, error)
}

// ChannelSettings are where a tenant's admins receive alert notifications
// (setAlertChannels): the rules with NotifyAdmins (every default rule)
// send there.
type ChannelSettings struct {
	Tenant        string
	Emails        []string
	WebhookURL    string
	WebhookSecret string
	Version       uint64
	UpdatedAt     time.Time
}

// HistoryEntry is one evaluation of one series (table alert_history).
type HistoryEntry struct {
	Tenant    string
	RuleID    string
	SeriesKey string
	Series    map[string]string
	Bucket    time.Time
	From      State
	State     State
	Value     *float64
	Expected  *float64
	Error     string
	At        time.Time
}

// Transitioned reports whether the evaluation changed the state.
func (h HistoryEntry) Transitioned() bool { return h.From != h.State }
