// Package insights answers questions about a tenant's data ("Why did course
// completions drop in March?") with an explanation, findings, charts and a
// confidence, in which every number is traced to the tool call that
// produced it.
//
// The rule the package keeps: no number reaches the caller unchecked. Every
// tool call (tools.go) runs as the asking user — tenant from the verified
// token, role checks per tool — and yields Evidence: the request or bound
// SQL, when it ran, its row count and the values it returned. Grounding
// (grounding.go) extracts every number of the explanation and findings and
// matches it against those values (with stated rounding rules, and percent
// changes recomputed from cited values); an answer with any unmatched
// number is UNGROUNDED and its confidence is capped.
//
// Engines: the built-in analyst (analyst.go, the default) parses the
// question deterministically against the tenant's metric catalog
// (parse.go) and calls the same tools a model would; driver analysis
// (drivers.go) decomposes a change by each dimension of the metric. The
// optional AI gateway (gateway.go) lets an OpenAI-compatible model call the
// same tools; without ANALYTICS_AI_URL asking for it is ErrGatewayUnavailable.
//
// Insights run as Asynq tasks (jobs.go, queue "insights"); their rows live in
// ClickHouse (migration 0015_insights.sql): insights (versioned,
// ReplacingMergeTree) and insight_feedback (one rating per user and insight).
package insights

import (
	"time"
)

// Engines and versions recorded in provenance.
const (
	EngineBuiltin = "builtin"
	// PromptVersion versions the built-in analyst's parser and wording; it
	// changes whenever either changes, so ratings can be grouped by it.
	PromptVersion = "builtin-analyst/v1"
)

// Status is an insight's lifecycle state.
type Status string

// The statuses: QUEUED → RUNNING → SUCCEEDED or FAILED.
const (
	StatusQueued    Status = "QUEUED"
	StatusRunning   Status = "RUNNING"
	StatusSucceeded Status = "SUCCEEDED"
	StatusFailed    Status = "FAILED"
)

// Active reports whether the insight may still change.
func (s Status) Active() bool { return s == StatusQueued || s == StatusRunning }

// Kind is the kind of question the analyst recognised.
type Kind string

// The question kinds of the built-in analyst.
const (
	KindWhatIs      Kind = "WHAT_IS"      // a metric's value over a period
	KindByDimension Kind = "BY_DIMENSION" // a metric over a period split by a dimension
	KindWhyChanged  Kind = "WHY_CHANGED"  // driver analysis between two periods
	KindUnusual     Kind = "UNUSUAL"      // anomaly detection over a daily series
	KindForecast    Kind = "FORECAST"     // forecast of a daily series
	KindCohort      Kind = "COHORT"       // the size of a cohort
	KindDeclined    Kind = "DECLINED"     // not understood; answered honestly
	KindModel       Kind = "MODEL"        // the AI gateway's answer resting on no metric tool call (free form)
)

// Context narrows a question: the GraphQL askInsight context.
type Context struct {
	MetricKey   string      `json:"metricKey,omitempty"`
	DashboardID string      `json:"dashboardId,omitempty"`
	From        *time.Time  `json:"from,omitempty"`
	To          *time.Time  `json:"to,omitempty"`
	Filters     []Condition `json:"filters,omitempty"`
}

// Condition is a filter of the context or the interpretation.
type Condition struct {
	Dimension string   `json:"dimension"`
	Op        string   `json:"op"`
	Values    []string `json:"values"`
}

// Period is a resolved window [From, To) with a label for people.
type Period struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Label string    `json:"label"`
}

// Interpretation is what the engine understood, echoed back so the caller
// sees what was answered.
type Interpretation struct {
	Kind       Kind        `json:"kind"`
	MetricKey  string      `json:"metricKey,omitempty"`
	MetricName string      `json:"metricName,omitempty"`
	Period     *Period     `json:"period,omitempty"`
	Compare    *Period     `json:"compare,omitempty"`
	Dimension  string      `json:"dimension,omitempty"`
	Filters    []Condition `json:"filters,omitempty"`
	Cohort     string      `json:"cohort,omitempty"`
	Horizon    int         `json:"horizon,omitempty"` // forecast days
	// Tokens are the words of the question and what each was read as.
	Tokens []Token `json:"tokens"`
	// Assumptions are defaults filled in because the question did not say.
	Assumptions []string `json:"assumptions,omitempty"`
	// Problems are parts of the interpretation an engine stated that did not
	// hold against the catalog or the tool calls (the gateway's model); each
	// lowers the confidence.
	Problems []string `json:"problems,omitempty"`
}

// Token is one recognised phrase of the question.
type Token struct {
	Text string `json:"text"`
	Role string `json:"role"` // metric, period, compare, dimension, kind, cohort
	Read string `json:"read"` // what it was read as
}

// Evidence is one tool call's record: enough to run it again and compare.
type Evidence struct {
	ID   string `json:"id"` // E1, E2 … in call order
	Tool string `json:"tool"`
	// Request is the tool's arguments as JSON (a metric request, a period
	// pair, SQL text with its arguments).
	Request string `json:"request"`
	// SQL is the bound SQL when the tool ran SQL itself (run_sql,
	// describe_events); empty for tools that go through the metric layer.
	SQL   string    `json:"sql,omitempty"`
	RanAt time.Time `json:"ranAt"`
	Rows  int       `json:"rows"`
	// Values are the numbers the tool returned, by name (e.g. total,
	// "course=demo-course-03/current").
	Values []Value `json:"values"`
	// Labels are the text values it returned (dimension values, names):
	// identifiers the text may quote.
	Labels []string `json:"labels,omitempty"`
	Error  string   `json:"error,omitempty"`
}

// Value is one named number of an Evidence.
type Value struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// Finding is one statement of the answer with the evidence it rests on.
type Finding struct {
	Text     string   `json:"text"`
	Evidence []string `json:"evidence"`
}

// Chart is data plus a small spec any widget can draw.
type Chart struct {
	Type   string        `json:"type"` // line, bar or table
	Title  string        `json:"title"`
	X      string        `json:"x"`
	Series []ChartSeries `json:"series"`
	// Evidence is the id of the evidence the data came from.
	Evidence string `json:"evidence"`
}

// ChartSeries is one y series of a chart.
type ChartSeries struct {
	Name   string    `json:"name"`
	X      []string  `json:"x"`
	Y      []float64 `json:"y"`
	YLabel string    `json:"yLabel,omitempty"`
}

// Grounding is the number check's verdict.
type Grounding struct {
	Status     string          `json:"status"` // GROUNDED or UNGROUNDED
	Checked    int             `json:"checked"`
	Grounded   []GroundedValue `json:"grounded"`
	Ungrounded []string        `json:"ungrounded"`
	Rules      string          `json:"rules"`
}

// The grounding statuses.
const (
	Grounded   = "GROUNDED"
	Ungrounded = "UNGROUNDED"
)

// GroundedValue is one number of the text and where it came from.
type GroundedValue struct {
	Text     string `json:"text"`
	Evidence string `json:"evidence"` // evidence id
	Source   string `json:"source"`   // value name, or "a vs b" for a derived percent
	Derived  bool   `json:"derived"`
}

// Confidence is a score in [0, 1] with its level and reasons.
type Confidence struct {
	Score   float64  `json:"score"`
	Level   string   `json:"level"` // HIGH, MEDIUM, LOW
	Reasons []string `json:"reasons"`
}

// Provenance records how an answer was made (AIProvenance in GraphQL).
type Provenance struct {
	Engine        string  `json:"engine"`
	PromptVersion string  `json:"promptVersion"`
	ToolCalls     int     `json:"toolCalls"`
	TokensIn      int     `json:"tokensIn"`
	TokensOut     int     `json:"tokensOut"`
	LatencyMs     int64   `json:"latencyMs"`
	EngineMs      int64   `json:"engineMs"` // time spent in tool calls
	CostUSD       float64 `json:"costUsd"`
}

// Step is one progress step streamed by insightProgress.
type Step struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"` // interpretation, tool_call, tool_result, text, done, error
	Message string    `json:"message"`
}

// Answer is what an engine produces for a question.
type Answer struct {
	Interpretation Interpretation `json:"interpretation"`
	Explanation    string         `json:"explanation"`
	Findings       []Finding      `json:"findings"`
	Charts         []Chart        `json:"charts"`
	Evidence       []Evidence     `json:"evidence"`
	// Key are the answer's key numbers by name (total; each series; current
	// and previous; each flagged day; history and forecast totals; cohort
	// size): what the gold set scores.
	Key        []Value    `json:"key"`
	Grounding  Grounding  `json:"grounding"`
	Confidence Confidence `json:"confidence"`
	Provenance Provenance `json:"provenance"`
}

// Insight is one asked question and, once done, its answer.
type Insight struct {
	ID        string
	Tenant    string
	Question  string
	Context   Context
	Engine    string
	Status    Status
	AskedBy   string
	Answer    *Answer // nil until SUCCEEDED
	Steps     []Step
	Error     string
	Version   uint64
	CreatedAt time.Time
	StartedAt *time.Time
	// FinishedAt is set with SUCCEEDED or FAILED.
	FinishedAt *time.Time
	UpdatedAt  time.Time
}

// Rating is one user's feedback on an insight.
type Rating struct {
	InsightID string
	RatedBy   string
	Useful    bool
	Comment   string
	RatedAt   time.Time
}

// Page is one page of insights, newest first.
type Page struct {
	Insights  []*Insight
	HasNext   bool
	EndCursor string
}
