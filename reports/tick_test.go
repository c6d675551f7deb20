package reports_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/reports"
	"github.com/learnhub/analytics-service/store"
)

// TestTickReadsDueReportsOnly: the tick looks only at the reports whose
// next slot has come (report_schedules), never at the others or at the
// runs; a run moves the report's next_run_at to its next slot, and a
// disabled or deleted report leaves the schedule.
func TestTickReadsDueReportsOnly(t *testing.T) {
	h := newHarness(t)
	ctx := as("acme")
	create := func(name string, s reports.Schedule, enabled bool) string {
		in := dashboardReport(reports.FormatCSVZip)
		in.Name, in.Schedule, in.Enabled = name, s, enabled
		rep, err := h.svc.Create(ctx, in)
		require.NoError(t, err)
		return "acme/" + rep.ID
	}
	daily := create("daily", reports.Schedule{Cron: "0 6 * * *", Timezone: "Europe/Berlin"}, true) // 05:00Z in February
	hourly := create("hourly", reports.Schedule{Cron: "0 * * * *", Timezone: "UTC"}, true)
	create("off", reports.Schedule{Cron: "* * * * *", Timezone: "UTC"}, false)
	due := func(at time.Time) []string { return dueAt(t, h, at) }
	tick := func(at time.Time) int {
		h.clock.Set(at)
		require.NoError(t, h.svc.Tick(nil).ProcessJob(context.Background(), reportsTickJob()))
		return len(h.q.Take(reports.KindRun))
	}

	at := time.Date(2026, 2, 1, 5, 30, 0, 0, time.UTC)
	assert.Empty(t, due(at), "created at 05:00Z: nothing due before 06:00Z")
	assert.Equal(t, []string{hourly}, due(at.Add(30*time.Minute)))
	assert.Equal(t, 1, tick(at.Add(30*time.Minute+20*time.Second)))
	assert.Empty(t, due(at.Add(31*time.Minute)), "the hourly report is due again at 07:00Z")
	assert.Equal(t, 0, tick(at.Add(31*time.Minute)))

	// a day later both are due; missed hours collapse into one run
	next := time.Date(2026, 2, 2, 5, 0, 30, 0, time.UTC)
	assert.ElementsMatch(t, []string{daily, hourly}, due(next))
	assert.Equal(t, 2, tick(next))

	// deleting and disabling take the reports off the schedule
	id := strings.TrimPrefix(hourly, "acme/")
	rep, err := h.svc.Get(ctx, id)
	require.NoError(t, err)
	require.NoError(t, h.svc.Delete(ctx, id, rep.Version))
	drep, err := h.svc.Get(ctx, strings.TrimPrefix(daily, "acme/"))
	require.NoError(t, err)
	off := drep.Input
	off.Enabled = false
	_, err = h.svc.Update(ctx, drep.ID, drep.Version, off)
	require.NoError(t, err)
	assert.Empty(t, due(next.Add(48*time.Hour)))
	assert.Equal(t, 0, tick(next.Add(48*time.Hour)))
}

// TestScheduleBackfill: migration 0011 fills report_schedules from the
// reports stored before it, with the last scheduled slot from their runs,
// so an upgrade neither skips nor repeats a slot.
func TestScheduleBackfill(t *testing.T) {
	h := newHarness(t)
	ctx := as("acme")
	in := dashboardReport(reports.FormatCSVZip)
	in.Schedule = reports.Schedule{Cron: "0 * * * *", Timezone: "UTC"}
	rep, err := h.svc.Create(ctx, in)
	require.NoError(t, err)
	h.clock.Set(time.Date(2026, 2, 1, 6, 0, 10, 0, time.UTC))
	require.NoError(t, h.svc.Tick(nil).ProcessJob(context.Background(), reportsTickJob()))
	require.Len(t, h.q.Take(reports.KindRun), 1)

	// the state before 0011: no schedule rows; then its backfill statement
	require.NoError(t, h.db.Exec(context.Background(), "TRUNCATE TABLE report_schedules"))
	require.Empty(t, dueAt(t, h, h.clock.Now()))
	all, err := store.Migrations(store.MigrateOptions{})
	require.NoError(t, err)
	var backfill string
	for _, m := range all {
		if m.Version == 11 {
			for _, st := range m.Statements {
				if strings.HasPrefix(st, "INSERT INTO report_schedules") {
					backfill = st
				}
			}
		}
	}
	require.NotEmpty(t, backfill, "migration 0011 backfills report_schedules")
	require.NoError(t, h.db.Exec(context.Background(), backfill))

	assert.Equal(t, []string{"acme/" + rep.ID}, dueAt(t, h, h.clock.Now()), "due at once after the upgrade")
	require.NoError(t, h.svc.Tick(nil).ProcessJob(context.Background(), reportsTickJob()))
	assert.Empty(t, h.q.Take(reports.KindRun), "06:00Z already ran before the upgrade")
	h.clock.Set(time.Date(2026, 2, 1, 7, 0, 10, 0, time.UTC))
	require.NoError(t, h.svc.Tick(nil).ProcessJob(context.Background(), reportsTickJob()))
	assert.Len(t, h.q.Take(reports.KindRun), 1, "07:00Z runs")
}

func dueAt(t *testing.T, h *harness, at time.Time) []string {
	t.Helper()
	got, err := h.svc.DueReports(context.Background(), at)
	require.NoError(t, err)
	return got
}
