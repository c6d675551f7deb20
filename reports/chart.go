package reports

import (
	"bytes"
	"image/color"
	"math"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/platform/errs"
)

// chartDPI is the resolution charts are drawn at; the PDF scales them to
// their box, so text stays sharp when printed.
const chartDPI = 200

// palette colours the series of a chart, in order.
var palette = []color.RGBA{
	{0x25, 0x63, 0xeb, 0xff}, // blue
	{0x0d, 0x94, 0x88, 0xff}, // teal
	{0xd9, 0x77, 0x06, 0xff}, // amber
	{0xe1, 0x1d, 0x48, 0xff}, // rose
	{0x7c, 0x3a, 0xed, 0xff}, // violet
	{0x47, 0x55, 0x69, 0xff}, // slate
}

var (
	gridColor = color.RGBA{0xe2, 0xe8, 0xf0, 0xff}
	axisColor = color.RGBA{0x64, 0x74, 0x8b, 0xff}
)

// chartPNG draws a section as a PNG of w×h points: lines over time for
// LINE and AREA, bars per label for BAR and PIE. ok is false for a section
// with nothing to draw.
func chartPNG(sec *Section, loc *time.Location, w, h vg.Length) (png []byte, ok bool, err error) {
	p := plot.New()
	style(p)
	p.Y.Tick.Marker = formatTicks{format: sec.Format}
	switch {
	case len(sec.Buckets) > 0 && len(sec.Series) > 0:
		ok, err = lines(p, sec, loc)
	case len(sec.Labels) > 0 && len(sec.Series) > 0:
		ok, err = bars(p, sec)
	}
	if err != nil || !ok {
		return nil, false, err
	}
	if top := max(maxValue(sec), overlayTop(sec)); top > 0 {
		p.Y.Max = top * 1.12
	}
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(chartDPI), vgimg.UseBackgroundColor(color.White))
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, false, errs.Wrap("reports.chart", errs.KindInternal, err, "")
	}
	return buf.Bytes(), true, nil
}

// style gives a plot the report's look: no title (the PDF prints it), light
// grid, slate axes.
func style(p *plot.Plot) {
	p.BackgroundColor = color.White
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Color = axisColor
		a.LineStyle.Color = axisColor
		a.Tick.Color = axisColor
		a.Tick.Label.Color = axisColor
		a.Tick.Label.Font.Size = vg.Points(8)
		a.Tick.Label.Font.Typeface = "Liberation"
		a.Tick.Label.Font.Variant = "Sans"
		a.Padding = vg.Points(2)
	}
	p.Y.Min = 0
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Transparent
	grid.Horizontal.Color = gridColor
	p.Add(grid)
}

func lines(p *plot.Plot, sec *Section, loc *time.Location) (bool, error) {
	p.X.Tick.Marker = plot.TimeTicks{Format: "2 Jan", Time: func(t float64) time.Time { return time.Unix(int64(t), 0).In(loc) }}
	if err := drawBands(p, sec); err != nil {
		return false, err
	}
	drawn := false
	for i, s := range sec.Series {
		pts := plotter.XYs{}
		for j, v := range s.Values {
			if !math.IsNaN(v) {
				pts = append(pts, plotter.XY{X: float64(sec.Buckets[j].Unix()), Y: v})
			}
		}
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return false, errs.Wrap("reports.chart", errs.KindInternal, err, "")
		}
		c := seriesColor(i)
		l.LineStyle.Color, l.LineStyle.Width = c, vg.Points(1.6)
		if sec.Kind == dashboards.KindArea {
			l.FillColor = color.NRGBA{c.R, c.G, c.B, 0x38}
		}
		p.Add(l)
		drawn = true
	}
	if !drawn {
		return false, nil
	}
	return true, drawOverlay(p, sec)
}

func bars(p *plot.Plot, sec *Section) (bool, error) {
	if len(sec.Series[0].Values) == 0 {
		return false, nil
	}
	// several series (a pinned insight's periods) are bars side by side
	n := len(sec.Series)
	width := vg.Points(min(36, 360/float64(len(sec.Series[0].Values)))) / vg.Length(n)
	for i, s := range sec.Series {
		vals := plotter.Values{}
		for _, v := range s.Values {
			if math.IsNaN(v) {
				v = 0
			}
			vals = append(vals, v)
		}
		b, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return false, errs.Wrap("reports.chart", errs.KindInternal, err, "")
		}
		b.Color, b.LineStyle.Width = seriesColor(i), 0
		b.Offset = vg.Length(groupOffset(i, n, float64(width)))
		p.Add(b)
	}
	p.X.Tick.Label.Font.Size = vg.Points(7.5)
	face := font.DefaultCache.Lookup(p.X.Tick.Label.Font, p.X.Tick.Label.Font.Size)
	labels := make([]string, len(sec.Labels))
	for i, l := range sec.Labels {
		labels[i] = chartLabel(face, l)
	}
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.6, float64(len(sec.Series[0].Values))-0.4
	if len(sec.Labels) > 8 {
		p.X.Tick.Label.Rotation = math.Pi / 5
		p.X.Tick.Label.XAlign = draw.XRight
	}
	return true, nil
}

// chartLabel is s as pdfText writes it, with the runes face lacks shown
// as "□", as PDF viewers show them: gonum/plot would leave them out, and a
// label in CJK only would vanish.
func chartLabel(face font.Face, s string) string {
	s = pdfText(s)
	if face.Face == nil {
		return s
	}
	return strings.Map(func(r rune) rune {
		if g, err := face.Face.GlyphIndex(nil, r); err != nil || g == 0 {
			return '□'
		}
		return r
	}, s)
}

// maxValue is the largest value of a section's series (0 when none).
func maxValue(sec *Section) float64 {
	top := 0.0
	for _, s := range sec.Series {
		for _, v := range s.Values {
			if !math.IsNaN(v) && v > top {
				top = v
			}
		}
	}
	return top
}

// seriesColor is the colour of series i in charts (and in the PDF legend).
func seriesColor(i int) color.RGBA { return palette[i%len(palette)] }

// formatTicks are plot.DefaultTicks labelled with the section's number
// format, without needless decimals ("20%", "1,500", "2.5"), so an axis
// reads like the tiles and tables.
type formatTicks struct{ format NumberFormat }

// Ticks returns the default ticks between min and max, relabelled.
func (t formatTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = t.format.Tick(ticks[i].Value)
		}
	}
	return ticks
}
