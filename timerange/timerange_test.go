package timerange

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
)

func TestResolve(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	at := func(s string) *time.Time { v, _ := time.Parse(time.RFC3339, s); return &v }
	for _, tc := range []struct {
		name      string
		spec      Spec
		want      Range
		wantField string
	}{
		{"last days", Spec{Last: "30d"}, Range{now.Add(-30 * 24 * time.Hour), now}, ""},
		{"last minutes", Spec{Last: "90m"}, Range{now.Add(-90 * time.Minute), now}, ""},
		{"last weeks", Spec{Last: "2w"}, Range{now.Add(-14 * 24 * time.Hour), now}, ""},
		{"from only", Spec{From: at("2026-11-01T00:00:00+01:00")}, Range{time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC), now}, ""},
		{"from to", Spec{From: at("2026-01-01T00:00:00Z"), To: at("2026-02-01T00:00:00Z")}, Range{*at("2026-01-01T00:00:00Z"), *at("2026-02-01T00:00:00Z")}, ""},
		{"both forms", Spec{Last: "1d", From: at("2026-01-01T00:00:00Z")}, Range{}, "timeRange"},
		{"nothing", Spec{}, Range{}, "timeRange"},
		{"to only", Spec{To: at("2026-01-01T00:00:00Z")}, Range{}, "timeRange.from"},
		{"inverted", Spec{From: at("2026-02-01T00:00:00Z"), To: at("2026-01-01T00:00:00Z")}, Range{}, "timeRange.to"},
		{"bad unit", Spec{Last: "3y"}, Range{}, "timeRange.last"},
		{"zero", Spec{Last: "0d"}, Range{}, "timeRange.last"},
		{"too long", Spec{Last: "300w"}, Range{}, "timeRange.last"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(tc.spec, now, "timeRange")
			if tc.wantField != "" {
				require.Error(t, err)
				assert.True(t, errs.Is(err, errs.KindInvalid))
				assert.Equal(t, tc.wantField, errs.PublicFields(err)["field"])
				assert.Contains(t, errs.PublicMessage(err), tc.wantField)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestResolveAligned(t *testing.T) {
	now := time.Date(2026, 3, 10, 14, 25, 30, 0, time.UTC)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	from := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	to := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }
	cases := []struct {
		name string
		spec Spec
		unit Grain
		loc  *time.Location
		want Range
	}{
		{"last 30d by day", Spec{Last: "30d"}, GrainDay, time.UTC, Range{day(2, 8), day(3, 11)}},
		{"last 30d total aligns to days", Spec{Last: "30d"}, GrainNone, time.UTC, Range{day(2, 8), day(3, 11)}},
		{"last 2h total aligns to hours", Spec{Last: "2h"}, GrainNone, time.UTC,
			Range{time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)}},
		{"last 90m aligns to minutes", Spec{Last: "90m"}, GrainNone, time.UTC,
			Range{time.Date(2026, 3, 10, 12, 55, 0, 0, time.UTC), time.Date(2026, 3, 10, 14, 26, 0, 0, time.UTC)}},
		{"last 30d by week", Spec{Last: "30d"}, GrainWeek, time.UTC, Range{day(2, 2), day(3, 16)}},
		{"last 1d by day in Berlin", Spec{Last: "1d"}, GrainDay, berlin,
			Range{time.Date(2026, 3, 8, 23, 0, 0, 0, time.UTC), time.Date(2026, 3, 10, 23, 0, 0, 0, time.UTC)}},
		{"month to date", Spec{ToDate: MonthToDate}, GrainNone, time.UTC, Range{day(3, 1), day(3, 11)}},
		{"open from", Spec{From: &from}, GrainHour, time.UTC, Range{from, time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)}},
		{"fixed window untouched", Spec{From: &from, To: &to}, GrainDay, time.UTC, Range{from, to}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ResolveAligned(c.spec, now, c.unit, c.loc, "timeRange")
			require.NoError(t, err)
			assert.True(t, got.From.Equal(c.want.From) && got.To.Equal(c.want.To), "got [%s, %s), want [%s, %s)", got.From, got.To, c.want.From, c.want.To)
			// The same window an hour later in the same bucket is the same key.
			if c.unit == GrainDay && c.loc == time.UTC {
				later, err := ResolveAligned(c.spec, now.Add(time.Hour), c.unit, c.loc, "timeRange")
				require.NoError(t, err)
				assert.Equal(t, got, later, "an hour later in the same day the window (and so the key) is the same")
			}
		})
	}
	_, err = ResolveAligned(Spec{Last: "3y"}, now, GrainDay, nil, "timeRange")
	assert.Equal(t, "timeRange.last", errs.PublicFields(err)["field"], "a bad window fails naming its field")
}
