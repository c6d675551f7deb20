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
	_, err = e.blobs.Open(ctx, ColdKey("acme", oldMonth))
	assert.Error(t, err, "a dry run writes nothing")

	rep, err := r.Run(ctx)
	require.NoError(t, err)
	require.Len(t, rep.Months, 1)
	assert.True(t, rep.Months[0].Dropped)
	for _, tm := range rep.Months[0].Tenants {
		assert.True(t, tm.Verified, tm.Tenant)
		assert.Equal(t, uint64(40), tm.Rows)
		assert.Equal(t, ColdKey(tm.Tenant, oldMonth), tm.Key)
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
	assert.Equal(t, uint64(0), count(t, e.db, "SELECT count() FROM metrics_daily WHERE toYYYYMM(day) = 202401"))
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
				if _, err := e.blobs.Open(ctx, ColdKey(tenant, oldMonth)); err == nil {
					cold = len(readCold(t, e.blobs, ColdKey(tenant, oldMonth)))
				}
				assert.True(t, hot == 30 || cold == 30, "%s: every row is in a tier (hot %d, cold %d)", tenant, hot, cold)
				assert.Equal(t, uint64(30), hot, "%s: nothing leaves the hot tier before the drop", tenant)
			}

			rep, err = e.retention(e.db, e.blobs).Run(ctx)
			require.NoError(t, err, "a healthy rerun finishes the move")
			require.Len(t, rep.Months, 1)
			assert.True(t, rep.Months[0].Dropped)
			for _, tenant := range []string{"acme", "beta"} {
				assert.Len(t, readCold(t, e.blobs, ColdKey(tenant, oldMonth)), 30)
			}
			assert.Equal(t, uint64(0), count(t, e.db, "SELECT count() FROM events WHERE toYYYYMM(occurred_at) = 202401"))
		})
	}
}
