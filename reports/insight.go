package reports

import (
	"fmt"
	"slices"
	"time"

	"github.com/learnhub/analytics-service/dashboards"
)

// INSIGHT widgets in reports: the pinned chart as the insight stored it
// (a line over its days, bars per label with a bar group per series, or a
// table), captioned with the insight's id, question, time and confidence
// so a reader knows it is a stored answer and not the report's window.
// Every chart also becomes a table (x, then a column per series): what
// XLSX and CSV hold, and what the PDF prints under bars and tables.

// insightSection shapes an INSIGHT widget's render as a report section.
func insightSection(w dashboards.Widget, wd *dashboards.WidgetData, loc *time.Location) Section {
	sec := Section{Title: w.Title, Kind: dashboards.KindTable}
	switch {
	case wd.Error != nil:
		sec.Error = wd.Error.Message
		return sec
	case wd.Insight == nil:
		sec.Error = "no data"
		return sec
	}
	in := wd.Insight
	c := in.Chart
	sec.Caption = fmt.Sprintf("Insight %s, %s, as of %s, confidence %s", in.InsightID, in.Question,
		in.AsOf.In(loc).Format("2 Jan 2006 15:04 MST"), in.ConfidenceLevel)
	// One x axis for every series, in the order they name it.
	var xs []string
	for _, s := range c.Series {
		for _, x := range s.X {
			if !slices.Contains(xs, x) {
				xs = append(xs, x)
			}
		}
	}
	sec.Columns = []string{c.X}
	for _, s := range c.Series {
		sec.Columns = append(sec.Columns, s.Name)
		cs := ChartSeries{Name: s.Name, Values: nanSlice(len(xs))}
		for i, x := range s.X {
			if i < len(s.Y) {
				cs.Values[slices.Index(xs, x)] = s.Y[i]
			}
		}
		sec.Series = append(sec.Series, cs)
	}
	for i, x := range xs {
		row := []Cell{{Text: x}}
		for _, s := range sec.Series {
			row = append(row, floatCell(s.Values[i], ""))
		}
		sec.Rows = append(sec.Rows, row)
	}
	switch c.Type {
	case "line":
		if buckets, ok := days(xs, loc); ok {
			sec.Kind, sec.Buckets = dashboards.KindLine, buckets
			return sec
		}
		sec.Kind, sec.Labels = dashboards.KindBar, xs
	case "bar":
		sec.Kind, sec.Labels = dashboards.KindBar, xs
	}
	return sec
}

// days parses x values written as dates (2026-03-01) in loc; ok is false
// when any is not one.
func days(xs []string, loc *time.Location) ([]time.Time, bool) {
	out := make([]time.Time, len(xs))
	for i, x := range xs {
		t, err := time.ParseInLocation(time.DateOnly, x, loc)
		if err != nil {
			return nil, false
		}
		out[i] = t
	}
	return out, len(out) > 0
}

// groupOffset is where bar i of n sits from its label's centre, for bars
// of the given width side by side.
func groupOffset(i, n int, width float64) float64 {
	return (float64(i) - float64(n-1)/2) * width
}

// note writes a muted caption under a chart or table, wrapped to the
// content width (an insight's question may be long).
func (d *pdfDoc) note(s string) {
	if s == "" {
		return
	}
	d.font("", 8)
	d.color(muted)
	d.f.SetX(margin)
	d.f.MultiCell(contentW, 4, pdfText(s), "", "L", false)
}
