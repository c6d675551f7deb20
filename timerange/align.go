package timerange

import "time"

// ResolveAligned resolves a window that ends now (last, a to-date form, or
// from without to) to the whole buckets of unit it touches, in loc: From
// moves back to the start of its bucket and To forward to the end of the
// bucket holding now. Fixed windows (from and to) are resolved as given.
//
// This is the rule that lets answers to relative windows be cached and
// answered from daily rollups exactly: the window, and so the answer, only
// changes when a bucket boundary passes (or data arrives), not with every
// tick of the clock. A day-grain `last: 30d` at 14:00 is the 31 whole days
// from the day 30 days ago to the end of today, the same buckets the
// sliding window [now-30d, now) would draw, each complete. Events dated
// after now but within the current bucket count; events in the first
// bucket before now-30d count.
//
// unit is the request's grain; GrainNone takes it from the window instead
// (UnitOf). Errors are Resolve's.
func ResolveAligned(spec Spec, now time.Time, unit Grain, loc *time.Location, field string) (Range, error) {
	if loc == nil {
		loc = time.UTC
	}
	r, err := ResolveIn(spec, now, loc, field)
	if err != nil || !EndsNow(spec) {
		return r, err
	}
	if unit == GrainNone {
		unit = UnitOf(spec)
	}
	return Range{From: unit.Truncate(r.From, loc).UTC(), To: unit.Next(unit.Truncate(r.To, loc)).UTC()}, nil
}

// EndsNow reports whether spec's window ends at the time it is resolved.
func EndsNow(spec Spec) bool {
	return spec.Last != "" || spec.ToDate != "" || spec.To == nil
}

// UnitOf is the alignment unit of a window without a grain: the unit it is
// written in (minutes, hours, days; weeks align to days), days for to-date
// forms, minutes for from without to.
func UnitOf(spec Spec) Grain {
	switch {
	case spec.Last != "":
		switch spec.Last[len(spec.Last)-1] {
		case 'm':
			return GrainMinute
		case 'h':
			return GrainHour
		}
		return GrainDay
	case spec.ToDate != "":
		return GrainDay
	}
	return GrainMinute
}
