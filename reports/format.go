package reports

import (
	"math"
	"strconv"
	"strings"

	"github.com/learnhub/analytics-service/metrics"
)

// NumberFormat is how a report shows a metric's numbers: the metric's
// display format (metrics.Definition.Format), a subset of Excel's number
// formats. "#,##0" groups thousands, "0.0" has one decimal, a trailing
// "%" shows a ratio as a percentage ("0.0%": 0.625 → "62.5%"). The PDF
// (tiles, tables, chart axes) prints with it and the XLSX cells carry it as
// their number format. The zero value groups integers ("12,345") and gives
// other numbers two decimals ("78.25"), with General cells in XLSX.
type NumberFormat string

// MetricFormat is the format of a metric's numbers: its Format, else "0.0%"
// for a ratio or percent unit, else the zero value.
func MetricFormat(def *metrics.Definition) NumberFormat {
	switch {
	case def == nil:
		return ""
	case def.Format != "" && NumberFormat(def.Format).valid():
		return NumberFormat(def.Format)
	case def.Unit == "ratio" || def.Unit == "percent":
		return "0.0%"
	}
	return ""
}

// Format prints v; "–" for none.
func (f NumberFormat) Format(v *float64) string {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return "–"
	}
	x := *v
	if f == "" {
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return group(strconv.FormatFloat(x, 'f', 0, 64))
		}
		return group(strconv.FormatFloat(x, 'f', 2, 64))
	}
	decimals, grouped, percent := f.parts()
	if percent {
		x *= 100
	}
	s := strconv.FormatFloat(x, 'f', decimals, 64)
	if strings.HasPrefix(s, "-") && strings.Trim(s, "-0.") == "" {
		s = s[1:] // no "-0.0"
	}
	if grouped {
		s = group(s)
	}
	if percent {
		s += "%"
	}
	return s
}

// Tick labels a chart axis value: as Format, but with no more decimals
// than the value needs (axis steps are round: "20%", "1,500", "2.5").
func (f NumberFormat) Tick(v float64) string {
	_, grouped, percent := f.parts()
	if percent {
		v *= 100
	}
	v = math.Round(v*1e9) / 1e9 // 0.30000000000000004 → 0.3
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if f == "" || grouped {
		s = group(s)
	}
	if percent {
		s += "%"
	}
	return s
}

// Excel is the number format of the format's XLSX cells; empty for
// General.
func (f NumberFormat) Excel() string { return string(f) }

// valid reports whether f is a format this package understands: digits
// placeholders, an optional thousands comma, decimals and a trailing "%".
func (f NumberFormat) valid() bool {
	core := strings.TrimSuffix(string(f), "%")
	intPart, frac, _ := strings.Cut(core, ".")
	return intPart != "" && strings.Trim(intPart, "#,0") == "" && strings.Trim(frac, "0#") == "" && strings.Contains(intPart, "0")
}

// parts are the decimals, the grouping and the percent sign of f.
func (f NumberFormat) parts() (decimals int, grouped, percent bool) {
	core, percent := strings.CutSuffix(string(f), "%")
	intPart, frac, _ := strings.Cut(core, ".")
	return len(frac), strings.Contains(intPart, ","), percent
}

// group inserts thousands separators into a formatted number.
func group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return b.String()
}
