package privacy

import (
	"fmt"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// DefaultHotMonths is how many months the hot tier keeps: the current month
// and the 12 before it.
const DefaultHotMonths = 13

// ReasonRangeInColdTier is the extensions.reason of CheckHotRange's error
// (its code is BAD_USER_INPUT, like every invalid input): clients tell a
// range past the horizon from other bad ranges by it.
const ReasonRangeInColdTier = "RANGE_IN_COLD_TIER"

// HotHorizon is the first instant still in the hot tier at now when it
// keeps months months (the current one included): the start of the UTC
// month months-1 before now's. Zero or negative months means DefaultHotMonths.
func HotHorizon(now time.Time, months int) time.Time {
	if months <= 0 {
		months = DefaultHotMonths
	}
	return monthStart(now).AddDate(0, -(months - 1), 0)
}

// CheckHotRange refuses a query range that starts before the default hot
// horizon: those events were moved to the cold tier (Parquet archives) and
// the query engine cannot answer for them. The error is KindInvalid on the
// field "timeRange" and names the first date that can be queried.
func CheckHotRange(r timerange.Range, now time.Time) error {
	return CheckHotRangeMonths(r, now, DefaultHotMonths)
}

// CheckHotRangeMonths is CheckHotRange for a hot tier of months months.
func CheckHotRangeMonths(r timerange.Range, now time.Time, months int) error {
	h := HotHorizon(now, months)
	if !r.From.Before(h) {
		return nil
	}
	return errs.Invalid("privacy.CheckHotRange", "timeRange", fmt.Sprintf(
		"the window starts on %s, but events before %s (the %d-month hot horizon) are in the cold tier and cannot be queried here; start the range on or after %s",
		r.From.UTC().Format(dayLayout), h.Format(dayLayout), normMonths(months), h.Format(dayLayout))).
		With("reason", ReasonRangeInColdTier).With("firstQueryableDate", h.Format(dayLayout))
}

// RangeCheck is CheckHotRangeMonths at now() (nil means time.Now) for a hot
// tier of months months, as a function: the composition root hands it to
// the metric querier and to exports, which cannot import this package
// (it uses them).
func RangeCheck(months int, now func() time.Time) func(timerange.Range) error {
	if now == nil {
		now = time.Now
	}
	return func(r timerange.Range) error { return CheckHotRangeMonths(r, now(), months) }
}

// normMonths applies the default to a month count.
func normMonths(m int) int {
	if m <= 0 {
		return DefaultHotMonths
	}
	return m
}

// monthStart is the first instant of t's UTC month.
func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}
