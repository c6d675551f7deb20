package insights

import (
	"context"
	"time"
)

// SubjectCompleted is the subject announcing a finished insight.
const SubjectCompleted = "analytics.insight.completed.v1"

// Publisher publishes outgoing events with dedup (*bus.Bus).
type Publisher interface {
	Publish(ctx context.Context, subject string, v any, msgID string) error
}

// Completed is the payload of analytics.insight.completed.v1: an insight
// reached SUCCEEDED or FAILED. It carries the verdicts, not the answer
// (read it with insight(id)).
type Completed struct {
	Tenant        string    `json:"tenant_id"`
	InsightID     string    `json:"insight_id"`
	Status        Status    `json:"status"`
	Engine        string    `json:"engine"`
	PromptVersion string    `json:"prompt_version,omitempty"`
	Kind          Kind      `json:"kind,omitempty"`
	MetricKey     string    `json:"metric_key,omitempty"`
	Grounding     string    `json:"grounding,omitempty"`
	Confidence    float64   `json:"confidence"`
	Level         string    `json:"confidence_level,omitempty"`
	ToolCalls     int       `json:"tool_calls"`
	TokensIn      int       `json:"tokens_in"`
	TokensOut     int       `json:"tokens_out"`
	LatencyMs     int64     `json:"latency_ms"`
	Error         string    `json:"error,omitempty"`
	AskedBy       string    `json:"asked_by"`
	CompletedAt   time.Time `json:"completed_at"`
}

// completedMsgID is the Nats-Msg-Id of an insight's completed event: a
// function of the insight alone, so every rerun of its task announces it
// once.
func completedMsgID(id string) string { return "insight.completed/" + id }

// announce publishes the completed event of a final insight (none without
// a publisher).
func (s *Service) announce(ctx context.Context, in *Insight) error {
	if s.cfg.Bus == nil || in.Status.Active() {
		return nil
	}
	ev := Completed{Tenant: in.Tenant, InsightID: in.ID, Status: in.Status, Engine: in.Engine, Error: in.Error, AskedBy: in.AskedBy}
	if in.FinishedAt != nil {
		ev.CompletedAt = *in.FinishedAt
	}
	if a := in.Answer; a != nil {
		ev.PromptVersion, ev.Kind, ev.MetricKey = a.Provenance.PromptVersion, a.Interpretation.Kind, a.Interpretation.MetricKey
		ev.Grounding, ev.Confidence, ev.Level = a.Grounding.Status, a.Confidence.Score, a.Confidence.Level
		ev.ToolCalls, ev.TokensIn, ev.TokensOut, ev.LatencyMs = a.Provenance.ToolCalls, a.Provenance.TokensIn, a.Provenance.TokensOut, a.Provenance.LatencyMs
	}
	return s.cfg.Bus.Publish(ctx, SubjectCompleted, ev, completedMsgID(in.ID))
}
