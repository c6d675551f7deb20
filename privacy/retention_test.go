package privacy

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/store"
)

// oldMonth is a month past the hot horizon of the test clock.
var oldMonth = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// seedOld inserts n events per tenant in oldMonth (with a score), one
// redelivered duplicate, and two events in the current month.
func seedOld(t *testing.T, db *store.DB, n int, tenants ...string) {
	t.Helper()
	for _, tenant := range tenants {
		var evs []ev
		for i := range n {
			evs = append(evs, ev{id: fmt.Sprintf("%s-old-%d", tenant, i), user: fmt.Sprintf("u%d", i%3+1), typ: []string{"quiz.submitted", "lesson.completed"}[i%2],
				at: oldMonth.Add(time.Duration(i) * time.Hour), props: map[string]any{"score": float64(i), "email": fmt.Sprintf("u%d@x.test", i%3+1)}})
		}
		insert(t, db, tenant, evs...)
		insert(t, db, tenant, evs[0]) // redelivered: FINAL collapses it
		insert(t, db, tenant, ev{id: tenant + "-new-1", user: "u1", typ: "user.login", at: now.Add(-time.Hour)},
			ev{id: tenant + "-new-2", user: "u2", typ: "user.login", at: now.Add(-2 * time.Hour)})
	}
}

// hotAggregates are count, sum of score and distinct users per type in
// oldMonth as the hot tier answers them.
func hotAggregates(t *testing.T, db *store.DB, tenant string) map[string][3]float64 {
	t.Helper()
	rows, err := db.Query(context.Background(), "SELECT type, toFloat64(count()), ifNull(sum(accurateCastOrNull(properties.score, 'Float64')), 0), toFloat64(uniqExact(user_id))"+
		" FROM events FINAL WHERE tenant_id = ? AND toYYYYMM(occurred_at) = 202401 GROUP BY type", tenant)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string][3]float64{}
	for rows.Next() {
		var typ string
		var a [3]float64
		require.NoError(t, rows.Scan(&typ, &a[0], &a[1], &a[2]))
		out[typ] = a
	}
	require.NoError(t, rows.Err())
	return out
}

// coldAggregates computes hotAggregates from a cold object.
func coldAggregates(t *testing.T, rows []coldRow) map[string][3]float64 {
	t.Helper()
	out := map[string][3]float64{}
	users := map[string]map[string]bool{}
	for _, r := range rows {
		var p map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.props), &p))
		a := out[r.typ]
		a[0]++
		if s, ok := p["score"].(float64); ok {
			a[1] += s
		}
		if users[r.typ] == nil {
			users[r.typ] = map[string]bool{}
		}
		users[r.typ][r.user] = true
		a[2] = float64(len(users[r.typ]))
		out[r.typ] = a
	}
	return out
}

func TestRetentionMovesMonth(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	seedOld(t, e.db, 40, "acme", "beta")
	before := map[string]map[string][3]float64{"acme": hotAggregates(t, e.db, "acme"), "beta": hotAggregates(t, e.db, "beta")}
	require.Len(t, before["acme"], 2)
	expiredKey := "tenants/acme/cold/events/2020/01/part-0.parquet"
	keptKey := "tenants/acme/cold/events/2022/01/part-0.parquet"
	for _, k := range []string{expiredKey, keptKey, "tenants/acme/exports/2019/01/x.csv"} {
		require.NoError(t, e.blobs.Put(ctx, k, strings.NewReader("old")))
	}
	r := e.retention(e.db, e.blobs)

	plan, err := r.Plan(ctx)
	require.NoError(t, err)
	assert.True(t, plan.DryRun)
	assert.Equal(t, time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC), plan.Horizon)
	require.Len(t, plan.Months, 1)
	assert.Equal(t, "202401", plan.Months[0].Partition)
	assert.False(t, plan.Months[0].Dropped)
	require.Len(t, plan.Months[0].Tenants, 2)
	assert.Equal(t, uint64(40), plan.Months[0].Tenants[0].Rows, "FINAL: the duplicate counts once")
	assert.Equal(t, []string{expiredKey}, plan.Expired)
	assert.Equal(t, uint64(84), count(t, e.db, "SELECT count() FROM events FINAL"), "a dry run changes nothing")
	assert.Empty(t, coldKeys(t, e.blobs, "acme", oldMonth), "a dry run writes nothing")

	rep, err := r.Run(ctx)
	require.NoError(t, err)
	require.Len(t, rep.Months, 1)
	assert.True(t, rep.Months[0].Dropped)
	for _, tm := range rep.Months[0].Tenants {
		assert.True(t, tm.Verified, tm.Tenant)
		assert.Equal(t, uint64(40), tm.Rows)
		assert.Equal(t, coldKey(t, e.blobs, tm.Tenant, oldMonth), tm.Key)
		assert.Regexp(t, `^tenants/`+tm.Tenant+`/cold/events/2024/01/part-[0-9]+\.parquet$`, tm.Key)
		cold := readCold(t, e.blobs, tm.Key)
		assert.Len(t, cold, 40)
		var sum uint64
		for _, c := range cold {
			assert.Equal(t, tm.Tenant, c.tenant)
			sum += eventChecksum(c.eventID)
		}
		assert.Equal(t, tm.Checksum, sum)
		assert.Equal(t, before[tm.Tenant], coldAggregates(t, cold), "aggregates from the cold tier equal the hot tier's")
	}
	assert.Equal(t, uint64(0), count(t, e.db, "SELECT count() FROM events WHERE toYYYYMM(occurred_at) = 202401"))
	for _, rollup := range []string{"metrics_daily", "metrics_daily_users", "metrics_daily_active"} {
		assert.Equal(t, uint64(0), count(t, e.db, "SELECT count() FROM "+rollup+" WHERE toYYYYMM(day) = 202401"), rollup)
	}
	assert.Equal(t, uint64(4), count(t, e.db, "SELECT count() FROM events FINAL"), "the hot months stay")
	assert.Equal(t, []string{expiredKey}, rep.Expired)
	_, err = e.blobs.Open(ctx, expiredKey)
	assert.Error(t, err)
	assert.Equal(t, []byte("old"), readBlob(t, e.blobs, keptKey))

	again, err := r.Run(ctx)
	require.NoError(t, err)
	assert.Empty(t, again.Months, "a second run has nothing to move")
	assert.Empty(t, again.Expired)
}

func TestRetentionKeepsAMonthMovedBeforeWhenLateRowsArrive(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	seedOld(t, e.db, 20, "acme")
	r := e.retention(e.db, e.blobs)
	_, err := r.Run(ctx)
	require.NoError(t, err)
	first := coldKey(t, e.blobs, "acme", oldMonth)
	firstBytes := readBlob(t, e.blobs, first)

	// A backfill (or a very late producer) writes into the moved month.
	insert(t, e.db, "acme", ev{id: "acme-late-1", user: "u9", typ: "user.login", at: oldMonth.Add(48 * time.Hour)})
	rep, err := r.Run(ctx)
	require.NoError(t, err)
	require.Len(t, rep.Months, 1)
	assert.True(t, rep.Months[0].Dropped)
	keys := coldKeys(t, e.blobs, "acme", oldMonth)
	require.Len(t, keys, 2, "the late rows get an object of their own")
	assert.Contains(t, keys, first)
	assert.Equal(t, firstBytes, readBlob(t, e.blobs, first), "the month moved before is not replaced")
	var total int
	for _, k := range keys {
		total += len(readCold(t, e.blobs, k))
	}
	assert.Equal(t, 21, total, "every row of the month is in the cold tier once")
	assert.Equal(t, uint64(0), count(t, e.db, "SELECT count() FROM events WHERE toYYYYMM(occurred_at) = 202401"))
}

func TestRetentionChecksumMatchesEngine(t *testing.T) {
	e := newEnv(t)
	var got uint64
	require.NoError(t, e.db.QueryRow(context.Background(), []any{&got},
		"SELECT "+checksumSQL+" FROM (SELECT arrayJoin(['a', 'evt-1', 'ünï', '']) AS event_id)"))
	assert.Equal(t, eventChecksum("a")+eventChecksum("evt-1")+eventChecksum("ünï")+eventChecksum(""), got)
}

func TestRetentionFailureKeepsEveryRow(t *testing.T) {
	cases := []struct {
		name  string
		fault func(e *env) (*store.DB, *Retention)
	}{
		{"blob Put fails for the second tenant", func(e *env) (*store.DB, *Retention) {
			return e.db, e.retention(e.db, failingPuts{Store: e.blobs, match: "tenants/beta/"})
		}},
		{"DROP PARTITION fails", func(e *env) (*store.DB, *Retention) {
			db := store.New(failingExec{Backend: e.db.Backend(), match: "DROP PARTITION"}, store.Options{Mode: "embedded"})
			return db, e.retention(db, e.blobs)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			seedOld(t, e.db, 30, "acme", "beta")
			_, broken := tc.fault(e)
			rep, err := broken.Run(ctx)
			require.Error(t, err)
			require.Len(t, rep.Months, 1)
			assert.False(t, rep.Months[0].Dropped)
			for _, tenant := range []string{"acme", "beta"} {
				hot := count(t, e.db, "SELECT count() FROM events FINAL WHERE tenant_id = ? AND toYYYYMM(occurred_at) = 202401", tenant)
				var cold int
				for _, k := range coldKeys(t, e.blobs, tenant, oldMonth) {
					cold += len(readCold(t, e.blobs, k))
				}
				assert.True(t, hot == 30 || cold == 30, "%s: every row is in a tier (hot %d, cold %d)", tenant, hot, cold)
				assert.Equal(t, uint64(30), hot, "%s: nothing leaves the hot tier before the drop", tenant)
			}

			rep, err = e.retention(e.db, e.blobs).Run(ctx)
			require.NoError(t, err, "a healthy rerun finishes the move")
			require.Len(t, rep.Months, 1)
			assert.True(t, rep.Months[0].Dropped)
			for _, tenant := range []string{"acme", "beta"} {
				assert.Len(t, readCold(t, e.blobs, coldKey(t, e.blobs, tenant, oldMonth)), 30, "the rerun rewrote the same object")
			}
			assert.Equal(t, uint64(0), count(t, e.db, "SELECT count() FROM events WHERE toYYYYMM(occurred_at) = 202401"))
		})
	}
}

// enqueued records the tasks a Retention queues.
type enqueued struct{ tasks []jobs.Task }

func (e *enqueued) Enqueue(_ context.Context, t jobs.Task) (jobs.Receipt, error) {
	e.tasks = append(e.tasks, t)
	return jobs.Receipt{ID: t.Key}, nil
}

func TestRetentionTenantReportAndRunNow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	seedOld(t, e.db, 10, "acme", "beta")
	insert(t, e.db, "beta", ev{id: "beta-older", user: "u1", typ: "user.login", at: oldMonth.AddDate(0, -1, 0)})
	for _, k := range []string{"tenants/acme/cold/events/2022/01/part-0.parquet", "tenants/acme/cold/events/2020/01/part-0.parquet",
		"tenants/beta/cold/events/2021/03/part-0.parquet"} {
		require.NoError(t, e.blobs.Put(ctx, k, strings.NewReader("old")))
	}
	q := &enqueued{}
	r := NewRetention(e.db, e.blobs, q, RetentionConfig{Now: func() time.Time { return now }, Logger: quiet()})

	rep, err := r.TenantReport(caller("acme"))
	require.NoError(t, err)
	assert.True(t, rep.DryRun)
	require.Len(t, rep.Months, 1, "beta's older month is not acme's")
	assert.Equal(t, oldMonth, rep.Months[0].Month())
	require.Len(t, rep.Months[0].Tenants, 1)
	got := rep.Months[0].Tenants[0]
	assert.Equal(t, TenantMove{Tenant: "acme", Key: got.Key, Rows: 10, Checksum: got.Checksum}, got)
	assert.Regexp(t, `^tenants/acme/cold/events/2024/01/part-[0-9]+\.parquet$`, got.Key)
	assert.Equal(t, []string{"tenants/acme/cold/events/2020/01/part-0.parquet"}, rep.Expired)
	assert.Equal(t, []time.Time{time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)}, rep.ColdMonths)
	assert.Empty(t, q.tasks)

	rep, err = r.RunNow(caller("acme"))
	require.NoError(t, err)
	assert.True(t, rep.Queued)
	assert.False(t, rep.DryRun)
	require.Len(t, q.tasks, 1)
	assert.Equal(t, KindRetention, q.tasks[0].Kind)
	assert.Empty(t, q.tasks[0].Tenant, "the run is system work over every tenant")
	assert.Equal(t, "now-2026-11-27T12", q.tasks[0].Key, "one early run per hour, whichever tenant asks")
	assert.Equal(t, uint64(10+10+4+1), count(t, e.db, "SELECT count() FROM events FINAL"), "neither report nor RunNow moves anything")

	_, err = r.TenantReport(context.Background())
	assert.Error(t, err, "a report needs a verified caller")
	_, err = NewRetention(e.db, e.blobs, nil, RetentionConfig{}).RunNow(caller("acme"))
	assert.Error(t, err)
}
