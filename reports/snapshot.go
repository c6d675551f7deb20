package reports

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// Snapshot is the data of one run, independent of the file format.
type Snapshot struct {
	Title    string // the report's name
	Subtitle string // the dashboard's title, or "Metrics"
	From, To time.Time
	Location *time.Location
	// Filters are the effective filters, as "dimension op values" lines.
	Filters     []string
	Sections    []Section
	GeneratedAt time.Time
}

// Period is the window as a reader writes it ("1 Jan 2026 – 31 Jan 2026
// (UTC)"), To shown inclusive.
func (s *Snapshot) Period() string {
	from, to := s.From.In(s.Location), s.To.In(s.Location)
	last := to.Add(-time.Nanosecond)
	layout := "2 Jan 2006"
	if from.Hour() != 0 || from.Minute() != 0 || to.Hour() != 0 || to.Minute() != 0 {
		layout, last = "2 Jan 2006 15:04", to
	}
	return from.Format(layout) + " – " + last.Format(layout) + " (" + s.Location.String() + ")"
}

// Section is one widget (or metric query) of a report.
type Section struct {
	Title string
	Kind  dashboards.WidgetKind
	// KPIs are the numbers of a KPI section, one per metric.
	KPIs []KPI
	// Series are the lines (LINE, AREA: over Buckets) or the single row of
	// bars (BAR, PIE: over Labels) of a chart section.
	Series  []ChartSeries
	Buckets []time.Time
	Labels  []string
	// Format is how the chart's value axis is labelled: the format of the
	// section's first metric.
	Format NumberFormat
	// Columns and Rows are the section as a table (every kind has one: it
	// is what XLSX and CSV hold).
	Columns []string
	Rows    [][]Cell
	// Error is why the section has no (or partial) data.
	Error string
	// Overlay is a LINE widget's forecast band and anomaly markers; nil
	// for none.
	Overlay *ChartOverlay
	// Caption is a line under the chart (or table) saying where its data
	// comes from: a pinned insight's id, question, time and confidence.
	Caption string
}

// KPI is one headline number.
type KPI struct {
	Label  string
	Value  *float64
	Format NumberFormat
	// Unit is the metric's unit ("learners", "points"), for the caption.
	Unit string
}

// ChartSeries is one line or one set of bars.
type ChartSeries struct {
	Name   string
	Values []float64 // NaN where there is no value
}

// Cell is one table cell: a number (Num set, Text is it printed with
// Format) or text.
type Cell struct {
	Text   string
	Num    *float64
	Format NumberFormat
	// Heat, a rate from 0 to 1, shades the cell in the PDF (a retention
	// heat map); nil leaves it plain.
	Heat *float64
	// Right aligns text that reads as a quantity ("14m") like the
	// numbers beside it.
	Right bool
}

// snapshot reads the data of a run: the dashboard render, or the metric
// queries, over the run's period. ctx carries the owner as the caller.
func (s *Service) snapshot(ctx context.Context, rep *Report, run *Run) (*Snapshot, error) {
	if rep.Source.Dashboard != "" {
		return s.dashboardSnapshot(ctx, rep, run)
	}
	return s.metricsSnapshot(ctx, rep, run)
}

// period resolves spec (or def when spec is zero) at the run's slot.
func period(spec, def timerange.Spec, at time.Time, loc *time.Location) (timerange.Range, error) {
	if spec == (timerange.Spec{}) {
		spec = def
	}
	return timerange.ResolveIn(spec, at.Truncate(dashboards.RangeAlign), loc, "source.timeRange")
}

func (s *Service) dashboardSnapshot(ctx context.Context, rep *Report, run *Run) (*Snapshot, error) {
	d, err := s.deps.Dashboards.Get(ctx, rep.Source.Dashboard)
	if err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return nil, errs.Wrap("reports.run", errs.KindInvalid, err, "the report's dashboard no longer exists")
		}
		return nil, err
	}
	loc, err := timerange.Location(d.Timezone, "timezone")
	if err != nil {
		return nil, err
	}
	def := d.TimeRange
	if def == (timerange.Spec{}) {
		def = dashboards.DefaultTimeRange
	}
	rng, err := period(rep.Source.TimeRange, def, run.ScheduledFor, loc)
	if err != nil {
		return nil, err
	}
	r, err := s.deps.Dashboards.Render(ctx, d.ID, rep.Source.Filters, &timerange.Spec{From: &rng.From, To: &rng.To})
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{Title: rep.Name, Subtitle: d.Title, From: r.Range.From, To: r.Range.To, Location: loc,
		Filters: filterLines(r.Filters, d.Filters), GeneratedAt: s.now()}
	for i, w := range d.Widgets {
		wd := r.Widgets[i]
		switch {
		case w.Kind == dashboards.KindInsight:
			snap.Sections = append(snap.Sections, insightSection(w, wd, loc))
		case wd.Error != nil && w.Kind.Journey():
			snap.Sections = append(snap.Sections, Section{Title: w.Title, Kind: w.Kind, Error: wd.Error.Message})
		case w.Kind.Journey():
			snap.Sections = append(snap.Sections, journeySections(w, wd.Journey, loc)...)
		default:
			sec := buildSection(w.Title, w.Kind, w.MetricKeys, wd.Results, loc)
			if wd.Error != nil {
				sec.Error = wd.Error.Message
			}
			if wd.Overlay != nil && len(wd.Results) == 1 {
				sec.Overlay = chartOverlay(wd.Overlay, wd.Results[0])
			}
			snap.Sections = append(snap.Sections, sec)
		}
	}
	return snap, nil
}

func (s *Service) metricsSnapshot(ctx context.Context, rep *Report, run *Run) (*Snapshot, error) {
	if s.deps.Metrics == nil {
		return nil, errs.E("reports.run", errs.KindInternal, "metric reports are not configured")
	}
	loc, err := timerange.Location(rep.Schedule.Timezone, "schedule.timezone")
	if err != nil {
		return nil, err
	}
	rng, err := period(rep.Source.TimeRange, DefaultTimeRange, run.ScheduledFor, loc)
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{Title: rep.Name, Subtitle: "Metrics", From: rng.From, To: rng.To, Location: loc, Filters: []string{}, GeneratedAt: s.now()}
	snap.Sections = make([]Section, len(rep.Source.Metrics))
	var wg sync.WaitGroup
	for i, q := range rep.Source.Metrics {
		wg.Go(func() {
			res, err := s.deps.Metrics.Query(ctx, q.request(loc, rng))
			sec := buildSection(q.Title, q.Chart, []string{q.MetricKey}, []*metrics.Result{res}, loc)
			if err != nil {
				sec.Error = fmt.Sprintf("metric %q: %s", q.MetricKey, errs.PublicMessage(err))
			}
			snap.Sections[i] = sec
		})
	}
	wg.Wait()
	return snap, nil
}

// buildSection shapes metric results (one per key; nil where a metric
// failed) as a section of kind.
func buildSection(title string, kind dashboards.WidgetKind, keys []string, results []*metrics.Result, loc *time.Location) Section {
	sec := Section{Title: title, Kind: kind}
	name := func(i int) string {
		if r := results[i]; r != nil && r.Metric != nil && r.Metric.Name != "" {
			return r.Metric.Name
		}
		return keys[i]
	}
	for _, r := range results {
		if r != nil {
			sec.Format = MetricFormat(r.Metric)
			break
		}
	}
	bucketed := false
	for _, r := range results {
		if r != nil && r.Grain != metrics.GrainTotal && r.Grain != "" {
			bucketed = true
		}
	}
	switch {
	case kind == dashboards.KindKPI || (!bucketed && allTotals(results)):
		sec.Columns = []string{"Metric", "Value"}
		for i, r := range results {
			k := KPI{Label: name(i)}
			if r != nil {
				k.Value, k.Format = r.Totals.Value, MetricFormat(r.Metric)
				if r.Metric != nil {
					k.Unit = r.Metric.Unit
				}
			}
			sec.KPIs = append(sec.KPIs, k)
			sec.Rows = append(sec.Rows, []Cell{{Text: name(i)}, numCell(k.Value, k.Format)})
		}
		if kind != dashboards.KindKPI {
			sec.Labels = []string{}
			cs := ChartSeries{Name: "Value"}
			for _, k := range sec.KPIs {
				sec.Labels = append(sec.Labels, k.Label)
				cs.Values = append(cs.Values, floatOr(k.Value))
			}
			sec.Series = []ChartSeries{cs}
		}
	case bucketed:
		timeSection(&sec, results, name, loc)
	default:
		dimensionSection(&sec, results, name)
	}
	return sec
}

// allTotals reports whether every result is one undimensioned total.
func allTotals(results []*metrics.Result) bool {
	for _, r := range results {
		if r != nil && len(r.Dimensions) > 0 {
			return false
		}
	}
	return true
}

// timeSection lays out bucketed results: a line per metric and series, a
// row per bucket.
func timeSection(sec *Section, results []*metrics.Result, name func(int) string, loc *time.Location) {
	index := map[int64]int{}
	for _, r := range results {
		if r == nil {
			continue
		}
		for _, se := range r.Series {
			for _, p := range se.Points {
				if _, ok := index[p.Bucket.UnixMilli()]; !ok {
					index[p.Bucket.UnixMilli()] = len(sec.Buckets)
					sec.Buckets = append(sec.Buckets, p.Bucket)
				}
			}
		}
	}
	slices.SortFunc(sec.Buckets, time.Time.Compare)
	for i, b := range sec.Buckets {
		index[b.UnixMilli()] = i
	}
	sec.Columns = []string{"Period"}
	var formats []NumberFormat // of each series
	for i, r := range results {
		if r == nil {
			continue
		}
		for _, se := range r.Series {
			formats = append(formats, MetricFormat(r.Metric))
			label := name(i)
			if len(se.Values) > 0 {
				label += " (" + strings.Join(se.Values, ", ") + ")"
			}
			cs := ChartSeries{Name: label, Values: nanSlice(len(sec.Buckets))}
			for _, p := range se.Points {
				cs.Values[index[p.Bucket.UnixMilli()]] = floatOr(p.Value)
			}
			sec.Series = append(sec.Series, cs)
			sec.Columns = append(sec.Columns, label)
		}
	}
	for i, b := range sec.Buckets {
		row := []Cell{{Text: b.In(loc).Format("2006-01-02 15:04")}}
		if b.In(loc).Hour() == 0 && b.In(loc).Minute() == 0 {
			row[0].Text = b.In(loc).Format("2006-01-02")
		}
		for j, cs := range sec.Series {
			row = append(row, floatCell(cs.Values[i], formats[j]))
		}
		sec.Rows = append(sec.Rows, row)
	}
}

// dimensionSection lays out totals per dimension value: a row per value
// (in the first metric's order), a column per metric; bars of the first.
func dimensionSection(sec *Section, results []*metrics.Result, name func(int) string) {
	var dims []string
	for _, r := range results {
		if r != nil {
			dims = r.Dimensions
			break
		}
	}
	sec.Columns = slices.Clone(dims)
	for i := range results {
		sec.Columns = append(sec.Columns, name(i))
	}
	var order []string
	values := map[string][]*float64{}
	labels := map[string][]string{}
	for i, r := range results {
		if r == nil {
			continue
		}
		for _, se := range r.Series {
			key := strings.Join(se.Values, "\x00")
			if _, ok := values[key]; !ok {
				order = append(order, key)
				values[key] = make([]*float64, len(results))
				labels[key] = se.Values
			}
			values[key][i] = se.Total.Value
		}
	}
	sec.Labels = []string{}
	bars := ChartSeries{Name: name(0)}
	for _, key := range order {
		row := []Cell{}
		for _, v := range labels[key] {
			row = append(row, Cell{Text: v})
		}
		for i, v := range values[key] {
			var f NumberFormat
			if results[i] != nil {
				f = MetricFormat(results[i].Metric)
			}
			row = append(row, numCell(v, f))
		}
		sec.Rows = append(sec.Rows, row)
		sec.Labels = append(sec.Labels, strings.Join(labels[key], " / "))
		bars.Values = append(bars.Values, floatOr(values[key][0]))
	}
	sec.Series = []ChartSeries{bars}
}

// filterLines prints filters for the report header, each dimension by
// the dashboard's label for it when there is one ("Course in c0, c1").
func filterLines(fs []metrics.Filter, defs []dashboards.FilterDef) []string {
	out := []string{}
	for _, f := range fs {
		name := f.Dimension
		for _, d := range defs {
			if d.Dimension == f.Dimension && d.Label != "" {
				name = d.Label
			}
		}
		out = append(out, fmt.Sprintf("%s %s %s", name, strings.ReplaceAll(string(f.Op), "_", " "), strings.Join(f.Values, ", ")))
	}
	return out
}

func numCell(v *float64, f NumberFormat) Cell {
	if v == nil {
		return Cell{}
	}
	x := *v
	return Cell{Text: f.Format(&x), Num: &x, Format: f}
}

func floatCell(v float64, f NumberFormat) Cell {
	if math.IsNaN(v) {
		return Cell{}
	}
	return numCell(&v, f)
}

func floatOr(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}

func nanSlice(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}

// request is the metric request of q over rng in loc: a total unless the
// chart is a LINE or AREA or q names a grain.
func (q MetricQuery) request(loc *time.Location, rng timerange.Range) metrics.Request {
	grain := q.Grain
	if grain == "" && q.Chart != dashboards.KindLine && q.Chart != dashboards.KindArea {
		grain = metrics.GrainTotal
	}
	return metrics.Request{MetricKey: q.MetricKey, Dimensions: q.Dimensions, Grain: grain,
		Limit: q.Limit, Timezone: loc.String(), TimeRange: timerange.Spec{From: &rng.From, To: &rng.To}}
}
