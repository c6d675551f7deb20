package alerts

import (
	"context"
	"time"
)

// EventPayload is the body of analytics.alert.triggered.v1 and
// analytics.alert.resolved.v1 (docs/events.md), and of the alertEvents
// subscription.
type EventPayload struct {
	// ID is the idempotency key of the transition, also its Nats-Msg-Id.
	ID        string            `json:"id"`
	Event     Event             `json:"event"`
	Tenant    string            `json:"tenant_id"`
	RuleID    string            `json:"rule_id"`
	RuleName  string            `json:"rule_name"`
	Kind      Kind              `json:"kind"`
	MonitorID string            `json:"monitor_id,omitempty"`
	MetricKey string            `json:"metric_key"`
	Series    map[string]string `json:"series"`
	// Bucket is the start of the evaluated bucket; BucketEnd its end (and
	// the evaluation time of the state machine).
	Bucket    time.Time `json:"bucket"`
	BucketEnd time.Time `json:"bucket_end"`
	// FiredBucket is the bucket the alert fired in (for resolved: the
	// bucket of the matching triggered event).
	FiredBucket   time.Time  `json:"fired_bucket"`
	PreviousState State      `json:"previous_state"`
	State         State      `json:"state"`
	Value         *float64   `json:"value"`
	Expected      *float64   `json:"expected"`
	Lower         *float64   `json:"lower"`
	Upper         *float64   `json:"upper"`
	Confidence    *float64   `json:"confidence"`
	Score         *float64   `json:"score"`
	ChangePercent *float64   `json:"change_percent,omitempty"`
	Comparator    Comparator `json:"comparator"`
	Threshold     float64    `json:"threshold"`
	Detector      string     `json:"detector"`
	// Query is the metric query that produced Value (JSON), so a reader
	// can reproduce it.
	Query string `json:"query"`
	// Error is the evaluation's failure when the series left FIRING for ERROR.
	Error string `json:"error,omitempty"`
	// Muted is true while the rule is snoozed: the event is published, no
	// one is notified.
	Muted bool `json:"muted"`
	// Explanation is the LLM review's explanation of the bucket and
	// ReviewedBy its model, when the monitor has llmReview on and the
	// review succeeded (ANOMALY only).
	Explanation string `json:"explanation,omitempty"`
	ReviewedBy  string `json:"reviewed_by,omitempty"`
}

// Subject is the NATS subject of the event.
func (e *EventPayload) Subject() string {
	if e.Event == EventTriggered {
		return SubjectTriggered
	}
	return SubjectResolved
}

func newEvent(rule *Rule, o observation, tr Transition, bucket, fired, at time.Time) *EventPayload {
	key := seriesKey(o.Labels)
	return &EventPayload{
		ID:    idempotencyKey(rule.Tenant, rule.ID, key, fired.UTC().Format(time.RFC3339Nano), bucket.UTC().Format(time.RFC3339Nano), string(tr.Event)),
		Event: tr.Event, Tenant: rule.Tenant, RuleID: rule.ID, RuleName: rule.Name, Kind: rule.Kind, MonitorID: rule.MonitorID,
		MetricKey: rule.MetricKey, Series: nonNilMap(o.Labels), Bucket: bucket, BucketEnd: at, FiredBucket: fired,
		PreviousState: tr.From, State: tr.To, Value: o.Value, Expected: o.Expected, Lower: o.Lower, Upper: o.Upper,
		Confidence: o.Confidence, Score: o.Score, ChangePercent: o.Change, Comparator: rule.Comparator, Threshold: rule.Threshold,
		Detector: o.Detector, Query: o.Query, Error: o.Err, Muted: rule.Muted(at),
		Explanation: o.Explanation, ReviewedBy: o.ReviewedBy,
	}
}

// publish sends an event with Nats-Msg-Id = its idempotency key, so a
// retried evaluation or a second replica stores it once.
func (s *Service) publish(ctx context.Context, e *EventPayload) error {
	if s.deps.Bus == nil {
		return nil
	}
	return s.deps.Bus.Publish(ctx, e.Subject(), e, "alert."+string(e.Event)+"/"+e.ID)
}
