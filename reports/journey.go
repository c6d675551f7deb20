package reports

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/timerange"
)

// Journey widgets in reports: a FUNNEL is bars of the users at each step
// with a table of conversions (and, with a breakdown, a second table of
// the steps per value); a RETENTION triangle is a heat-map table (each
// rate shades its cell); PATHS are a table of the busiest moves. XLSX and
// CSV hold the same tables.

// Number formats of journey tables.
const (
	usersFormat NumberFormat = "#,##0"
	rateFormat  NumberFormat = "0.0%"
)

// journeySections shapes a journey widget's answer as report sections.
func journeySections(w dashboards.Widget, a *journeys.Answer, loc *time.Location) []Section {
	switch {
	case a == nil:
		return []Section{{Title: w.Title, Kind: w.Kind, Error: "no data"}}
	case a.Funnel != nil:
		return funnelSections(w, a.Funnel)
	case a.Retention != nil:
		return []Section{retentionSection(w, a.Retention, loc)}
	}
	return []Section{pathsSection(w, a.Paths)}
}

// funnelSections are the funnel's bars and step table and, with a
// breakdown, a table of the users at each step per value.
func funnelSections(w dashboards.Widget, f *journeys.FunnelResult) []Section {
	sec := Section{Title: w.Title, Kind: dashboards.KindFunnel, Format: usersFormat, Labels: []string{},
		Columns: []string{"Step", "Users", "Conversion", "From previous", "Drop-off", "Median time"}}
	bars := ChartSeries{Name: "Users"}
	for _, st := range f.Steps {
		label := fmt.Sprintf("%d. %s", st.Step, st.Label)
		sec.Labels = append(sec.Labels, label)
		bars.Values = append(bars.Values, float64(st.Entered))
		median := Cell{Text: "–", Right: true}
		if st.MedianTimeToConvert != nil {
			median.Text = humanDuration(*st.MedianTimeToConvert)
		}
		sec.Rows = append(sec.Rows, []Cell{{Text: label}, intCell(st.Entered), floatCell(st.ConversionFromFirst, rateFormat),
			floatCell(st.ConversionFromPrevious, rateFormat), intCell(st.DropOff), median})
	}
	sec.Series = []ChartSeries{bars}
	out := []Section{sec}
	if len(f.Breakdowns) == 0 {
		return out
	}
	by := Section{Title: w.Title + " by " + strings.ToLower(columnLabel(breakdownName(w))), Kind: dashboards.KindTable, Columns: []string{columnLabel(breakdownName(w))}}
	for _, st := range f.Steps {
		by.Columns = append(by.Columns, fmt.Sprintf("%d. %s", st.Step, st.Label))
	}
	by.Columns = append(by.Columns, "Conversion")
	for _, b := range f.Breakdowns {
		row := []Cell{{Text: breakdownValue(b.Value, b.Other)}}
		for _, st := range b.Steps {
			row = append(row, intCell(st.Entered))
		}
		row = append(row, floatCell(b.Steps[len(b.Steps)-1].ConversionFromFirst, rateFormat))
		by.Rows = append(by.Rows, row)
	}
	return append(out, by)
}

// retentionSection is the triangle as a heat-map table: a row per start
// period (its start and size), a column per later period, the weighted
// mean last.
func retentionSection(w dashboards.Widget, r *journeys.RetentionResult, loc *time.Location) Section {
	sec := Section{Title: w.Title, Kind: dashboards.KindRetention, Columns: []string{"Cohort", "Users"}}
	period := timerange.GrainWeek
	if q := w.Journey; q != nil && q.Retention != nil {
		period = q.Retention.Period
	}
	width := len(r.Mean)
	for _, c := range r.Cohorts {
		width = max(width, len(c.Cells))
	}
	for i := range width {
		sec.Columns = append(sec.Columns, fmt.Sprintf("%s %d", periodName(period), i))
	}
	row := func(label string, size *int64, cells []journeys.RetentionCell) []Cell {
		out := []Cell{{Text: label}, {Text: "–"}}
		if size != nil {
			out[1] = intCell(*size)
		}
		for i := range width {
			if i >= len(cells) {
				out = append(out, Cell{})
				continue
			}
			c := floatCell(cells[i].Rate, rateFormat)
			rate := cells[i].Rate
			c.Heat = &rate
			out = append(out, c)
		}
		return out
	}
	var total int64
	for _, c := range r.Cohorts {
		size := c.Size
		total += size
		sec.Rows = append(sec.Rows, row(periodLabel(c.Start.In(loc), period), &size, c.Cells))
	}
	if len(r.Cohorts) > 0 {
		sec.Rows = append(sec.Rows, row("Mean (weighted)", &total, r.Mean))
	}
	return sec
}

// pathsSection lists the moves of the paths step by step, most users
// first within a step.
func pathsSection(w dashboards.Widget, p *journeys.PathsResult) Section {
	sec := Section{Title: w.Title, Kind: dashboards.KindPaths, Columns: []string{"Step", "From", "To", "Users"}}
	edges := slices.Clone(p.Edges)
	slices.SortStableFunc(edges, func(a, b journeys.PathEdge) int { return cmp.Compare(a.Step, b.Step) })
	for _, e := range edges {
		sec.Rows = append(sec.Rows, []Cell{{Text: fmt.Sprintf("%d → %d", e.Step, e.Step+1)}, {Text: e.From}, {Text: e.To}, intCell(e.Users)})
	}
	return sec
}

// breakdownName is the property a funnel widget is split by.
func breakdownName(w dashboards.Widget) string {
	if q := w.Journey; q != nil && q.Funnel != nil && q.Funnel.Breakdown != nil {
		return q.Funnel.Breakdown.Property
	}
	return "value"
}

// breakdownValue prints a breakdown value for readers.
func breakdownValue(v string, other bool) string {
	switch {
	case other:
		return "Other"
	case v == "":
		return "(none)"
	}
	return v
}

// periodName names a retention period in column headers.
func periodName(g timerange.Grain) string {
	return map[timerange.Grain]string{timerange.GrainDay: "Day", timerange.GrainWeek: "Week", timerange.GrainMonth: "Month"}[g]
}

// periodLabel prints a cohort's start period.
func periodLabel(t time.Time, g timerange.Grain) string {
	if g == timerange.GrainMonth {
		return t.Format("Jan 2006")
	}
	return t.Format("2 Jan 2006")
}

// humanDuration prints a time to convert: "45s", "12m", "3.5h", "2.1d".
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", d.Hours()), ".0") + "h"
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", d.Hours()/24), ".0") + "d"
}

func intCell(n int64) Cell {
	v := float64(n)
	return numCell(&v, usersFormat)
}
