package insights

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/events"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// The tool names, as a model would call them.
const (
	ToolListMetrics     = "list_metrics"
	ToolDescribeEvents  = "describe_events"
	ToolQueryMetric     = "query_metric"
	ToolComparePeriods  = "compare_periods"
	ToolDetectAnomalies = "detect_anomalies"
	ToolForecast        = "forecast"
	ToolCohortSize      = "cohort_size"
	ToolRunSQL          = "run_sql"
)

// MaxSQLRows bounds the rows run_sql returns to an engine (the row budget).
const MaxSQLRows = 200

// toolRoles is the role each tool needs; the asking user's token must hold it.
var toolRoles = map[string]auth.Role{
	ToolListMetrics: auth.RoleViewer, ToolDescribeEvents: auth.RoleViewer, ToolQueryMetric: auth.RoleViewer,
	ToolComparePeriods: auth.RoleViewer, ToolDetectAnomalies: auth.RoleViewer, ToolForecast: auth.RoleViewer,
	ToolCohortSize: auth.RoleViewer, ToolRunSQL: auth.RoleAnalyst,
}

// Tools are the functions an engine may call. Each runs as the caller in
// ctx (tenant from the verified token; the role toolRoles names) and
// records its Evidence on the Session.
type Tools struct {
	Registry *metrics.Registry
	Querier  *metrics.Querier
	Events   *events.Service
	SQL      *adhoc.Service
	// Cohorts may be nil: cohort_size then says cohorts are not available.
	Cohorts *cohorts.Service
	// Now is the clock evidence times use; nil means time.Now.
	Now func() time.Time
}

// Session collects the evidence and steps of one answer. It is safe for
// concurrent tool calls.
type Session struct {
	t        *Tools
	mu       sync.Mutex
	evidence []Evidence
	calls    int
	engine   time.Duration
	onStep   func(Step)
}

// NewSession starts a session on t; onStep (may be nil) sees every step.
func (t *Tools) NewSession(onStep func(Step)) *Session {
	return &Session{t: t, onStep: onStep}
}

// Evidence returns the evidence recorded so far, in call order.
func (s *Session) Evidence() []Evidence {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.evidence)
}

// step reports a progress step.
func (s *Session) step(kind, msg string) {
	if s.onStep != nil {
		s.onStep(Step{At: s.t.now(), Kind: kind, Message: msg})
	}
}

// record appends ev with the next id and returns the id.
func (s *Session) record(ev Evidence, took time.Duration) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev.ID = "E" + strconv.Itoa(len(s.evidence)+1)
	s.evidence = append(s.evidence, ev)
	s.engine += took
	s.calls++
	return ev.ID
}

// allow checks the caller's role for tool.
func allow(ctx context.Context, tool string) error {
	if _, err := auth.Require(ctx, toolRoles[tool]); err != nil {
		return fmt.Errorf("tool %s: %w", tool, err)
	}
	return nil
}

// ListMetrics is list_metrics: the tenant's active metrics.
func (s *Session) ListMetrics(ctx context.Context) ([]*metrics.Definition, error) {
	if err := allow(ctx, ToolListMetrics); err != nil {
		return nil, err
	}
	start := time.Now()
	page, err := s.t.Registry.List(ctx, metrics.ListFilter{}, 500, "")
	if err != nil {
		return nil, err
	}
	var keys []string
	var out []*metrics.Definition
	for _, d := range page.Metrics {
		if d.Status != metrics.StatusActive {
			continue
		}
		out = append(out, d)
		keys = append(keys, d.Key)
	}
	s.record(Evidence{Tool: ToolListMetrics, Request: "{}", RanAt: s.t.now(), Rows: len(out), Labels: keys,
		Values: []Value{{Name: "metrics", Value: float64(len(out))}}}, time.Since(start))
	return out, nil
}

// DescribeEvents is describe_events: the event types of the tenant in p with counts.
func (s *Session) DescribeEvents(ctx context.Context, p Period) ([]events.TypeCount, string, error) {
	if err := allow(ctx, ToolDescribeEvents); err != nil {
		return nil, "", err
	}
	start := time.Now()
	counts, err := s.t.Events.TypeCounts(ctx, timerange.Range{From: p.From, To: p.To})
	if err != nil {
		return nil, "", err
	}
	req, _ := json.Marshal(map[string]any{"from": p.From, "to": p.To})
	ev := Evidence{Tool: ToolDescribeEvents, Request: string(req), RanAt: s.t.now(), Rows: len(counts),
		SQL: "SELECT type, count() FROM events FINAL WHERE tenant_id = ? AND occurred_at >= ? AND occurred_at < ? GROUP BY type"}
	for _, c := range counts {
		ev.Values = append(ev.Values, Value{Name: c.Type, Value: float64(c.Count)})
		ev.Labels = append(ev.Labels, c.Type)
	}
	return counts, s.record(ev, time.Since(start)), nil
}

// QueryMetric is query_metric (metricQuery): one metric request.
func (s *Session) QueryMetric(ctx context.Context, req metrics.Request) (*metrics.Result, string, error) {
	res, ids, err := s.queryMetrics(ctx, ToolQueryMetric, []metrics.Request{req})
	if err != nil {
		return nil, "", err
	}
	return res[0], ids[0], nil
}

// queryMetrics runs requests in one batch for tool and records one
// evidence per request. Any failed request fails the call with its error.
func (s *Session) queryMetrics(ctx context.Context, tool string, reqs []metrics.Request) ([]*metrics.Result, []string, error) {
	if err := allow(ctx, tool); err != nil {
		return nil, nil, err
	}
	start := time.Now()
	res, errList := s.t.Querier.QueryBatch(ctx, reqs)
	took := time.Since(start) / time.Duration(len(reqs))
	ids := make([]string, len(reqs))
	for i, req := range reqs {
		if errList[i] != nil {
			return nil, nil, errList[i]
		}
		body, err := json.Marshal(req)
		if err != nil {
			return nil, nil, errs.Wrap("insights.query", errs.KindInternal, err, "")
		}
		values, labels, rows := resultValues(res[i])
		ids[i] = s.record(Evidence{Tool: tool, Request: string(body), RanAt: s.t.now(), Rows: rows, Values: values, Labels: labels}, took)
	}
	return res, ids, nil
}

// queryMoments runs the moments of a mean metric's request (Welch's test
// in compare_periods) and records them as evidence with the bound SQL:
// count, mean and standard deviation, overall and per dimension value.
func (s *Session) queryMoments(ctx context.Context, req metrics.Request) (*metrics.MomentsResult, string, error) {
	start := time.Now()
	res, err := s.t.Querier.QueryMoments(ctx, req)
	if err != nil {
		return nil, "", err
	}
	took := time.Since(start)
	body, err := json.Marshal(req)
	if err != nil {
		return nil, "", errs.Wrap("insights.query", errs.KindInternal, err, "")
	}
	ev := Evidence{Tool: ToolComparePeriods, Request: string(body), SQL: res.SQL, RanAt: s.t.now(), Rows: max(1, len(res.Groups))}
	add := func(prefix string, m metrics.Moments) {
		ev.Values = append(ev.Values, Value{Name: prefix + "count", Value: m.Count}, Value{Name: prefix + "mean", Value: m.Mean()},
			Value{Name: prefix + "sd", Value: math.Sqrt(m.Variance())})
	}
	add("", res.Total)
	for _, g := range res.Groups {
		add(strings.Join(g.Values, "/")+"/", g)
		ev.Labels = append(ev.Labels, g.Values...)
	}
	return res, s.record(ev, took), nil
}

// RerunMetric runs a query_metric evidence again and returns its values.
func (t *Tools) RerunMetric(ctx context.Context, ev Evidence) ([]Value, error) {
	var req metrics.Request
	if err := json.Unmarshal([]byte(ev.Request), &req); err != nil {
		return nil, errs.Wrap("insights.Rerun", errs.KindInvalid, err, "evidence "+ev.ID+" holds no metric request")
	}
	res, err := t.Querier.Query(ctx, req)
	if err != nil {
		return nil, err
	}
	values, _, _ := resultValues(res)
	return values, nil
}

// resultValues names the numbers of a metric result: "total"; with
// dimensions one per series (its values joined by "/"); with a grain one
// per bucket of an undivided series (the bucket's date).
func resultValues(r *metrics.Result) ([]Value, []string, int) {
	var values []Value
	var labels []string
	rows := 0
	if v := r.Totals.Value; v != nil {
		values = append(values, Value{Name: "total", Value: *v})
	}
	for _, sr := range r.Series {
		name := strings.Join(sr.Values, "/")
		if len(r.Dimensions) > 0 {
			labels = append(labels, sr.Values...)
			rows++
			if sr.Total.Value != nil {
				values = append(values, Value{Name: name, Value: *sr.Total.Value})
			}
			continue
		}
		for _, p := range sr.Points {
			rows++
			if p.Value != nil && r.Grain != metrics.GrainTotal {
				values = append(values, Value{Name: p.Bucket.UTC().Format(time.DateOnly), Value: *p.Value})
			}
		}
	}
	return values, labels, max(rows, 1)
}

// CohortSize is cohort_size: the size of the named cohort (name or id,
// case-insensitive) at its latest good evaluation.
func (s *Session) CohortSize(ctx context.Context, name string) (*cohorts.Cohort, *cohorts.Evaluation, string, error) {
	const op = "insights.cohort_size"
	if err := allow(ctx, ToolCohortSize); err != nil {
		return nil, nil, "", err
	}
	if s.t.Cohorts == nil {
		return nil, nil, "", errs.E(op, errs.KindUnavailable, "cohorts are not available on this server")
	}
	start := time.Now()
	c, ev, err := s.t.cohortSize(ctx, name)
	if err != nil {
		return nil, nil, "", err
	}
	req, _ := json.Marshal(map[string]string{"cohort": c.ID})
	id := s.record(Evidence{Tool: ToolCohortSize, Request: string(req), RanAt: s.t.now(), Rows: 1, Labels: []string{c.Name},
		Values: []Value{{Name: "size", Value: float64(ev.Size)}, {Name: "entered", Value: float64(ev.Entered)}, {Name: "exited", Value: float64(ev.Exited)}}},
		time.Since(start))
	return c, ev, id, nil
}

func (t *Tools) cohortSize(ctx context.Context, name string) (*cohorts.Cohort, *cohorts.Evaluation, error) {
	const op = "insights.cohort_size"
	list, err := t.Cohorts.List(ctx)
	if err != nil {
		return nil, nil, err
	}
	var found *cohorts.Cohort
	var names []string
	for _, c := range list {
		names = append(names, c.Name)
		if strings.EqualFold(c.Name, name) || c.ID == name {
			found = c
		}
	}
	if found == nil {
		return nil, nil, errs.E(op, errs.KindNotFound, fmt.Sprintf("no cohort named %q; the tenant has %s", name, quoteList(names)))
	}
	hist, err := t.Cohorts.History(ctx, found.ID, 20)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range hist {
		if e.Error == "" {
			return found, e, nil
		}
	}
	return nil, nil, errs.E(op, errs.KindNotFound, fmt.Sprintf("cohort %q has not been evaluated yet; evaluate it first", found.Name))
}

// RunSQL is run_sql: tenant SQL through the ad-hoc sandbox (the same
// grammar, guards, limits and audit as eventsQuery), analysts only, at most
// MaxSQLRows rows.
func (s *Session) RunSQL(ctx context.Context, sql string) (*adhoc.Result, string, error) {
	if err := allow(ctx, ToolRunSQL); err != nil {
		return nil, "", err
	}
	start := time.Now()
	res, err := s.t.SQL.Run(ctx, sql, MaxSQLRows)
	if err != nil {
		return nil, "", err
	}
	ev := Evidence{Tool: ToolRunSQL, Request: sql, SQL: sql, RanAt: s.t.now(), Rows: len(res.Rows)}
	ev.Values, ev.Labels = sqlValues(res)
	return res, s.record(ev, time.Since(start)), nil
}

// sqlValues names the numeric cells of a result "r<row>.<column>" and
// keeps its text cells as labels.
func sqlValues(res *adhoc.Result) ([]Value, []string) {
	var values []Value
	var labels []string
	for i, row := range res.Rows {
		for j, cell := range row {
			name := "r" + strconv.Itoa(i+1) + "." + res.Columns[j].Name
			switch v := cell.(type) {
			case float64:
				values = append(values, Value{Name: name, Value: v})
			case int64:
				values = append(values, Value{Name: name, Value: float64(v)})
			case uint64:
				values = append(values, Value{Name: name, Value: float64(v)})
			case string:
				labels = append(labels, v)
			}
		}
	}
	return values, labels
}

func (t *Tools) now() time.Time {
	if t.Now != nil {
		return t.Now().UTC()
	}
	return time.Now().UTC()
}

// quoteList renders names as "a", "b" for messages ("none" when empty).
func quoteList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
