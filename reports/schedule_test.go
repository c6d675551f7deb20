package reports

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestNextRunGolden pins next-run times across DST changes: each case lists
// the next firings after a start instant, in UTC and local time.
func TestNextRunGolden(t *testing.T) {
	cases := []struct {
		name  string
		sched Schedule
		after string // RFC 3339
		n     int
	}{
		{"berlin daily 02:30 over spring-forward (02:30 missing)", Schedule{Cron: "30 2 * * *", Timezone: "Europe/Berlin"}, "2026-03-27T12:00:00Z", 4},
		{"berlin daily 02:30 over fall-back (02:30 twice)", Schedule{Cron: "30 2 * * *", Timezone: "Europe/Berlin"}, "2026-10-23T12:00:00Z", 4},
		{"berlin hourly :30 over spring-forward", Schedule{Cron: "30 * * * *", Timezone: "Europe/Berlin"}, "2026-03-28T23:00:00Z", 5},
		{"berlin hourly :30 over fall-back", Schedule{Cron: "30 * * * *", Timezone: "Europe/Berlin"}, "2026-10-24T23:00:00Z", 5},
		{"new york daily 02:30 over spring-forward", Schedule{Cron: "30 2 * * *", Timezone: "America/New_York"}, "2026-03-07T12:00:00Z", 3},
		{"new york daily 01:30 over fall-back (01:30 twice)", Schedule{Cron: "30 1 * * *", Timezone: "America/New_York"}, "2026-10-31T12:00:00Z", 3},
		{"new york hourly :30 over fall-back", Schedule{Cron: "30 * * * *", Timezone: "America/New_York"}, "2026-11-01T04:00:00Z", 4},
		{"sydney daily 02:30 over spring-forward (October)", Schedule{Cron: "30 2 * * *", Timezone: "Australia/Sydney"}, "2026-10-02T12:00:00Z", 3},
		{"sydney daily 02:30 over fall-back (April)", Schedule{Cron: "30 2 * * *", Timezone: "Australia/Sydney"}, "2026-04-03T12:00:00Z", 3},
		{"weekly preset in Berlin over spring-forward", Schedule{Preset: PresetWeekly, Timezone: "Europe/Berlin"}, "2026-03-20T00:00:00Z", 3},
		{"monthly preset in New York", Schedule{Preset: PresetMonthly, Timezone: "America/New_York"}, "2026-02-15T00:00:00Z", 3},
		{"daily preset in UTC", Schedule{Preset: PresetDaily}, "2026-12-30T07:00:00Z", 3},
		{"leap day", Schedule{Cron: "0 0 29 2 *", Timezone: "UTC"}, "2026-01-01T00:00:00Z", 2},
		{"weekdays 08:15 Sydney", Schedule{Cron: "15 8 * * 1-5", Timezone: "Australia/Sydney"}, "2026-04-02T00:00:00Z", 4},
	}
	var b strings.Builder
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock, err := c.sched.Parse("schedule")
			require.NoError(t, err)
			at, err := time.Parse(time.RFC3339, c.after)
			require.NoError(t, err)
			fmt.Fprintf(&b, "## %s: %q in %s after %s\n", c.name, c.sched.Spec(), c.sched.Timezone, c.after)
			prev := at
			for range c.n {
				next := clock.Next(prev)
				require.False(t, next.IsZero())
				require.True(t, next.After(prev), "firings ascend")
				assert.True(t, clock.Latest(next).Equal(next), "Latest(next) is next")
				if !prev.Equal(at) {
					assert.True(t, clock.Latest(next.Add(-time.Second)).Equal(prev), "Latest sees no firing between two Next values")
				}
				fmt.Fprintf(&b, "%s  %s\n", next.UTC().Format(time.RFC3339), next.In(clock.loc).Format("2006-01-02 15:04 MST -0700 Mon"))
				prev = next
			}
		})
	}
	golden := filepath.Join("testdata", "nextrun.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run with -update to create the golden file")
	assert.Equal(t, string(want), b.String())
}

func TestScheduleParseErrors(t *testing.T) {
	for _, c := range []struct {
		s    Schedule
		want string
	}{
		{Schedule{}, "exactly one of cron and preset"},
		{Schedule{Cron: "0 6 * *"}, "does not parse"},
		{Schedule{Cron: "@every 1h"}, "use 5 fields"},
		{Schedule{Preset: "HOURLY"}, "not known"},
		{Schedule{Cron: "0 6 * * *", Timezone: "Mars/Olympus"}, "timezone"},
	} {
		_, err := c.s.Parse("schedule")
		require.Error(t, err)
		assert.Contains(t, err.Error(), c.want)
	}
}

// FuzzSchedule: any expression either fails to parse with KindInvalid or
// gives a clock whose Next is after and Latest at or before the instant.
func FuzzSchedule(f *testing.F) {
	for _, s := range []string{"30 2 * * *", "*/15 * * * 1-5", "0 0 29 2 *", "0 6 1 * *", "61 * * * *", "@daily", ""} {
		f.Add(s, "Europe/Berlin", int64(1774746000))
	}
	f.Fuzz(func(t *testing.T, spec, zone string, unix int64) {
		clock, err := Schedule{Cron: spec, Timezone: zone}.Parse("schedule")
		if err != nil {
			return
		}
		at := time.Unix(unix%(1<<34), 0)
		if next := clock.Next(at); !next.IsZero() && !next.After(at) {
			t.Fatalf("Next(%v) = %v is not after it", at, next)
		}
		if latest := clock.Latest(at); latest.After(at) {
			t.Fatalf("Latest(%v) = %v is after it", at, latest)
		}
	})
}

// FuzzVerifySignature: a header verifies only when it carries the HMAC of
// its own timestamp and the body under the secret; no input panics.
func FuzzVerifySignature(f *testing.F) {
	const secret = "another-secret-0123"
	now := time.Unix(1774746000, 0)
	f.Add(Sign(secret, now, []byte(`{"a":1}`)), []byte(`{"a":1}`))
	f.Add("t=1,v1=zz", []byte{})
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		if VerifySignature(secret, header, body, now, time.Minute) != nil {
			return
		}
		var ts string
		for part := range strings.SplitSeq(header, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(part), "t="); ok {
				ts = v
			}
		}
		if !strings.Contains(strings.ToLower(header), "v1="+hex.EncodeToString(mac(secret, ts, body))) {
			t.Fatalf("header %q verified without the body's HMAC", header)
		}
	})
}
