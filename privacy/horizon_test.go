package privacy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

func TestCheckHotRange(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	cases := []struct {
		name string
		from time.Time
		ok   bool
	}{
		{"inside the hot tier", day(2026, 1, 1), true},
		{"exactly the horizon", day(2025, 11, 1), true},
		{"one day before the horizon", day(2025, 10, 31), false},
		{"years back", day(2020, 1, 1), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckHotRange(timerange.Range{From: tc.from, To: now}, now)
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, errs.Is(err, errs.KindInvalid))
			assert.Contains(t, errs.PublicMessage(err), "2025-11-01")
			assert.Contains(t, errs.PublicMessage(err), "cold tier")
			assert.Equal(t, "timeRange", errs.PublicFields(err)["field"])
			assert.Equal(t, ReasonRangeInColdTier, errs.PublicFields(err)["reason"])
			assert.Equal(t, "2025-11-01", errs.PublicFields(err)["firstQueryableDate"])
		})
	}
	assert.Equal(t, day(2026, 11, 1), HotHorizon(now, 1))
	assert.Equal(t, day(2025, 11, 1), HotHorizon(now, 0))
	check := RangeCheck(2, func() time.Time { return now })
	assert.NoError(t, check(timerange.Range{From: day(2026, 10, 1), To: now}))
	assert.Error(t, check(timerange.Range{From: day(2026, 9, 30), To: now}), "a 2-month hot tier starts on October 1st")
	assert.Equal(t, []int{0, 25, 50, 75, 100}, []int{StepRequested.Progress(), StepHotStarted.Progress(), StepHotDone.Progress(),
		StepColdDone.Progress(), StepCompleted.Progress()})
}
