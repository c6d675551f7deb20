package anomaly

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Series is one series of a long-format file, oldest first.
type Series struct {
	ID   string
	Line int // the line of its first row
	// Steps are the integer steps when ds is an integer; Times the
	// timestamps otherwise (one of the two is set).
	Steps []int64
	Times []time.Time
	Y     []float64
}

// Grain guesses the time grain from the median spacing of Times: "hour",
// "day", "week" or "month"; "" for integer steps or an unusual spacing.
func (s Series) Grain() string {
	if len(s.Times) < 2 {
		return ""
	}
	gaps := make([]float64, 0, len(s.Times)-1)
	for i := 1; i < len(s.Times); i++ {
		gaps = append(gaps, s.Times[i].Sub(s.Times[i-1]).Hours())
	}
	g := median(gaps)
	switch {
	case math.Abs(g-1) < 0.01:
		return "hour"
	case math.Abs(g-24) < 0.5:
		return "day"
	case math.Abs(g-168) < 1:
		return "week"
	case g >= 28*24 && g <= 31*24:
		return "month"
	}
	return ""
}

// LineError is a bad line of an input file: exit code 2 at the command
// line, BAD_USER_INPUT in the service.
type LineError struct {
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// ReadLong reads the long format `unique_id,ds,y` (a header line, then one
// observation a line; ds an integer step or a timestamp, increasing within
// each series). Series come back in the order they first appear. Every
// problem is a *LineError (wrapped in a KindInvalid error) naming the line.
func ReadLong(r io.Reader) ([]Series, error) {
	const op = "anomaly.ReadLong"
	bad := func(line int, format string, a ...any) error {
		le := &LineError{Line: line, Msg: fmt.Sprintf(format, a...)}
		return errs.Wrap(op, errs.KindInvalid, le, le.Error())
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, bad(1, "empty input; the first line must be the header unique_id,ds,y")
	}
	if err != nil {
		return nil, bad(1, "%v", csvCause(err))
	}
	if len(head) != 3 || strings.TrimSpace(strings.TrimPrefix(head[0], "\ufeff")) != "unique_id" || strings.TrimSpace(head[1]) != "ds" || strings.TrimSpace(head[2]) != "y" {
		return nil, bad(1, "header %q: want unique_id,ds,y", strings.Join(head, ","))
	}
	index := map[string]int{}
	var out []Series
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return nil, bad(max(line, 1), "%v", csvCause(err))
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != 3 {
			return nil, bad(line, "%d fields; want 3 (unique_id,ds,y)", len(rec))
		}
		id, ds, ys := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1]), strings.TrimSpace(rec[2])
		if id == "" {
			return nil, bad(line, "empty unique_id")
		}
		y, err := strconv.ParseFloat(ys, 64)
		if err != nil || math.IsNaN(y) || math.IsInf(y, 0) {
			return nil, bad(line, "y %q is not a finite number", ys)
		}
		i, ok := index[id]
		if !ok {
			i = len(out)
			index[id] = i
			out = append(out, Series{ID: id, Line: line})
		}
		s := &out[i]
		if step, err := strconv.ParseInt(ds, 10, 64); err == nil {
			if len(s.Times) > 0 {
				return nil, bad(line, "ds %q is a step but series %q uses timestamps", ds, id)
			}
			if n := len(s.Steps); n > 0 && step <= s.Steps[n-1] {
				return nil, bad(line, "ds %d of series %q is not after the previous %d; rows of a series must be in increasing time order", step, id, s.Steps[n-1])
			}
			s.Steps = append(s.Steps, step)
		} else {
			t, ok := parseTimestamp(ds)
			if !ok {
				return nil, bad(line, "ds %q is neither an integer step nor a timestamp (YYYY-MM-DD HH:MM:SS or RFC 3339)", ds)
			}
			if len(s.Steps) > 0 {
				return nil, bad(line, "ds %q is a timestamp but series %q uses integer steps", ds, id)
			}
			if n := len(s.Times); n > 0 && !t.After(s.Times[n-1]) {
				return nil, bad(line, "ds %s of series %q is not after the previous %s; rows of a series must be in increasing time order", ds, id, s.Times[n-1].Format(time.RFC3339))
			}
			s.Times = append(s.Times, t)
		}
		s.Y = append(s.Y, y)
	}
	if len(out) == 0 {
		return nil, bad(2, "no data rows after the header")
	}
	return out, nil
}

// parseTimestamp reads the ds formats accepted besides an integer step.
func parseTimestamp(s string) (time.Time, bool) {
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// csvCause strips encoding/csv's own line prefix (the caller adds the line).
func csvCause(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// WriteForecasts writes `unique_id,step,forecast,lo<L>,hi<L>…` for every
// series' forecast, the interval columns in the order of levels.
func WriteForecasts(w io.Writer, ids []string, fcs []Forecast, levels []float64) error {
	cw := csv.NewWriter(w)
	head := []string{"unique_id", "step", "forecast"}
	for _, l := range levels {
		ls := strconv.FormatFloat(l, 'f', -1, 64)
		head = append(head, "lo"+ls, "hi"+ls)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	rec := make([]string, len(head))
	for i, fc := range fcs {
		for k := range fc.Point {
			rec = rec[:0]
			rec = append(rec, ids[i], strconv.Itoa(k+1), formatValue(fc.Point[k]))
			for _, iv := range fc.Intervals {
				rec = append(rec, formatValue(iv.Lower[k]), formatValue(iv.Upper[k]))
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// formatValue prints a forecast with 6 significant digits past the unit,
// enough for any metric and stable across platforms.
func formatValue(v float64) string {
	return strconv.FormatFloat(v, 'f', 6, 64)
}

// ParseLevels parses a comma-separated level list such as "80,95".
func ParseLevels(s string) ([]float64, error) {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		v, err := strconv.ParseFloat(part, 64)
		if err != nil || !(v > 0 && v < 100) {
			return nil, errs.Invalid("anomaly.ParseLevels", "levels", fmt.Sprintf("level %q: use percents strictly between 0 and 100, e.g. 80,95", part))
		}
		if slices.Contains(out, v) {
			return nil, errs.Invalid("anomaly.ParseLevels", "levels", fmt.Sprintf("level %q is given twice", part))
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, errs.Invalid("anomaly.ParseLevels", "levels", "no level given; use e.g. 80,95")
	}
	return out, nil
}

// median of x (x is reordered).
func median(x []float64) float64 {
	slices.Sort(x)
	n := len(x)
	if n%2 == 1 {
		return x[n/2]
	}
	return (x[n/2-1] + x[n/2]) / 2
}
