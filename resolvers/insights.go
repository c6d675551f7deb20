package resolvers

import (
	"encoding/json"
	"strings"

	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/insights"
	"github.com/learnhub/analytics-service/timerange"
)

// toInsightContext resolves the askInsight context: the time range becomes
// absolute now, so the worker answers the window the user saw.
func (r *Resolver) toInsightContext(in *model.InsightContextInput) (insights.Context, error) {
	var qc insights.Context
	if in == nil {
		return qc, nil
	}
	qc.MetricKey, qc.DashboardID = deref(in.MetricKey), deref(in.DashboardID)
	if in.TimeRange != nil {
		rng, err := timerange.Resolve(timeSpec(*in.TimeRange), r.now(), "context.timeRange")
		if err != nil {
			return qc, err
		}
		qc.From, qc.To = &rng.From, &rng.To
	}
	for _, f := range toMetricFilters(in.Filters) {
		qc.Filters = append(qc.Filters, insights.Condition{Dimension: f.Dimension, Op: string(f.Op), Values: f.Values})
	}
	return qc, nil
}

func toModelInsight(in *insights.Insight) *model.Insight {
	m := &model.Insight{ID: in.ID, Question: in.Question, Status: model.InsightStatus(in.Status), Engine: in.Engine, AskedBy: in.AskedBy,
		CreatedAt: in.CreatedAt, StartedAt: in.StartedAt, FinishedAt: in.FinishedAt, Steps: []*model.InsightStep{},
		Findings: []*model.InsightFinding{}, Charts: []*model.InsightChart{}, Evidence: []*model.InsightEvidence{}}
	if in.Error != "" {
		m.Error = &in.Error
	}
	for _, s := range in.Steps {
		m.Steps = append(m.Steps, &model.InsightStep{At: s.At, Kind: s.Kind, Message: s.Message})
	}
	a := in.Answer
	if a == nil {
		return m
	}
	m.Explanation = &a.Explanation
	m.Interpretation = toModelInterpretation(a.Interpretation)
	for _, f := range a.Findings {
		m.Findings = append(m.Findings, &model.InsightFinding{Text: f.Text, Evidence: f.Evidence})
	}
	for _, c := range a.Charts {
		m.Charts = append(m.Charts, &model.InsightChart{Type: c.Type, Title: c.Title, X: c.X, Series: jsonAny(c.Series), Evidence: c.Evidence})
	}
	for _, e := range a.Evidence {
		me := &model.InsightEvidence{ID: e.ID, Tool: e.Tool, Request: e.Request, RanAt: e.RanAt, Rows: e.Rows, Values: jsonAny(e.Values), Labels: e.Labels}
		if e.SQL != "" {
			me.SQL = &e.SQL
		}
		if me.Labels == nil {
			me.Labels = []string{}
		}
		m.Evidence = append(m.Evidence, me)
	}
	g := a.Grounding
	m.Grounding = &model.InsightGrounding{Status: g.Status, Checked: g.Checked, Ungrounded: g.Ungrounded, Grounded: jsonAny(g.Grounded), Rules: g.Rules}
	m.Confidence = &model.InsightConfidence{Score: a.Confidence.Score, Level: a.Confidence.Level, Reasons: a.Confidence.Reasons}
	p := a.Provenance
	m.Provenance = &model.AIProvenance{Engine: p.Engine, PromptVersion: p.PromptVersion, ToolCalls: p.ToolCalls, TokensIn: p.TokensIn,
		TokensOut: p.TokensOut, LatencyMs: int(p.LatencyMs), EngineMs: int(p.EngineMs), CostUsd: p.CostUSD}
	return m
}

func toModelInterpretation(in insights.Interpretation) *model.InsightInterpretation {
	m := &model.InsightInterpretation{Kind: string(in.Kind), Tokens: jsonAny(in.Tokens), Assumptions: in.Assumptions}
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	m.MetricKey, m.MetricName, m.Dimension, m.Cohort = opt(in.MetricKey), opt(in.MetricName), opt(in.Dimension), opt(in.Cohort)
	if in.Horizon > 0 {
		m.Horizon = &in.Horizon
	}
	if len(in.Filters) > 0 {
		m.Filters = jsonAny(in.Filters)
	}
	period := func(p *insights.Period) *model.InsightPeriod {
		if p == nil {
			return nil
		}
		return &model.InsightPeriod{From: p.From, To: p.To, Label: p.Label}
	}
	m.Period, m.Compare = period(in.Period), period(in.Compare)
	if m.Assumptions == nil {
		m.Assumptions = []string{}
	}
	m.Problems = in.Problems
	if m.Problems == nil {
		m.Problems = []string{}
	}
	return m
}

// jsonAny turns a Go value into the plain maps and slices the JSON scalar
// writes.
func jsonAny(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return nil
	}
	return out
}

func engineName(e *model.InsightEngine) string {
	if e == nil {
		return ""
	}
	return strings.ToUpper(string(*e))
}
