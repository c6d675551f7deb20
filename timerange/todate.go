package timerange

import (
	"fmt"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
)

// ToDate is a calendar window from the start of the current period to now,
// in the caller's time zone.
type ToDate string

// The to-date forms.
const (
	DayToDate     ToDate = "DAY_TO_DATE"
	WeekToDate    ToDate = "WEEK_TO_DATE"
	MonthToDate   ToDate = "MONTH_TO_DATE"
	QuarterToDate ToDate = "QUARTER_TO_DATE"
	YearToDate    ToDate = "YEAR_TO_DATE"
)

// toDateGrains maps each form to the period it starts at.
var toDateGrains = map[ToDate]Grain{
	DayToDate: GrainDay, WeekToDate: GrainWeek, MonthToDate: GrainMonth,
	QuarterToDate: GrainQuarter, YearToDate: GrainYear,
}

// toDateNames lists the forms in order, for validation messages.
var toDateNames = []ToDate{DayToDate, WeekToDate, MonthToDate, QuarterToDate, YearToDate}

// ResolveIn is Resolve with to-date forms taken in loc (Resolve uses UTC):
// MONTH_TO_DATE on 26 Nov 14:00 Europe/Berlin is [1 Nov 00:00 Berlin, now).
func ResolveIn(spec Spec, now time.Time, loc *time.Location, field string) (Range, error) {
	if spec.ToDate == "" {
		return Resolve(spec, now, field)
	}
	const op = "timerange.ResolveIn"
	if spec.Last != "" || spec.From != nil || spec.To != nil {
		return Range{}, errs.Invalid(op, field, field+": give one of from/to, last or toDate")
	}
	g, ok := toDateGrains[spec.ToDate]
	if !ok {
		return Range{}, errs.Invalid(op, field+".toDate", fmt.Sprintf("%s.toDate %q is not a to-date form; use one of %v",
			field, spec.ToDate, toDateNames))
	}
	if loc == nil {
		loc = time.UTC
	}
	return Range{From: g.Truncate(now, loc).UTC(), To: now.UTC()}, nil
}

// Location loads an IANA time zone name such as "Europe/Berlin"; empty is
// UTC. An unknown name is a KindInvalid error naming field.
func Location(name, field string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil, errs.Invalid("timerange.Location", field, fmt.Sprintf(
			"%s %q is not an IANA time zone; use a name such as \"UTC\" or \"Europe/Berlin\"", field, name))
	}
	return loc, nil
}

// PreviousPeriod is the window of the same length that ends where r starts.
func (r Range) PreviousPeriod() Range {
	d := r.To.Sub(r.From)
	return Range{From: r.From.Add(-d), To: r.From}
}

// PreviousYear is r one calendar year earlier in loc.
func (r Range) PreviousYear(loc *time.Location) Range {
	return Range{From: r.From.In(loc).AddDate(-1, 0, 0).UTC(), To: r.To.In(loc).AddDate(-1, 0, 0).UTC()}
}
