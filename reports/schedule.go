package reports

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// Preset is a named schedule.
type Preset string

// The presets and the cron expressions they stand for (at 06:00 in the
// schedule's zone).
const (
	PresetDaily   Preset = "DAILY"
	PresetWeekly  Preset = "WEEKLY"
	PresetMonthly Preset = "MONTHLY"
)

var presetSpecs = map[Preset]string{
	PresetDaily:   "0 6 * * *", // every day at 06:00
	PresetWeekly:  "0 6 * * 1", // Mondays at 06:00
	PresetMonthly: "0 6 1 * *", // the first of the month at 06:00
}

// searchDays bounds the search for a matching day ("0 0 29 2 *" fires
// every four years; 8 years covers it).
const searchDays = 8 * 366

// starBit marks a cron field given as "*" (robfig/cron's encoding).
const starBit = 1 << 63

// Schedule is when a report runs: a cron expression (or a preset) read in
// an IANA time zone.
type Schedule struct {
	// Cron is a standard 5-field expression ("0 6 * * 1-5"); empty when
	// Preset is set.
	Cron   string `json:"cron,omitempty"`
	Preset Preset `json:"preset,omitempty"`
	// Timezone is the IANA zone the expression is read in; empty means UTC.
	Timezone string `json:"timezone,omitempty"`
}

// Spec is the cron expression of s (the preset's, when set).
func (s Schedule) Spec() string {
	if s.Preset != "" {
		return presetSpecs[s.Preset]
	}
	return s.Cron
}

// Clock is a parsed Schedule: the times it fires.
//
// The rule across daylight-saving changes is wall-clock: a run fires at
// each local time the expression names, at most once per local time.
//   - A local time that does not exist (the spring-forward gap, e.g. 02:30
//     on 2026-03-29 in Europe/Berlin) fires once, shifted forward by the
//     length of the gap (03:30 local), unless that instant is a slot of its
//     own, which then fires once.
//   - A local time that exists twice (the fall-back overlap, e.g. 02:30 on
//     2026-10-25 in Europe/Berlin) fires once, at its first occurrence (the
//     summer-time instant).
//
// So a daily report runs every day exactly once, and an hourly one skips
// no day and runs no hour twice; the golden test in schedule_test.go pins
// this for several zones.
type Clock struct {
	spec *cron.SpecSchedule
	loc  *time.Location
}

// Parse validates s and returns its Clock. A bad expression, preset or
// zone is KindInvalid naming the field.
func (s Schedule) Parse(field string) (*Clock, error) {
	const op = "reports.Schedule"
	if (s.Cron == "") == (s.Preset == "") {
		return nil, errs.Invalid(op, field, "give exactly one of cron and preset, e.g. cron \"0 6 * * 1\" or preset WEEKLY")
	}
	if s.Preset != "" && presetSpecs[s.Preset] == "" {
		return nil, errs.Invalid(op, field+".preset", fmt.Sprintf("preset %q is not known; use DAILY, WEEKLY or MONTHLY", s.Preset))
	}
	loc, err := timerange.Location(s.Timezone, field+".timezone")
	if err != nil {
		return nil, err
	}
	parsed, err := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow).Parse(s.Spec())
	if err != nil {
		return nil, errs.Wrap(op, errs.KindInvalid, err, fmt.Sprintf(
			"%s.cron %q does not parse (%v); use 5 fields: minute hour day-of-month month day-of-week, e.g. \"30 6 * * 1-5\"",
			field, s.Cron, err)).With("field", field+".cron")
	}
	spec, ok := parsed.(*cron.SpecSchedule)
	if !ok {
		return nil, errs.Invalid(op, field+".cron", "use a 5-field cron expression, not a descriptor such as @every")
	}
	return &Clock{spec: spec, loc: loc}, nil
}

// Next is the first firing strictly after t; the zero time if none comes
// within eight years.
func (c *Clock) Next(t time.Time) time.Time {
	local := t.In(c.loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	for range searchDays {
		for _, f := range c.firings(day) {
			if f.After(t) {
				return f
			}
		}
		day = day.AddDate(0, 0, 1)
	}
	return time.Time{}
}

// Latest is the last firing at or before t; the zero time if none within
// eight years.
func (c *Clock) Latest(t time.Time) time.Time {
	local := t.In(c.loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	for range searchDays {
		fs := c.firings(day)
		for i := len(fs) - 1; i >= 0; i-- {
			if !fs[i].After(t) {
				return fs[i]
			}
		}
		day = day.AddDate(0, 0, -1)
	}
	return time.Time{}
}

// firings are the instants the schedule fires on one local calendar day
// (given as a UTC midnight carrying the date), ascending, without repeats.
func (c *Clock) firings(day time.Time) []time.Time {
	if !c.dayMatches(day) {
		return nil
	}
	var out []time.Time
	for h := range 24 {
		if c.spec.Hour&(1<<uint(h)) == 0 {
			continue
		}
		for m := range 60 {
			if c.spec.Minute&(1<<uint(m)) == 0 {
				continue
			}
			f := c.instant(day, h, m)
			// keep ascending order and drop repeats (a gap-shifted time that
			// lands on a later slot of the same day)
			i := len(out)
			for i > 0 && !out[i-1].Before(f) {
				i--
			}
			if i < len(out) && out[i].Equal(f) {
				continue
			}
			out = append(out[:i], append([]time.Time{f}, out[i:]...)...)
		}
	}
	return out
}

// instant is local wall time h:m on day in the zone, by the rule of Clock:
// the first occurrence of a repeated time; a missing time read with the
// offset in force before the change (so shifted forward by the gap).
func (c *Clock) instant(day time.Time, h, m int) time.Time {
	t := time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, c.loc)
	if t.Hour() != h || t.Minute() != m {
		// in a gap: time.Date picked either side; find the change next to t
		start, end := t.ZoneBounds()
		change := start
		if !end.IsZero() && (start.IsZero() || end.Sub(t) < t.Sub(start)) {
			change = end
		}
		_, before := change.Add(-time.Second).Zone()
		wall := time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, time.UTC)
		return wall.Add(-time.Duration(before) * time.Second).In(c.loc)
	}
	for _, back := range []time.Duration{2 * time.Hour, time.Hour, 30 * time.Minute} {
		e := t.Add(-back)
		if e.Hour() == h && e.Minute() == m && e.Day() == t.Day() {
			return e
		}
	}
	return t
}

// dayMatches applies the month, day-of-month and day-of-week fields with
// cron's rule: when both day fields are restricted, either may match.
func (c *Clock) dayMatches(day time.Time) bool {
	s := c.spec
	if s.Month&(1<<uint(day.Month())) == 0 {
		return false
	}
	dom := s.Dom&(1<<uint(day.Day())) > 0
	dow := s.Dow&(1<<uint(day.Weekday())) > 0
	if s.Dom&starBit > 0 || s.Dow&starBit > 0 {
		return dom && dow
	}
	return dom || dow
}
