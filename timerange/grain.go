package timerange

import (
	"fmt"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
)

// MaxBuckets bounds how many buckets one range may be cut into, so a
// minute grain over a year is refused instead of filling memory.
const MaxBuckets = 10_000

// Grain is the width of a time bucket. The zero value means "no bucketing":
// one total over the whole range.
type Grain string

// The grains, finest first. Weeks start on Monday (ISO 8601).
const (
	GrainNone    Grain = ""
	GrainMinute  Grain = "MINUTE"
	GrainHour    Grain = "HOUR"
	GrainDay     Grain = "DAY"
	GrainWeek    Grain = "WEEK"
	GrainMonth   Grain = "MONTH"
	GrainQuarter Grain = "QUARTER"
	GrainYear    Grain = "YEAR"
)

// grains lists the valid grains in order, for validation messages.
var grains = []Grain{GrainMinute, GrainHour, GrainDay, GrainWeek, GrainMonth, GrainQuarter, GrainYear}

// ParseGrain checks a grain given by a caller; field names it in errors.
// The empty string is GrainNone.
func ParseGrain(s, field string) (Grain, error) {
	if s == "" {
		return GrainNone, nil
	}
	for _, g := range grains {
		if string(g) == s {
			return g, nil
		}
	}
	return GrainNone, errs.Invalid("timerange.ParseGrain", field,
		fmt.Sprintf("%s %q is not a grain; use one of %v or leave it empty for a total", field, s, grains))
}

// DayOrCoarser reports whether buckets of g are whole days in their zone.
func (g Grain) DayOrCoarser() bool {
	switch g {
	case GrainDay, GrainWeek, GrainMonth, GrainQuarter, GrainYear:
		return true
	}
	return false
}

// Truncate returns the start of the bucket holding t, in loc.
func (g Grain) Truncate(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	y, m, d := t.Date()
	switch g {
	case GrainMinute:
		return time.Date(y, m, d, t.Hour(), t.Minute(), 0, 0, loc)
	case GrainHour:
		return time.Date(y, m, d, t.Hour(), 0, 0, 0, loc)
	case GrainDay:
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	case GrainWeek:
		offset := (int(t.Weekday()) + 6) % 7 // days since Monday
		return time.Date(y, m, d-offset, 0, 0, 0, 0, loc)
	case GrainMonth:
		return time.Date(y, m, 1, 0, 0, 0, 0, loc)
	case GrainQuarter:
		return time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, loc)
	case GrainYear:
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc)
	}
	return t
}

// Next returns the start of the bucket after the one starting at start.
func (g Grain) Next(start time.Time) time.Time {
	switch g {
	case GrainMinute:
		return start.Add(time.Minute)
	case GrainHour:
		return start.Add(time.Hour)
	case GrainDay:
		return start.AddDate(0, 0, 1)
	case GrainWeek:
		return start.AddDate(0, 0, 7)
	case GrainMonth:
		return start.AddDate(0, 1, 0)
	case GrainQuarter:
		return start.AddDate(0, 3, 0)
	case GrainYear:
		return start.AddDate(1, 0, 0)
	}
	return start
}

// Buckets returns the start of every bucket of g that overlaps r, in loc,
// oldest first: the key set for gap filling. GrainNone gives the single
// start r.From. More than MaxBuckets is a KindInvalid error naming field.
func Buckets(r Range, g Grain, loc *time.Location, field string) ([]time.Time, error) {
	if g == GrainNone {
		return []time.Time{r.From.In(loc)}, nil
	}
	var out []time.Time
	for b := g.Truncate(r.From, loc); b.Before(r.To); b = g.Next(b) {
		if len(out) == MaxBuckets {
			return nil, errs.Invalid("timerange.Buckets", field, fmt.Sprintf(
				"%s %s over this range makes more than %d buckets; use a coarser grain or a shorter range", field, g, MaxBuckets))
		}
		out = append(out, b)
	}
	return out, nil
}
