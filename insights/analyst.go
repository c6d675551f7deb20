package insights

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
)

// Analyst is the built-in engine: a deterministic parser plus the tools,
// no model. It answers the kinds in Kind and declines the rest honestly.
type Analyst struct {
	tools *Tools
}

// NewAnalyst returns the built-in analyst over t.
func NewAnalyst(t *Tools) *Analyst { return &Analyst{tools: t} }

// Answer answers question for the caller in ctx. onStep (may be nil) sees
// the progress steps. Errors are only failures of the machinery (the engine
// unavailable, no tenant); a question it cannot read is an Answer of kind
// DECLINED.
func (a *Analyst) Answer(ctx context.Context, question string, qc Context, onStep func(Step)) (*Answer, error) {
	start := time.Now()
	s := a.tools.NewSession(onStep)
	defs, err := s.ListMetrics(ctx)
	if err != nil {
		return nil, err
	}
	var cohortNames []string
	if a.tools.Cohorts != nil {
		list, err := a.tools.Cohorts.List(ctx)
		if err != nil {
			return nil, err
		}
		for _, c := range list {
			cohortNames = append(cohortNames, c.Name)
		}
	}
	in := NewParser(defs, cohortNames, a.tools.now()).Parse(question, qc)
	s.step("interpretation", describe(in))
	w := &writer{s: s, in: in, defs: defs}
	if in.Kind != KindDeclined {
		err = w.answer(ctx)
		var e *errs.Error
		if err != nil && errors.As(err, &e) && (e.Kind == errs.KindNotFound || e.Kind == errs.KindInvalid) {
			// The question was read but the data cannot answer it: say so.
			w.in = decline(w.in, errs.PublicMessage(err))
			err = nil
		}
		if err != nil {
			return nil, err
		}
	}
	if w.in.Kind == KindDeclined {
		w.declined()
	}
	ans := &Answer{Interpretation: w.in, Explanation: strings.TrimSpace(w.text.String()), Findings: w.findings, Charts: w.charts,
		Evidence: s.Evidence(), Key: w.key}
	if ans.Key == nil {
		ans.Key = []Value{}
	}
	if ans.Findings == nil {
		ans.Findings = []Finding{}
	}
	if ans.Charts == nil {
		ans.Charts = []Chart{}
	}
	ans.Grounding = Ground(ans)
	ans.Confidence = confidence(ans, w)
	s.mu.Lock()
	ans.Provenance = Provenance{Engine: EngineBuiltin, PromptVersion: PromptVersion, ToolCalls: s.calls,
		LatencyMs: time.Since(start).Milliseconds(), EngineMs: s.engine.Milliseconds()}
	s.mu.Unlock()
	s.step("text", ans.Explanation)
	return ans, nil
}

// writer composes one answer.
type writer struct {
	s        *Session
	in       Interpretation
	defs     []*metrics.Definition
	text     strings.Builder
	findings []Finding
	charts   []Chart
	// volume is the number of events (or denominator events) the answer rests on;
	// pValue the significance of the change (NaN when not tested).
	volume  float64
	pValue  float64
	tested  bool
	def     *metrics.Definition
	flagged int
	key     []Value
}

func (w *writer) answer(ctx context.Context) error {
	for _, d := range w.defs {
		if d.Key == w.in.MetricKey {
			w.def = d
		}
	}
	filters := make([]metrics.Filter, len(w.in.Filters))
	for i, f := range w.in.Filters {
		filters[i] = metrics.Filter{Dimension: f.Dimension, Op: metrics.Op(f.Op), Values: f.Values}
	}
	switch w.in.Kind {
	case KindWhatIs:
		return w.whatIs(ctx, filters)
	case KindByDimension:
		return w.byDimension(ctx, filters)
	case KindWhyChanged:
		return w.whyChanged(ctx, filters)
	case KindUnusual:
		return w.unusual(ctx, filters)
	case KindForecast:
		return w.forecast(ctx, filters)
	case KindCohort:
		return w.cohort(ctx)
	}
	return errs.E("insights.Answer", errs.KindInternal, "unhandled kind "+string(w.in.Kind))
}

func (w *writer) whatIs(ctx context.Context, filters []metrics.Filter) error {
	p := *w.in.Period
	w.s.step("tool_call", "query_metric "+w.def.Key+" by day, "+p.Label)
	res, id, err := w.s.QueryMetric(ctx, metrics.Request{MetricKey: w.def.Key, TimeRange: spec(p), Grain: "DAY", Filters: filters})
	if err != nil {
		return err
	}
	total := value(res.Totals.Value)
	w.volume = w.volumeOf(total)
	w.key = []Value{{Name: "total", Value: total}}
	fmt.Fprintf(&w.text, "**%s**%s in %s: **%s** [%s].", w.def.Name, w.filterText(), p.Label, fmtValue(w.def, total), id)
	w.findings = append(w.findings, Finding{Text: fmt.Sprintf("%s%s in %s: %s.", w.def.Name, w.filterText(), p.Label, fmtValue(w.def, total)), Evidence: []string{id}})
	if len(res.Series) == 1 {
		w.charts = append(w.charts, seriesChart(w.def.Name+" per day, "+p.Label, w.def.Name, res.Series[0].Points, id))
	}
	return nil
}

func (w *writer) byDimension(ctx context.Context, filters []metrics.Filter) error {
	p := *w.in.Period
	w.s.step("tool_call", "query_metric "+w.def.Key+" by "+w.in.Dimension+", "+p.Label)
	res, id, err := w.s.QueryMetric(ctx, metrics.Request{MetricKey: w.def.Key, TimeRange: spec(p), Grain: metrics.GrainTotal,
		Dimensions: []string{w.in.Dimension}, Filters: filters, OrderBy: metrics.OrderValueDesc})
	if err != nil {
		return err
	}
	if len(res.Series) == 0 {
		return errs.E("insights.by_dimension", errs.KindNotFound, w.def.Name+" has no data in "+p.Label)
	}
	total := value(res.Totals.Value)
	w.volume = w.volumeOf(total)
	dim := dimName(w.in.Dimension)
	fmt.Fprintf(&w.text, "**%s**%s in %s by %s: **%s** in total [%s].\n\n", w.def.Name, w.filterText(), p.Label, dim, fmtValue(w.def, total), id)
	chart := Chart{Type: "bar", Title: w.def.Name + " by " + dim + ", " + p.Label, X: dim, Evidence: id}
	cs := ChartSeries{Name: w.def.Name}
	for i, sr := range res.Series {
		v := value(sr.Total.Value)
		name := strings.Join(sr.Values, "/")
		cs.X, cs.Y = append(cs.X, name), append(cs.Y, v)
		w.key = append(w.key, Value{Name: name, Value: v})
		if i < 5 {
			fmt.Fprintf(&w.text, "- `%s`: **%s**\n", name, fmtValue(w.def, v))
		}
	}
	if len(res.Series) > 5 {
		last := res.Series[len(res.Series)-1]
		fmt.Fprintf(&w.text, "- … lowest: `%s` with **%s**\n", strings.Join(last.Values, "/"), fmtValue(w.def, value(last.Total.Value)))
	}
	top := res.Series[0]
	w.findings = append(w.findings, Finding{Text: fmt.Sprintf("`%s` has the most %s: %s.", strings.Join(top.Values, "/"),
		strings.ToLower(w.def.Name), fmtValue(w.def, value(top.Total.Value))), Evidence: []string{id}})
	chart.Series = []ChartSeries{cs}
	w.charts = append(w.charts, chart)
	return nil
}

func (w *writer) whyChanged(ctx context.Context, filters []metrics.Filter) error {
	cur, prev := *w.in.Period, *w.in.Compare
	w.s.step("tool_call", "compare_periods "+w.def.Key+": "+cur.Label+" vs "+prev.Label)
	rep, err := w.s.ComparePeriods(ctx, w.def.Key, cur, prev, filters)
	if err != nil {
		return err
	}
	w.s.step("tool_result", fmt.Sprintf("%d drivers over %s", len(rep.Drivers), strings.Join(rep.Dimensions, ", ")))
	st := rep.StatsEvidence
	tot := rep.TotalsEvidence
	w.volume = w.volumeOf(math.Min(rep.CurrentValue, rep.PreviousValue))
	w.pValue, w.tested = rep.PValue, rep.Test != TestNotApplicable
	w.key = []Value{{Name: "current", Value: rep.CurrentValue}, {Name: "previous", Value: rep.PreviousValue}}
	verb := "rose"
	if rep.Change < 0 {
		verb = "fell"
	} else if rep.Change == 0 {
		verb = "stayed"
	}
	fmt.Fprintf(&w.text, "**%s**%s %s from **%s** in %s to **%s** in %s", w.def.Name, w.filterText(), verb,
		fmtValue(w.def, rep.PreviousValue), prev.Label, fmtValue(w.def, rep.CurrentValue), cur.Label)
	if !math.IsNaN(rep.ChangePct) {
		fmt.Fprintf(&w.text, ", a change of **%s%%**", fmtPct(rep.ChangePct))
	}
	fmt.Fprintf(&w.text, " [%s, %s, %s].", tot[0], tot[1], st)
	head := Finding{Text: fmt.Sprintf("%s %s from %s (%s) to %s (%s).", w.def.Name, verb, fmtValue(w.def, rep.PreviousValue), prev.Label,
		fmtValue(w.def, rep.CurrentValue), cur.Label), Evidence: []string{tot[0], tot[1]}}
	w.findings = append(w.findings, head)
	switch {
	case rep.Test == TestNotApplicable:
		fmt.Fprintf(&w.text, " No significance test fits a %s metric from aggregates, so the change is not tested.", strings.ToLower(string(w.def.Kind)))
	case rep.Significant:
		fmt.Fprintf(&w.text, " The change is significant (%s test, %s) [%s].", rep.Test, fmtP(rep.PValue), st)
	default:
		fmt.Fprintf(&w.text, " The change is not significant (%s test, %s) [%s]: it may be noise.", rep.Test, fmtP(rep.PValue), st)
	}
	w.text.WriteString("\n\n")
	if len(rep.Drivers) == 0 {
		w.text.WriteString("No dimension of the metric has more than one value in these periods, so the change cannot be split further.")
		return nil
	}
	if rep.BroadBased {
		moved := "changed its share"
		if w.def.Kind == metrics.KindAvg {
			moved = "changed its mean"
		}
		fmt.Fprintf(&w.text, "Nothing stands out: the change is **broad-based**. No %s %s significantly [%s]. The largest contributions were:\n",
			joinDims(rep.Dimensions), moved, st)
		w.findings = append(w.findings, Finding{Text: "The change is broad-based: no segment's share changed significantly.", Evidence: []string{st}})
	} else {
		fmt.Fprintf(&w.text, "The drivers, largest contribution first [%s]:\n", st)
	}
	for i, d := range rep.Drivers {
		if i >= 3 {
			break
		}
		line := fmt.Sprintf("%s `%s`: %s → %s (%s, %.1f%% of the change)", dimName(d.Dimension), d.Value, fmtValue(w.def, d.Previous),
			fmtValue(w.def, d.Current), fmtSigned(w.def, d.Contribution), d.SharePct)
		if w.def.Kind == metrics.KindRatio || w.def.Kind == metrics.KindAvg {
			line += fmt.Sprintf("; rate effect %s, mix effect %s", fmtSigned(w.def, d.RateEffect), fmtSigned(w.def, d.MixEffect))
		}
		if !math.IsNaN(d.PValue) {
			sig := "significant"
			if !d.Significant {
				sig = "not significant"
			}
			line += fmt.Sprintf(" (%s, %s)", sig, fmtP(d.PValue))
		}
		fmt.Fprintf(&w.text, "- %s [%s, %s]\n", line, d.Evidence[0], d.Evidence[1])
		if !rep.BroadBased && d.Significant {
			w.findings = append(w.findings, Finding{Text: "Driver: " + line + ".", Evidence: append([]string{st}, d.Evidence...)})
		}
	}
	// Chart: the segments of the dimension with the largest driver, both periods.
	dim := rep.Drivers[0].Dimension
	chart := Chart{Type: "bar", Title: w.def.Name + " by " + dimName(dim) + ": " + prev.Label + " vs " + cur.Label, X: dimName(dim), Evidence: st}
	a, b := ChartSeries{Name: prev.Label}, ChartSeries{Name: cur.Label}
	for _, d := range rep.Drivers {
		if d.Dimension == dim {
			a.X, a.Y = append(a.X, d.Value), append(a.Y, d.Previous)
			b.X, b.Y = append(b.X, d.Value), append(b.Y, d.Current)
		}
	}
	chart.Series = []ChartSeries{a, b}
	w.charts = append(w.charts, chart,
		Chart{Type: "bar", Title: w.def.Name + ": " + prev.Label + " vs " + cur.Label, X: "period", Evidence: tot[0],
			Series: []ChartSeries{{Name: w.def.Name, X: []string{prev.Label, cur.Label}, Y: []float64{rep.PreviousValue, rep.CurrentValue}}}})
	return nil
}

func (w *writer) unusual(ctx context.Context, filters []metrics.Filter) error {
	p := *w.in.Period
	w.s.step("tool_call", "detect_anomalies "+w.def.Key+" per day, "+p.Label)
	an, err := w.s.DetectAnomalies(ctx, w.def.Key, p, unusualWarmupDays, filters)
	if err != nil {
		return err
	}
	w.flagged = len(an.Flags)
	w.volume = w.volumeOf(an.PeriodTotal + an.BaselineTotal)
	w.key = []Value{{Name: "period_total", Value: an.PeriodTotal}, {Name: "baseline_total", Value: an.BaselineTotal}}
	ids := []string{an.Series, an.Detected}
	fmt.Fprintf(&w.text, "Checked daily **%s**%s in %s against the days before it (%s) [%s, %s].",
		strings.ToLower(w.def.Name), w.filterText(), p.Label, an.Window.Label, an.Series, an.Detected)
	unusual := false
	if !math.IsNaN(an.LevelP) {
		pm, bm := an.PeriodTotal/float64(an.Days), an.BaselineTotal/float64(an.BaselineDays)
		change := pct(pm, bm)
		w.pValue, w.tested = an.LevelP, true
		if an.LevelP < SignificanceLevel && !math.IsNaN(change) {
			unusual = true
			dir := "higher"
			if change < 0 {
				dir = "lower"
			}
			line := fmt.Sprintf("The level is unusual: **%.1f** per day in %s against **%.1f** per day before, %.1f%% %s (Poisson rate test, %s)",
				pm, p.Label, bm, math.Abs(change), dir, fmtP(an.LevelP))
			fmt.Fprintf(&w.text, " %s [%s].", line, an.Detected)
			w.findings = append(w.findings, Finding{Text: line + ".", Evidence: []string{an.Detected}})
		} else {
			fmt.Fprintf(&w.text, " The level is as before (%s) [%s].", fmtP(an.LevelP), an.Detected)
		}
	}
	if len(an.Flags) == 0 {
		w.text.WriteString(" No single day scored above the `ensemble` detector's threshold.")
		if !unusual {
			w.findings = append(w.findings, Finding{Text: "Nothing unusual in " + p.Label + ".", Evidence: []string{an.Detected}})
		}
	} else {
		w.text.WriteString(" These days stand out to the `ensemble` detector:\n")
		for _, f := range an.Flags {
			day := f.Day.Format(time.DateOnly)
			w.key = append(w.key, Value{Name: day, Value: f.Value})
			line := fmt.Sprintf("%s: %s, expected about %s (score %.2f)", day, fmtValue(w.def, f.Value), fmtValue(w.def, f.Expected), f.Score)
			fmt.Fprintf(&w.text, "- %s [%s, %s]\n", line, an.Series, an.Detected)
			w.findings = append(w.findings, Finding{Text: "Unusual " + line + ".", Evidence: ids})
		}
	}
	w.charts = append(w.charts, seriesChart(w.def.Name+" per day, "+an.Window.Label, w.def.Name, an.Points, an.Series))
	return nil
}

func (w *writer) forecast(ctx context.Context, filters []metrics.Filter) error {
	h := *w.in.Period
	w.s.step("tool_call", fmt.Sprintf("forecast %s, history %s", w.def.Key, h.Label))
	fc, err := w.s.Forecast(ctx, w.def.Key, h, w.in.Horizon, filters)
	if err != nil {
		return err
	}
	var sum float64
	for _, pt := range fc.Points {
		sum += value(pt.Value)
	}
	w.volume = w.volumeOf(sum)
	w.key = []Value{{Name: "history_total", Value: sum}, {Name: "forecast_total", Value: fc.Total}}
	first, last := fc.Days[0].Format(time.DateOnly), fc.Days[len(fc.Days)-1].Format(time.DateOnly)
	fmt.Fprintf(&w.text, "Forecast of daily **%s**%s from %s to %s: about **%s** in total, by the `%s` model fitted to %s [%s, %s].",
		strings.ToLower(w.def.Name), w.filterText(), first, last, fmtValue(w.def, fc.Total), fc.Model, h.Label, fc.Series, fc.Forecast)
	w.findings = append(w.findings, Finding{Text: fmt.Sprintf("Expected %s from %s to %s: about %s.", strings.ToLower(w.def.Name), first, last,
		fmtValue(w.def, fc.Total)), Evidence: []string{fc.Forecast}})
	hist := seriesChart(w.def.Name+": history and forecast", "history", fc.Points, fc.Series)
	f := ChartSeries{Name: "forecast"}
	for i, d := range fc.Days {
		f.X, f.Y = append(f.X, d.Format(time.DateOnly)), append(f.Y, fc.Point[i])
	}
	hist.Series = append(hist.Series, f)
	w.charts = append(w.charts, hist)
	return nil
}

func (w *writer) cohort(ctx context.Context) error {
	w.s.step("tool_call", "cohort_size "+w.in.Cohort)
	c, ev, id, err := w.s.CohortSize(ctx, w.in.Cohort)
	if err != nil {
		return err
	}
	w.volume = float64(ev.Size)
	w.key = []Value{{Name: "size", Value: float64(ev.Size)}}
	w.tested = false
	fmt.Fprintf(&w.text, "Cohort **%s** has **%d** members at its latest evaluation (%s); %d entered and %d left at that evaluation [%s].",
		c.Name, ev.Size, ev.EvaluatedAt.UTC().Format(time.DateOnly), ev.Entered, ev.Exited, id)
	w.findings = append(w.findings, Finding{Text: fmt.Sprintf("%s: %d members.", c.Name, ev.Size), Evidence: []string{id}})
	w.charts = append(w.charts, Chart{Type: "table", Title: "Cohort " + c.Name, X: "measure", Evidence: id,
		Series: []ChartSeries{{Name: c.Name, X: []string{"size", "entered", "exited"}, Y: []float64{float64(ev.Size), float64(ev.Entered), float64(ev.Exited)}}}})
	return nil
}

// declined writes the honest answer to a question the analyst cannot read.
func (w *writer) declined() {
	w.text.Reset()
	w.findings, w.charts, w.key = nil, nil, nil
	w.text.WriteString("I cannot answer this question with the built-in analyst, and I will not guess.\n\n")
	w.text.WriteString("**What I understood:** ")
	var parts []string
	for _, t := range w.in.Tokens {
		parts = append(parts, fmt.Sprintf("%s “%s” → %s", t.Role, t.Text, t.Read))
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing I can map to this tenant's metrics or cohorts")
	}
	w.text.WriteString(strings.Join(parts, "; ") + ".")
	if n := len(w.in.Assumptions); n > 0 {
		w.text.WriteString(" Why not: " + w.in.Assumptions[n-1] + ".")
	}
	example := "course completions"
	if len(w.defs) > 0 {
		example = strings.ToLower(w.defs[0].Name)
	}
	w.text.WriteString("\n\n**What I can answer**, for any metric of the catalog (list_metrics):\n" +
		"- what is a metric for a period: “How many " + example + " last week?”\n" +
		"- a metric by course or event type: “" + capital(example) + " by course in March”\n" +
		"- why a metric changed between two periods: “Why did " + example + " drop in March?”\n" +
		"- whether anything is unusual: “Is anything unusual in " + example + " this month?”\n" +
		"- a forecast: “Forecast " + example + " for the next weeks”\n" +
		"- the size of a cohort: “How big is the cohort <name>?”\n\n" +
		"Free-form questions need the AI gateway, which is not configured on this server.")
}

// volumeOf is the data volume behind a metric value: for ratios and means
// the value is not a count, so the volume is unknown (treated as enough).
func (w *writer) volumeOf(v float64) float64 {
	switch w.def.Kind {
	case metrics.KindCount, metrics.KindUniqueUsers:
		return v
	}
	return math.Inf(1)
}

func (w *writer) filterText() string {
	var parts []string
	for _, f := range w.in.Filters {
		parts = append(parts, fmt.Sprintf(" for %s `%s`", dimName(f.Dimension), strings.Join(f.Values, "`, `")))
	}
	return strings.Join(parts, "")
}

// confidence scores an answer: grounding, data volume, significance and
// interpretation ambiguity.
func confidence(a *Answer, w *writer) Confidence {
	c := Confidence{Score: 1, Reasons: []string{}}
	sub := func(x float64, why string) { c.Score -= x; c.Reasons = append(c.Reasons, why) }
	if a.Interpretation.Kind == KindDeclined {
		return Confidence{Score: 0, Level: "NONE", Reasons: []string{"declined: the question was not understood, so nothing is claimed"}}
	}
	if a.Grounding.Status == Grounded {
		c.Reasons = append(c.Reasons, fmt.Sprintf("grounded: all %d numbers trace to evidence", a.Grounding.Checked))
	}
	switch {
	case math.IsInf(w.volume, 1):
	case w.volume < 30:
		sub(0.35, fmt.Sprintf("little data: %.0f events", w.volume))
	case w.volume < 300:
		sub(0.1, fmt.Sprintf("moderate data: %.0f events", w.volume))
	default:
		c.Reasons = append(c.Reasons, fmt.Sprintf("data volume: %.0f events", w.volume))
	}
	switch a.Interpretation.Kind {
	case KindWhyChanged:
		switch {
		case !w.tested:
			sub(0.2, "no significance test fits this metric kind")
		case w.pValue < SignificanceLevel:
			c.Reasons = append(c.Reasons, "the change is significant ("+fmtP(w.pValue)+")")
		default:
			sub(0.3, "the change is not significant ("+fmtP(w.pValue)+")")
		}
	case KindForecast:
		sub(0.25, "a forecast is a projection of the past, not a measurement")
	case KindUnusual:
		sub(0.1, "anomaly scores depend on the detector's model of normal")
		if w.tested && w.pValue >= SignificanceLevel && w.flagged == 0 {
			c.Reasons = append(c.Reasons, "nothing stood out ("+fmtP(w.pValue)+" for the level)")
		}
	}
	for _, as := range a.Interpretation.Assumptions {
		sub(0.1, "assumed "+as)
	}
	for _, p := range a.Interpretation.Problems {
		sub(0.15, "interpretation: "+p)
	}
	if a.Grounding.Status == Ungrounded {
		c.Score = math.Min(c.Score, 0.2)
		c.Reasons = append(c.Reasons, fmt.Sprintf("UNGROUNDED: %d numbers match no evidence (%s)", len(a.Grounding.Ungrounded),
			strings.Join(a.Grounding.Ungrounded, ", ")))
	}
	c.Score = math.Round(math.Max(0, math.Min(1, c.Score))*100) / 100
	switch {
	case c.Score >= 0.75:
		c.Level = "HIGH"
	case c.Score >= 0.5:
		c.Level = "MEDIUM"
	default:
		c.Level = "LOW"
	}
	return c
}

// describe is the interpretation as one line for the progress stream.
func describe(in Interpretation) string {
	var b strings.Builder
	b.WriteString(string(in.Kind))
	if in.MetricKey != "" {
		b.WriteString(" metric=" + in.MetricKey)
	}
	if in.Period != nil {
		b.WriteString(" period=" + in.Period.Label)
	}
	if in.Compare != nil {
		b.WriteString(" compare=" + in.Compare.Label)
	}
	if in.Dimension != "" {
		b.WriteString(" by=" + in.Dimension)
	}
	if in.Cohort != "" {
		b.WriteString(" cohort=" + in.Cohort)
	}
	return b.String()
}

func seriesChart(title, name string, pts []metrics.Point, ev string) Chart {
	cs := ChartSeries{Name: name}
	for _, p := range pts {
		cs.X, cs.Y = append(cs.X, p.Bucket.UTC().Format(time.DateOnly)), append(cs.Y, value(p.Value))
	}
	return Chart{Type: "line", Title: title, X: "day", Series: []ChartSeries{cs}, Evidence: ev}
}

// fmtValue formats a metric value as the text cites it: ratios as a
// percent with one decimal, means with one decimal, counts as integers.
func fmtValue(def *metrics.Definition, v float64) string {
	switch {
	case def.Kind == metrics.KindRatio:
		return fmt.Sprintf("%.1f%%", v*100)
	case def.Kind == metrics.KindAvg || def.Kind == metrics.KindPercentile:
		return fmt.Sprintf("%.1f", v)
	}
	return thousands(math.Round(v))
}

// fmtSigned is fmtValue of |v| with its direction in words.
func fmtSigned(def *metrics.Definition, v float64) string {
	if def.Kind == metrics.KindRatio {
		dir := "up"
		if v < 0 {
			dir = "down"
		}
		return fmt.Sprintf("%s %.1f points", dir, math.Abs(v)*100)
	}
	if v < 0 {
		return "minus " + fmtValue(def, -v)
	}
	return "plus " + fmtValue(def, v)
}

func fmtPct(v float64) string {
	if v < 0 {
		return fmt.Sprintf("minus %.1f", -v)
	}
	return fmt.Sprintf("plus %.1f", v)
}

func fmtP(p float64) string {
	if p < 0.001 {
		return "p < 0.001"
	}
	return fmt.Sprintf("p = %.3f", p)
}

func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", math.Abs(v))
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if v < 0 {
		return "-" + b.String()
	}
	return b.String()
}

func dimName(path string) string {
	if name, ok := strings.CutPrefix(path, CohortPrefix); ok {
		return "membership of cohort “" + name + "”"
	}
	switch path {
	case "properties.course_id":
		return "course"
	case "type":
		return "event type"
	}
	return strings.TrimPrefix(path, "properties.")
}

func joinDims(dims []string) string {
	names := make([]string, len(dims))
	for i, d := range dims {
		names[i] = dimName(d)
	}
	return strings.Join(names, " or ")
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
