// Package timerange turns the time windows callers ask for into concrete
// half-open intervals [From, To), with errors that say which field is wrong
// and what a right value looks like. Metrics, dashboards, exports and the
// event queries all share it.
package timerange

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
)

// MaxLast bounds a relative window; older data lives in the cold tier.
const MaxLast = 5 * 366 * 24 * time.Hour

// Spec is a window as a caller gives it: either From (and optionally To), or Last.
type Spec struct {
	From *time.Time
	To   *time.Time
	Last string // e.g. "30d", "12h", "90m", "2w"
	// ToDate is a calendar window up to now such as MONTH_TO_DATE; it
	// excludes From, To and Last. Resolve takes it in UTC, ResolveIn in a
	// given zone.
	ToDate ToDate
}

// Range is a resolved window: From inclusive, To exclusive, both UTC.
type Range struct {
	From time.Time
	To   time.Time
}

var lastRe = regexp.MustCompile(`^([0-9]{1,6})([mhdw])$`)

// Resolve checks spec and resolves it against now. field names the input in
// error messages (e.g. "timeRange").
func Resolve(spec Spec, now time.Time, field string) (Range, error) {
	const op = "timerange.Resolve"
	now = now.UTC()
	if spec.ToDate != "" {
		return ResolveIn(spec, now, time.UTC, field)
	}
	switch {
	case spec.Last != "" && (spec.From != nil || spec.To != nil):
		return Range{}, errs.Invalid(op, field, field+": give either from/to or last, not both")
	case spec.Last != "":
		d, err := ParseLast(spec.Last)
		if err != nil {
			return Range{}, errs.Invalid(op, field+".last", fmt.Sprintf("%s.last: %v", field, err))
		}
		return Range{From: now.Add(-d), To: now}, nil
	case spec.From == nil && spec.To != nil:
		return Range{}, errs.Invalid(op, field+".from", field+".from is required when "+field+".to is given")
	case spec.From == nil:
		return Range{}, errs.Invalid(op, field, field+": give from (and optionally to), or last such as \"30d\"")
	}
	r := Range{From: spec.From.UTC(), To: now}
	if spec.To != nil {
		r.To = spec.To.UTC()
	}
	if !r.From.Before(r.To) {
		return Range{}, errs.Invalid(op, field+".to", fmt.Sprintf("%s.to (%s) must be after %s.from (%s)",
			field, r.To.Format(time.RFC3339), field, r.From.Format(time.RFC3339)))
	}
	return r, nil
}

// ParseLast reads a relative window such as "30d": a positive number and a
// unit m (minutes), h (hours), d (days) or w (weeks).
func ParseLast(s string) (time.Duration, error) {
	m := lastRe.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a window; use a positive number and a unit m, h, d or w, e.g. 30d", s)
	}
	n, _ := strconv.Atoi(m[1])
	if n == 0 {
		return 0, fmt.Errorf("%q is empty; use a positive number, e.g. 30d", s)
	}
	unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	d := time.Duration(n) * unit
	if d > MaxLast {
		return 0, fmt.Errorf("%q is longer than the 5 years kept; use a shorter window", s)
	}
	return d, nil
}
