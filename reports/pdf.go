package reports

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
	"gonum.org/v1/plot/vg"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/platform/errs"
)

// Page geometry of the PDF (A4 portrait, millimetres).
const (
	pageW        = 210.0
	pageH        = 297.0
	margin       = 15.0
	contentW     = pageW - 2*margin
	footerSpace  = 16.0
	kpiPerRow    = 4
	kpiGap       = 4.0
	kpiH         = 24.0
	chartH       = 60.0
	rowH         = 6.0
	maxTableRows = 40
	sideRows     = 8    // a bar chart's table of at most this many rows goes beside it
	sideTableW   = 64.0 // width of such a table
	// bottom is the lowest y content may reach (the footer is below).
	bottom = pageH - footerSpace - 4
)

// rgb is a colour of the PDF palette.
type rgb struct{ r, g, b int }

var (
	ink      = rgb{0x0f, 0x17, 0x2a} // headings and numbers
	muted    = rgb{0x64, 0x74, 0x8b} // labels and captions
	band     = rgb{0x1e, 0x29, 0x3b} // the title band
	accent   = rgb{0x25, 0x63, 0xeb} // rules and highlights
	tileFill = rgb{0xf1, 0xf5, 0xf9}
	zebra    = rgb{0xf8, 0xfa, 0xfc}
	headFill = rgb{0xe2, 0xe8, 0xf0}
	errFill  = rgb{0xfe, 0xf2, 0xf2}
	errInk   = rgb{0xb9, 0x1c, 0x1c}
)

// pdfDoc writes one snapshot as a PDF.
type pdfDoc struct {
	f    *fpdf.Fpdf
	snap *Snapshot
	imgs int
}

// writePDF renders snap as an A4 report: a title band with the period and
// filters, KPI tiles, then every other section as a chart and/or a table.
func writePDF(w io.Writer, snap *Snapshot) error {
	f := fpdf.New("P", "mm", "A4", "")
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(false, footerSpace)
	f.SetCreationDate(snap.GeneratedAt)
	f.SetModificationDate(snap.GeneratedAt)
	f.SetCatalogSort(true)
	f.AliasNbPages("")
	d := &pdfDoc{f: f, snap: snap}
	f.SetTitle(pdfText(snap.Title), true)
	f.SetCreator("LearnHub Analytics", false)
	f.SetFooterFunc(d.footer)
	f.AddPage()
	d.header()
	d.kpis()
	for i := range snap.Sections {
		if sec := &snap.Sections[i]; sec.Kind != dashboards.KindKPI || sec.Error != "" {
			if err := d.section(sec); err != nil {
				return err
			}
		}
	}
	if err := f.Output(w); err != nil {
		return errs.Wrap("reports.pdf", errs.KindInternal, err, "")
	}
	return nil
}

func (d *pdfDoc) color(c rgb) { d.f.SetTextColor(c.r, c.g, c.b) }
func (d *pdfDoc) fill(c rgb)  { d.f.SetFillColor(c.r, c.g, c.b) }

// header draws the title band and the period, filters and generation time.
func (d *pdfDoc) header() {
	f, s := d.f, d.snap
	d.fill(band)
	f.Rect(0, 0, pageW, 34, "F")
	d.fill(accent)
	f.Rect(0, 34, pageW, 1.2, "F")
	f.SetXY(margin, 9)
	d.font("B", 20)
	f.SetTextColor(0xff, 0xff, 0xff)
	f.CellFormat(contentW, 10, d.fit(s.Title, contentW), "", 1, "L", false, 0, "")
	f.SetX(margin)
	d.font("", 10.5)
	f.SetTextColor(0xcb, 0xd5, 0xe1)
	f.CellFormat(contentW, 7, d.fit(s.Subtitle, contentW), "", 1, "L", false, 0, "")
	f.SetY(41)
	d.meta("Period", s.Period())
	filters := "none"
	if len(s.Filters) > 0 {
		filters = strings.Join(s.Filters, "; ")
	}
	d.meta("Filters", filters)
	d.meta("Generated", s.GeneratedAt.In(s.Location).Format("2 Jan 2006 15:04 MST"))
	f.Ln(4)
}

// meta writes one "Label  value" line under the title band.
func (d *pdfDoc) meta(label, value string) {
	f := d.f
	f.SetX(margin)
	d.font("B", 9)
	d.color(muted)
	f.CellFormat(22, 5.5, strings.ToUpper(label), "", 0, "L", false, 0, "")
	d.font("", 9.5)
	d.color(ink)
	f.CellFormat(contentW-22, 5.5, d.fit(value, contentW-22), "", 1, "L", false, 0, "")
}

// kpis draws the numbers of every KPI section as tiles, kpiPerRow a row.
func (d *pdfDoc) kpis() {
	type tile struct{ label, value, caption string }
	var tiles []tile
	for _, sec := range d.snap.Sections {
		if sec.Kind != dashboards.KindKPI || sec.Error != "" {
			continue
		}
		for _, k := range sec.KPIs {
			label, caption := sec.Title, k.Label
			if len(sec.KPIs) > 1 {
				label, caption = k.Label, sec.Title
			}
			if k.Unit != "" && k.Unit != "ratio" && k.Unit != "percent" {
				caption += " · " + k.Unit
			}
			tiles = append(tiles, tile{label, k.Format.Format(k.Value), caption})
		}
	}
	if len(tiles) == 0 {
		return
	}
	d.heading("Key figures")
	f := d.f
	perRow := min(len(tiles), kpiPerRow)
	w := (contentW - kpiGap*float64(perRow-1)) / float64(perRow)
	y := f.GetY()
	for i, t := range tiles {
		if i > 0 && i%perRow == 0 {
			y += kpiH + kpiGap
		}
		x := margin + float64(i%perRow)*(w+kpiGap)
		d.fill(tileFill)
		f.RoundedRect(x, y, w, kpiH, 2, "1234", "F")
		d.fill(accent)
		f.Rect(x, y+3, 1.1, kpiH-6, "F")
		f.SetXY(x+4, y+3)
		d.font("B", 7.5)
		d.color(muted)
		f.CellFormat(w-6, 4.5, d.fit(strings.ToUpper(t.label), w-6), "", 2, "L", false, 0, "")
		f.SetX(x + 4)
		d.font("B", 18)
		d.color(ink)
		f.CellFormat(w-6, 10, d.fit(t.value, w-6), "", 2, "L", false, 0, "")
		f.SetX(x + 4)
		d.font("", 7)
		d.color(muted)
		f.CellFormat(w-6, 4, d.fit(t.caption, w-6), "", 0, "L", false, 0, "")
	}
	f.SetY(y + kpiH + 8)
}

// section draws one non-KPI section: its chart (LINE, AREA, BAR, PIE) and
// its table (TABLE, BAR, PIE), or the error box. A bar chart with a short
// table gets the table beside it.
func (d *pdfDoc) section(sec *Section) error {
	f := d.f
	charted := !slices.Contains([]dashboards.WidgetKind{dashboards.KindTable, dashboards.KindRetention, dashboards.KindPaths}, sec.Kind)
	tabled := slices.Contains([]dashboards.WidgetKind{dashboards.KindTable, dashboards.KindBar, dashboards.KindPie,
		dashboards.KindFunnel, dashboards.KindRetention, dashboards.KindPaths}, sec.Kind)
	// a funnel's step table has too many columns to sit beside its bars
	beside := charted && tabled && len(sec.Rows) <= sideRows && sec.Kind != dashboards.KindFunnel
	needs := 12.0
	if charted {
		needs += chartH + 6
	}
	if tabled && !beside {
		// a short table stays with its heading and chart; a long one
		// starts with at least a dozen rows
		needs += float64(min(len(sec.Rows), 12)+1) * rowH
	}
	d.room(needs)
	d.heading(sec.Title)
	if sec.Error != "" {
		d.fill(errFill)
		d.color(errInk)
		d.font("", 9)
		f.SetX(margin)
		f.CellFormat(contentW, 9, d.fit("  No data: "+sec.Error, contentW), "", 1, "L", true, 0, "")
		f.Ln(5)
		return nil
	}
	chartW := contentW
	if beside {
		chartW = contentW - sideTableW - 6
	}
	top := f.GetY()
	captioned := false
	if charted {
		png, ok, err := chartPNG(sec, d.snap.Location, vg.Length(chartW/25.4*72), vg.Length(chartH/25.4*72))
		if err != nil {
			return err
		}
		if ok {
			d.legend(sec)
			d.imgs++
			name := fmt.Sprintf("chart%d", d.imgs)
			f.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(png))
			f.ImageOptions(name, margin, f.GetY(), chartW, chartH, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
			f.SetY(f.GetY() + chartH + 3)
			if o := sec.Overlay; o != nil {
				d.caption(overlayCaption(o, d.snap.Location, hourly(sec)))
			}
			d.note(sec.Caption)
			captioned = true
		}
	}
	switch {
	case beside:
		end := f.GetY()
		f.SetY(top + 2)
		d.table(sec, margin+chartW+6, sideTableW)
		f.SetY(max(end, f.GetY()))
	case tabled:
		d.table(sec, margin, contentW)
	}
	if !captioned {
		d.note(sec.Caption) // a table's, or a chart's that could not be drawn
	}
	f.Ln(5)
	return nil
}

// legend writes a colour key above a chart of several series or with an
// overlay (whose band and markers get keys of their own).
func (d *pdfDoc) legend(sec *Section) {
	if (len(sec.Series) < 2 && sec.Overlay == nil) || (len(sec.Buckets) == 0 && len(sec.Series) < 2) {
		return
	}
	f := d.f
	d.font("", 8)
	d.color(muted)
	x, y := margin, f.GetY()
	for i, s := range sec.Series {
		name := d.fit(s.Name, 60)
		w := f.GetStringWidth(name) + 9
		if x+w > margin+contentW {
			x, y = margin, y+4.5
		}
		c := seriesColor(i)
		f.SetFillColor(int(c.R), int(c.G), int(c.B))
		f.Rect(x, y+1.2, 3, 2.2, "F")
		f.SetXY(x+4, y)
		f.CellFormat(w-4, 4.5, name, "", 0, "L", false, 0, "")
		x += w
	}
	if o := sec.Overlay; o != nil {
		y = d.overlayKeys(o, x, y)
	}
	f.SetY(y + 6)
}

// heading writes a section title with an accent rule under it.
func (d *pdfDoc) heading(title string) {
	f := d.f
	f.SetX(margin)
	d.font("B", 12)
	d.color(ink)
	f.CellFormat(contentW, 7, d.fit(title, contentW), "", 1, "L", false, 0, "")
	d.fill(accent)
	f.Rect(margin, f.GetY()+0.5, 14, 0.8, "F")
	f.Ln(3.5)
}

// table writes the section's rows (at most maxTableRows) with a shaded
// header, zebra rows and right-aligned numbers.
func (d *pdfDoc) table(sec *Section, x, width float64) {
	f := d.f
	if len(sec.Columns) == 0 {
		return
	}
	d.font("B", 8.5)
	first := f.GetStringWidth(pdfText(columnLabel(sec.Columns[0])))
	for _, row := range sec.Rows[:min(len(sec.Rows), maxTableRows)] {
		first = max(first, f.GetStringWidth(pdfText(row[0].Text)))
	}
	widths := columnWidths(len(sec.Columns), width, first+4)
	tableW := 0.0
	for _, w := range widths {
		tableW += w
	}
	head := func() {
		d.font("B", 8.5)
		d.fill(headFill)
		d.color(ink)
		f.SetX(x)
		for i, c := range sec.Columns {
			align := "R"
			if i == 0 || (i < len(sec.Rows[0]) && sec.Rows[0][i].Num == nil && !sec.Rows[0][i].Right) {
				align = "L"
			}
			f.CellFormat(widths[i], rowH+0.5, d.fit(columnLabel(c), widths[i]-2), "", 0, align, true, 0, "")
		}
		f.Ln(-1)
	}
	if len(sec.Rows) == 0 {
		d.font("I", 9)
		d.color(muted)
		f.SetX(x)
		f.CellFormat(tableW, rowH, "No rows in this period.", "", 1, "L", false, 0, "")
		return
	}
	head()
	d.font("", 8.5)
	for n, row := range sec.Rows {
		if n == maxTableRows {
			d.font("I", 8)
			d.color(muted)
			f.SetX(x)
			f.CellFormat(tableW, rowH, fmt.Sprintf("… %d more rows in the XLSX or CSV format of this report.", len(sec.Rows)-n), "", 1, "L", false, 0, "")
			break
		}
		if f.GetY()+rowH > bottom {
			f.AddPage()
			head()
			d.font("", 8.5)
		}
		fill := n%2 == 1
		f.SetX(x)
		for i, c := range row {
			align := "L"
			if c.Num != nil || c.Right {
				align = "R"
			}
			d.fill(zebra)
			d.color(ink)
			cellFill := fill
			if c.Heat != nil {
				shade, text := heatColors(*c.Heat)
				d.fill(shade)
				d.color(text)
				cellFill = true
			}
			f.CellFormat(widths[i], rowH, d.fit(c.Text, widths[i]-2), "", 0, align, cellFill, 0, "")
		}
		f.Ln(-1)
	}
	d.fill(headFill)
	f.Rect(x, f.GetY(), tableW, 0.3, "F")
}

// heatColors are the fill and text colours of a heat-map cell of rate
// (0–1): white through the accent blue, with white text on dark cells.
func heatColors(rate float64) (fill, text rgb) {
	rate = max(0, min(1, rate))
	mix := func(from, to int) int { return from + int(math.Round(float64(to-from)*rate)) }
	fill = rgb{mix(0xff, accent.r), mix(0xff, accent.g), mix(0xff, accent.b)}
	if rate > 0.55 {
		return fill, rgb{0xff, 0xff, 0xff}
	}
	return fill, ink
}

// room starts a new page when less than h millimetres are left.
func (d *pdfDoc) room(h float64) {
	if d.f.GetY()+h > bottom {
		d.f.AddPage()
	}
}

// footer writes the report name and "Page n of m" on every page.
func (d *pdfDoc) footer() {
	f := d.f
	f.SetY(-12)
	d.fill(headFill)
	f.Rect(margin, f.GetY()-2, contentW, 0.3, "F")
	d.font("", 7.5)
	d.color(muted)
	f.SetX(margin)
	f.CellFormat(contentW/2, 5, d.fit("LearnHub Analytics · "+d.snap.Title, contentW/2), "", 0, "L", false, 0, "")
	f.CellFormat(contentW/2, 5, fmt.Sprintf("Page %d of {nb}", f.PageNo()), "", 0, "R", false, 0, "")
}

// fit is s as pdfText writes it, shortened with an ellipsis to w
// millimetres in the current font.
func (d *pdfDoc) fit(s string, w float64) string {
	t := pdfText(s)
	if d.f.GetStringWidth(t) <= w {
		return t
	}
	for t != "" && d.f.GetStringWidth(t+"…") > w {
		_, n := utf8.DecodeLastRuneInString(t)
		t = t[:len(t)-n]
	}
	return strings.TrimRightFunc(t, unicode.IsSpace) + "…"
}

// columnWidths sizes a table of n columns within width: value columns of
// 40 mm at most after a first column of at most 70 mm, no wider than its
// widest text (need) when the value columns can use the room.
func columnWidths(n int, width, need float64) []float64 {
	if n == 1 {
		return []float64{width}
	}
	first := min(70, width*0.45, max(need, 18))
	vw := min(40, (width-first)/float64(n-1))
	out := make([]float64, n)
	out[0] = min(first, width-vw*float64(n-1))
	for i := 1; i < n; i++ {
		out[i] = vw
	}
	return out
}

// columnLabel is a column name for readers: a property path loses its
// "properties." prefix and underscores ("properties.course_id" → "Course
// id").
func columnLabel(c string) string {
	c = strings.ReplaceAll(strings.TrimPrefix(c, "properties."), "_", " ")
	if c == "" {
		return c
	}
	return strings.ToUpper(c[:1]) + c[1:]
}
