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
