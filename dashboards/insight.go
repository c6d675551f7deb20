package dashboards

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
)

// INSIGHT widgets pin one chart of an answered insight (package insights)
// to a dashboard. The chart is a stored answer, a snapshot of the data when
// the question was answered: it does not follow the dashboard's window or
// filters (a notice says so for each filter), and its render carries the
// insight's question, confidence, grounding and time so a viewer reads it
// as such. The insight must be the tenant's and SUCCEEDED when the widget
// is saved; at render it is read again through the caller's tenant, so a
// widget can never show another tenant's insight. Renders read the stored
// row (one keyed read) and cache nothing.

// Insights reads answered insights of the caller's tenant (the tenant in
// ctx) for INSIGHT widgets (*insights.Service implements it). A missing
// insight, or another tenant's, is KindNotFound.
type Insights interface {
	InsightSnapshot(ctx context.Context, id string) (*InsightSnapshot, error)
}

// InsightRef names the chart an INSIGHT widget shows.
type InsightRef struct {
	InsightID string
	// Chart is the index of the chart in the insight's charts (0 is the first).
	Chart int
}

// InsightSnapshot is an insight as a dashboard shows it: what was asked,
// how sure the answer is, and its charts.
type InsightSnapshot struct {
	ID       string
	Question string
	// Status is QUEUED, RUNNING, SUCCEEDED or FAILED; only SUCCEEDED
	// insights have charts to pin.
	Status string
	// ConfidenceLevel is HIGH, MEDIUM, LOW or NONE, with its score 0–1.
	ConfidenceLevel string
	ConfidenceScore float64
	// Grounding is GROUNDED or UNGROUNDED.
	Grounding string
	// AsOf is when the question was asked: the data is as of then.
	AsOf   time.Time
	Charts []InsightChart
}

// InsightChart is one chart of an insight: a spec (type line, bar or
// table; the x axis name; a title) and its series.
type InsightChart struct {
	Type     string
	Title    string
	X        string
	Series   []InsightSeries
	Evidence string // the evidence id the data came from
}

// InsightSeries is one y series of an insight chart.
type InsightSeries struct {
	Name   string
	X      []string
	Y      []float64
	YLabel string `json:",omitempty"`
}

// InsightData is an INSIGHT widget's render: the pinned chart and what it
// answered.
type InsightData struct {
	InsightID       string
	Question        string
	ConfidenceLevel string
	ConfidenceScore float64
	Grounding       string
	AsOf            time.Time
	ChartIndex      int
	Chart           InsightChart
}

// validateInsight checks an INSIGHT widget: only its insight field, and
// the insight the tenant's, SUCCEEDED and having the chart.
func (s *Service) validateInsight(ctx context.Context, op, field string, w WidgetInput) error {
	prefix := field + ".insight"
	switch {
	case s.cfg.Insights == nil:
		return errs.Invalid(op, field+".kind", fmt.Sprintf("%s.kind INSIGHT: insight widgets are not available on this server", field))
	case w.Insight == nil:
		return errs.Invalid(op, prefix, fmt.Sprintf("%s: an INSIGHT widget needs %s {insightId, chart}", field, prefix))
	case len(w.MetricKeys) > 0 || len(w.Dimensions) > 0:
		return errs.Invalid(op, field+".metricKeys", fmt.Sprintf("%s: an INSIGHT widget shows a stored chart, not metrics; leave metricKeys and dimensions empty", field))
	case len(w.Cohorts) > 0 || w.CohortBreakdown != "" || w.Grain != "" || w.Limit != 0:
		return errs.Invalid(op, field+".grain", fmt.Sprintf("%s: grain, limit and cohorts are for metric widgets; an INSIGHT widget shows its chart as answered", field))
	case w.Journey != nil || w.Overlay != nil:
		return errs.Invalid(op, field+".kind", fmt.Sprintf("%s: an INSIGHT widget takes no funnel, retention, paths or overlay", field))
	case w.Insight.InsightID == "":
		return errs.Invalid(op, prefix+".insightId", prefix+".insightId is required: the id askInsight returned")
	}
	_, err := s.insightChart(ctx, op, prefix, *w.Insight)
	return err
}

// insightChart reads the pinned chart through the caller's tenant; every
// failure is KindInvalid naming the field to change.
func (s *Service) insightChart(ctx context.Context, op, prefix string, ref InsightRef) (*InsightData, error) {
	snap, err := s.cfg.Insights.InsightSnapshot(ctx, ref.InsightID)
	if errs.Is(err, errs.KindNotFound) {
		return nil, errs.Invalid(op, prefix+".insightId", fmt.Sprintf("%s.insightId %q: insight not found in this tenant", prefix, ref.InsightID))
	}
	if err != nil {
		return nil, err
	}
	if snap.Status != "SUCCEEDED" {
		return nil, errs.Invalid(op, prefix+".insightId", fmt.Sprintf("%s.insightId %q is %s; pin a chart of an insight once it has SUCCEEDED", prefix, ref.InsightID, snap.Status))
	}
	if ref.Chart < 0 || ref.Chart >= len(snap.Charts) {
		return nil, errs.Invalid(op, prefix+".chart", fmt.Sprintf("%s.chart %d is out of range: insight %q has %d charts (0 to %d)",
			prefix, ref.Chart, ref.InsightID, len(snap.Charts), len(snap.Charts)-1))
	}
	return &InsightData{InsightID: snap.ID, Question: snap.Question, ConfidenceLevel: snap.ConfidenceLevel, ConfidenceScore: snap.ConfidenceScore,
		Grounding: snap.Grounding, AsOf: snap.AsOf, ChartIndex: ref.Chart, Chart: snap.Charts[ref.Chart]}, nil
}

// computeInsight renders an INSIGHT widget: the stored chart, read again
// through the caller's tenant.
func (r *render) computeInsight(ctx context.Context, w Widget) *WidgetData {
	now := r.s.cfg.Now().UTC()
	wd := &WidgetData{WidgetID: w.ID, WidgetVersion: w.Version, Results: []*metrics.Result{}, Notices: []string{},
		ComputedAt: now, FreshUntil: now.Add(r.s.cfg.CacheTTL)}
	fail := func(err error) *WidgetData {
		wd.Error = &WidgetError{Code: errs.KindOf(err).String(), Message: errs.PublicMessage(err)}
		return wd
	}
	if r.s.cfg.Insights == nil || w.Insight == nil {
		return fail(errs.E("dashboards.Render", errs.KindInvalid, fmt.Sprintf("widget %q: insight widgets are not available on this server", w.Title)))
	}
	data, err := r.s.insightChart(ctx, "dashboards.Render", "insight", *w.Insight)
	if err != nil {
		return fail(err)
	}
	for _, f := range r.filters {
		wd.Notices = append(wd.Notices, fmt.Sprintf("filter %q does not apply to INSIGHT widgets: the chart is the insight's stored answer", f.Dimension))
	}
	wd.Insight = data
	return wd
}

// PinInsightChart appends an INSIGHT widget showing chart of insight
// insightID to the dashboard (placed below the others) and returns the
// dashboard at its new version; title empty means the chart's title.
// expectedVersion zero means the version read now (a console button has
// no edit in flight to protect).
func (s *Service) PinInsightChart(ctx context.Context, dashboardID string, expectedVersion uint64, insightID string, chart int, title string) (*Dashboard, error) {
	if expectedVersion == 0 {
		d, err := s.Get(ctx, dashboardID)
		if err != nil {
			return nil, err
		}
		dashboardID, expectedVersion = d.ID, d.Version
	}
	if title == "" && s.cfg.Insights != nil {
		if data, err := s.insightChart(ctx, "dashboards.PinInsightChart", "insight", InsightRef{InsightID: insightID, Chart: chart}); err == nil {
			title = truncate(data.Chart.Title, MaxTitleLength)
		}
	}
	if title == "" {
		title = "Insight chart"
	}
	return s.AddWidget(ctx, dashboardID, expectedVersion, WidgetInput{Title: title, Kind: KindInsight,
		Insight: &InsightRef{InsightID: insightID, Chart: chart}})
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
