package reports

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
)

// A LINE widget with an overlay (dashboards.Overlay) is drawn with its
// forecast as a shaded band (the widest interval, lo95–hi95 by default)
// around a dashed line that continues the series past the window, and
// each anomalous bucket as a red dot on the series; the legend names
// both and a caption under the chart lists the anomalous buckets.

// anomalyColor marks anomalous buckets (and their legend key).
var anomalyColor = color.RGBA{0xdc, 0x26, 0x26, 0xff}

// ChartOverlay is what a LINE section draws over its series.
type ChartOverlay struct {
	// Forecasts continue series past the window, one per forecast series.
	Forecasts []ChartForecast
	// Markers are the anomalous buckets, oldest first.
	Markers []ChartMarker
	// Level is the band's interval level in percent (0 without a forecast).
	Level float64
	// Error is why (part of) the overlay is missing.
	Error string
}

// ChartForecast is the forecast of one drawn series.
type ChartForecast struct {
	Series              int // index in Section.Series
	Buckets             []time.Time
	Point, Lower, Upper []float64
}

// ChartMarker is one anomalous bucket of a drawn series.
type ChartMarker struct {
	Series int // index in Section.Series
	Bucket time.Time
	Value  float64
	Score  float64
}

// chartOverlay maps a widget's rendered overlay onto the section built
// from res, its one metric: each overlay series goes to the section's
// series with the same labels (a series the window does not show is left
// out).
func chartOverlay(od *dashboards.OverlayData, res *metrics.Result) *ChartOverlay {
	out := &ChartOverlay{}
	if od.Error != nil {
		out.Error = od.Error.Message
	}
	if res == nil {
		return out
	}
	index := map[string]int{}
	for j, se := range res.Series {
		labels := map[string]string{}
		for k, d := range res.Dimensions {
			if k < len(se.Values) {
				labels[d] = se.Values[k]
			}
		}
		index[dashboards.LabelKey(labels)] = j
	}
	for _, f := range od.Forecast {
		j, ok := index[dashboards.LabelKey(f.Labels)]
		if !ok || len(f.Points) == 0 {
			continue
		}
		cf := ChartForecast{Series: j}
		for _, p := range f.Points {
			iv := widest(p.Intervals)
			cf.Buckets = append(cf.Buckets, p.Bucket)
			cf.Point, cf.Lower, cf.Upper = append(cf.Point, p.Value), append(cf.Lower, iv.Lower), append(cf.Upper, iv.Upper)
			out.Level = iv.Level
		}
		out.Forecasts = append(out.Forecasts, cf)
	}
	for _, a := range od.Anomalies {
		j, ok := index[dashboards.LabelKey(a.Labels)]
		if !ok {
			continue
		}
		for _, p := range a.Points {
			if p.Anomalous {
				out.Markers = append(out.Markers, ChartMarker{Series: j, Bucket: p.Bucket, Value: p.Value, Score: p.Score})
			}
		}
	}
	slices.SortStableFunc(out.Markers, func(a, b ChartMarker) int { return a.Bucket.Compare(b.Bucket) })
	return out
}

// widest is the interval of the highest level (the zero Interval, which
// draws no band, when there is none).
func widest(ivs []dashboards.Interval) dashboards.Interval {
	var w dashboards.Interval
	for _, iv := range ivs {
		if iv.Level > w.Level {
			w = iv
		}
	}
	if w.Level == 0 {
		return dashboards.Interval{Lower: math.NaN(), Upper: math.NaN()}
	}
	return w
}

// drawBands adds a section's forecast bands to p, before the series
// lines so that they stay on top.
func drawBands(p *plot.Plot, sec *Section) error {
	if sec.Overlay == nil {
		return nil
	}
	for _, f := range sec.Overlay.Forecasts {
		c := seriesColor(f.Series)
		var upper, lower plotter.XYs
		for i, b := range f.Buckets {
			if !math.IsNaN(f.Lower[i]) && !math.IsNaN(f.Upper[i]) {
				x := float64(b.Unix())
				upper = append(upper, plotter.XY{X: x, Y: f.Upper[i]})
				lower = append(lower, plotter.XY{X: x, Y: max(f.Lower[i], sec.floor())})
			}
		}
		if len(upper) > 1 {
			slices.Reverse(lower)
			band, err := plotter.NewPolygon(append(upper, lower...))
			if err != nil {
				return errs.Wrap("reports.chart", errs.KindInternal, err, "")
			}
			band.Color, band.LineStyle.Width = color.NRGBA{c.R, c.G, c.B, 0x30}, 0
			p.Add(band)
		}
	}
	return nil
}

// drawOverlay adds a section's dashed forecast lines and anomaly markers
// to p, over the series lines.
func drawOverlay(p *plot.Plot, sec *Section) error {
	o := sec.Overlay
	if o == nil {
		return nil
	}
	for _, f := range o.Forecasts {
		c := seriesColor(f.Series)
		// The dashed line starts at the series' last value, so it reads
		// as the series' continuation.
		line := plotter.XYs{}
		if last, ok := lastValue(sec, f.Series, f.Buckets[0]); ok {
			line = append(line, last)
		}
		for i, b := range f.Buckets {
			line = append(line, plotter.XY{X: float64(b.Unix()), Y: f.Point[i]})
		}
		l, err := plotter.NewLine(line)
		if err != nil {
			return errs.Wrap("reports.chart", errs.KindInternal, err, "")
		}
		l.LineStyle.Color, l.LineStyle.Width = c, vg.Points(1.3)
		l.LineStyle.Dashes = []vg.Length{vg.Points(4), vg.Points(2.5)}
		p.Add(l)
	}
	if len(o.Markers) > 0 {
		pts := make(plotter.XYs, len(o.Markers))
		for i, m := range o.Markers {
			pts[i] = plotter.XY{X: float64(m.Bucket.Unix()), Y: m.Value}
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return errs.Wrap("reports.chart", errs.KindInternal, err, "")
		}
		s.GlyphStyle = draw.GlyphStyle{Color: anomalyColor, Radius: vg.Points(2.8), Shape: draw.CircleGlyph{}}
		ring, _ := plotter.NewScatter(pts)
		ring.GlyphStyle = draw.GlyphStyle{Color: color.White, Radius: vg.Points(4), Shape: draw.CircleGlyph{}}
		p.Add(ring, s) // a white ring keeps the dot apart from the line
	}
	return nil
}

// lastValue is series i's newest point before the bucket at (a window
// ending now holds the current, incomplete bucket: the forecast's first).
func lastValue(sec *Section, i int, before time.Time) (plotter.XY, bool) {
	vals := sec.Series[i].Values
	for j := len(vals) - 1; j >= 0; j-- {
		if !math.IsNaN(vals[j]) && sec.Buckets[j].Before(before) {
			return plotter.XY{X: float64(sec.Buckets[j].Unix()), Y: vals[j]}, true
		}
	}
	return plotter.XY{}, false
}

// floor is the lowest value a band is drawn down to: zero for a section
// whose series are never negative (counts, rates), else no limit.
func (sec *Section) floor() float64 {
	for _, s := range sec.Series {
		for _, v := range s.Values {
			if v < 0 {
				return math.Inf(-1)
			}
		}
	}
	return 0
}

// overlayTop is the highest value an overlay draws (0 without one).
func overlayTop(sec *Section) float64 {
	top := 0.0
	if sec.Overlay == nil {
		return top
	}
	for _, f := range sec.Overlay.Forecasts {
		for i := range f.Point {
			for _, v := range []float64{f.Point[i], f.Upper[i]} {
				if !math.IsNaN(v) && v > top {
					top = v
				}
			}
		}
	}
	return top
}

// overlayCaption is the line under an overlay chart: the anomalous
// buckets (the first few) or that there were none, and any error.
func overlayCaption(o *ChartOverlay, loc *time.Location, hourly bool) string {
	layout := "2 Jan"
	if hourly {
		layout = "2 Jan 15:04"
	}
	var parts []string
	if n := len(o.Markers); n > 0 {
		var when []string
		for _, m := range o.Markers[:min(n, 8)] {
			when = append(when, m.Bucket.In(loc).Format(layout))
		}
		more := ""
		if n > 8 {
			more = fmt.Sprintf(" and %d more", n-8)
		}
		noun := "buckets"
		if n == 1 {
			noun = "bucket"
		}
		parts = append(parts, fmt.Sprintf("%d anomalous %s: %s%s", n, noun, strings.Join(when, ", "), more))
	}
	if len(o.Forecasts) > 0 {
		parts = append(parts, fmt.Sprintf("forecast with its %g%% interval", o.Level))
	}
	if o.Error != "" {
		parts = append(parts, "overlay: "+o.Error)
	}
	return strings.Join(parts, " · ")
}

// hourly says whether a section's buckets are shorter than a day.
func hourly(sec *Section) bool {
	return len(sec.Buckets) > 1 && sec.Buckets[1].Sub(sec.Buckets[0]) < 24*time.Hour
}

// overlayKeys writes the legend keys of an overlay after the series' keys
// (at x, y) and returns the y of the legend's last line.
func (d *pdfDoc) overlayKeys(o *ChartOverlay, x, y float64) float64 {
	f := d.f
	key := func(name string, draw func(x, y float64)) {
		w := f.GetStringWidth(name) + 9
		if x+w > margin+contentW {
			x, y = margin, y+4.5
		}
		draw(x, y)
		f.SetXY(x+4, y)
		f.CellFormat(w-4, 4.5, name, "", 0, "L", false, 0, "")
		x += w
	}
	if len(o.Forecasts) > 0 {
		c := seriesColor(o.Forecasts[0].Series)
		key(fmt.Sprintf("Forecast (%g%% band)", o.Level), func(x, y float64) {
			f.SetFillColor(int(c.R)+(255-int(c.R))*3/4, int(c.G)+(255-int(c.G))*3/4, int(c.B)+(255-int(c.B))*3/4)
			f.Rect(x, y+0.8, 3, 3, "F")
			f.SetDrawColor(int(c.R), int(c.G), int(c.B))
			f.SetLineWidth(0.3)
			f.SetDashPattern([]float64{0.8, 0.5}, 0)
			f.Line(x, y+2.3, x+3, y+2.3)
			f.SetDashPattern(nil, 0)
		})
	}
	if len(o.Markers) > 0 {
		key("Anomaly", func(x, y float64) {
			f.SetFillColor(int(anomalyColor.R), int(anomalyColor.G), int(anomalyColor.B))
			f.Circle(x+1.5, y+2.3, 1.1, "F")
		})
	}
	return y
}

// caption writes a muted line under a chart.
func (d *pdfDoc) caption(s string) {
	if s == "" {
		return
	}
	d.font("", 8)
	d.color(muted)
	d.f.SetX(margin)
	d.f.CellFormat(contentW, 4.5, d.fit(s, contentW), "", 1, "L", false, 0, "")
}
