package privacy

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/store"
)

// seedTenant gives tenant hot events of u1 and u2 today, a dead letter and
// cohort memberships of each, and old events (moved to the cold tier by
// the caller).
func seedTenant(t *testing.T, e *env, tenant string) {
	t.Helper()
	ctx := context.Background()
	today := now.Truncate(24 * time.Hour)
	insert(t, e.db, tenant,
		ev{id: tenant + "-h1", user: "u1", typ: "lesson.completed", at: today.Add(time.Hour), props: map[string]any{"course_id": "c1", "email": "u1@x.test"}},
		ev{id: tenant + "-h2", user: "u1", typ: "lesson.completed", at: today.Add(2 * time.Hour), props: map[string]any{"course_id": "c1"}},
		ev{id: tenant + "-h3", user: "u1", typ: "user.login", at: today.AddDate(0, 0, -3)},
		ev{id: tenant + "-h4", user: "u2", typ: "lesson.completed", at: today.Add(3 * time.Hour), props: map[string]any{"course_id": "c1"}},
		ev{id: tenant + "-h5", user: "u10", typ: "lesson.completed", at: today.Add(3 * time.Hour), props: map[string]any{"course_id": "c1"}},
	)
	require.NoError(t, e.db.Insert(ctx, store.Insert{Table: "dead_letters",
		Columns: []string{"tenant_id", "received_at", "subject", "reason_code", "reason", "payload"},
		Rows: [][]any{
			{tenant, now, "events." + tenant + ".x", "missing_field", "no type", `{"id":"d1","user_id":"u1"}`},
			{tenant, now, "events." + tenant + ".x", "invalid_json", "broken", `{"id":"d2","user_id":"u1",`},
			{tenant, now, "events." + tenant + ".x", "missing_field", "no type", `{"id":"d3","user_id":"u10"}`},
		}}))
	require.NoError(t, e.db.Insert(ctx, store.Insert{Table: "cohort_users", Columns: []string{"tenant_id", "cohort_id", "version", "user_id"},
		Rows: [][]any{{tenant, "c", uint64(1), "u1"}, {tenant, "c", uint64(2), "u1"}, {tenant, "c", uint64(2), "u2"}}}))
	insert(t, e.db, tenant,
		ev{id: tenant + "-o1", user: "u1", typ: "quiz.submitted", at: oldMonth.Add(time.Hour), props: map[string]any{"score": 7.0, "email": "u1@x.test", "name": "Ann"}},
		ev{id: tenant + "-o2", user: "u1", typ: "quiz.submitted", at: oldMonth.Add(2 * time.Hour), props: map[string]any{"score": 9.0}},
		ev{id: tenant + "-o3", user: "u2", typ: "quiz.submitted", at: oldMonth.Add(3 * time.Hour), props: map[string]any{"score": 5.0, "email": "u2@x.test"}},
	)
}

// userRows counts what the hot tier holds of user in tenant.
func userRows(t *testing.T, db *store.DB, tenant, user string) [3]uint64 {
	t.Helper()
	return [3]uint64{
		count(t, db, "SELECT count() FROM events WHERE tenant_id = ? AND user_id = ?", tenant, user),
		count(t, db, "SELECT count() FROM dead_letters WHERE tenant_id = ? AND position(payload, ?) > 0", tenant, `"`+user+`"`),
		count(t, db, "SELECT count() FROM cohort_users WHERE tenant_id = ? AND user_id = ?", tenant, user),
	}
}

// rollupUsers is the distinct users of tenant's lesson.completed today in metrics_daily.
func rollupUsers(t *testing.T, db *store.DB, tenant string) uint64 {
	t.Helper()
	return count(t, db, "SELECT uniqExactMerge(users) FROM metrics_daily WHERE tenant_id = ? AND day = toDate(?) AND type = 'lesson.completed'",
		tenant, now)
}

// activeUsers is the distinct users of tenant today in metrics_daily_active
// and, second, in events (the truth it must match).
func activeUsers(t *testing.T, db *store.DB, tenant string) [2]uint64 {
	t.Helper()
	return [2]uint64{
		count(t, db, "SELECT uniqExactMerge(users) FROM metrics_daily_active WHERE tenant_id = ? AND day = toDate(?)", tenant, now),
		count(t, db, "SELECT uniqExact(user_id) FROM events FINAL WHERE tenant_id = ? AND toDate(occurred_at) = toDate(?)", tenant, now),
	}
}

func status(t *testing.T, e *env, tenant, id string) Status {
	t.Helper()
	st, err := e.svc.Status(caller(tenant), id)
	require.NoError(t, err)
	return st
}

func TestErasureEndToEnd(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seedTenant(t, e, "acme")
	seedTenant(t, e, "beta")
	_, err := e.retention(e.db, e.blobs).Run(ctx)
	require.NoError(t, err)
	acmeCold := coldKey(t, e.blobs, "acme", oldMonth)
	acmeColdBytes := readBlob(t, e.blobs, acmeCold)
	require.Equal(t, [3]uint64{3, 2, 2}, userRows(t, e.db, "acme", "u1"))
	require.Equal(t, uint64(3), rollupUsers(t, e.db, "acme"))
	activeBefore := activeUsers(t, e.db, "acme")
	require.Equal(t, activeBefore[1], activeBefore[0])

	done := make(chan error, 1)
	go func() {
		done <- NewConsumer(e.svc, ConsumerConfig{Logger: quiet(), FetchWait: 200 * time.Millisecond, RetryDelay: 200 * time.Millisecond}).Run(ctx)
	}()

	// Tenant beta erases its u1: acme's u1 (same id) is untouched.
	reqB, err := e.svc.RequestErasure(caller("beta"), "u1")
	require.NoError(t, err)
	eventually(t, "beta's erasure", func() bool { return status(t, e, "beta", reqB.RequestID).Step == StepCompleted })
	assert.Equal(t, [3]uint64{0, 0, 0}, userRows(t, e.db, "beta", "u1"))
	assert.Equal(t, [3]uint64{3, 2, 2}, userRows(t, e.db, "acme", "u1"), "another tenant's request never touches acme")
	assert.Equal(t, acmeColdBytes, readBlob(t, e.blobs, acmeCold))
	assert.Equal(t, uint64(3), rollupUsers(t, e.db, "acme"))
	_, err = e.svc.Status(caller("acme"), reqB.RequestID)
	assert.Error(t, err, "acme cannot see beta's request")

	// Tenant acme erases its u1.
	started, err := e.svc.RequestErasure(caller("acme"), "u1")
	require.NoError(t, err)
	assert.Equal(t, StepRequested, started.Step)
	assert.Equal(t, now, started.RequestedAt)
	req := Request{Tenant: "acme", UserID: "u1", RequestID: started.RequestID, RequestedAt: started.RequestedAt}
	eventually(t, "acme's erasure", func() bool { return status(t, e, "acme", req.RequestID).Step == StepCompleted })
	st := status(t, e, "acme", req.RequestID)
	want := Status{Hot: HotCounts{Events: 3, DeadLetters: 2, CohortUsers: 2, RollupDays: 2}, Cold: ColdCounts{Objects: 1, Rows: 2}}
	assert.Equal(t, want.Hot, st.Hot)
	assert.Equal(t, want.Cold, st.Cold)
	assert.Empty(t, st.Error)

	// Hot tier: nothing of u1 is left; u10 (whose id contains "u1") stays.
	assert.Equal(t, [3]uint64{0, 0, 0}, userRows(t, e.db, "acme", "u1"))
	assert.Equal(t, [3]uint64{1, 1, 0}, userRows(t, e.db, "acme", "u10"))
	assert.Equal(t, uint64(2), rollupUsers(t, e.db, "acme"), "the rebuilt rollup no longer counts u1")
	assert.Equal(t, uint64(2), rollupUsers(t, e.db, "beta"), "beta keeps u2 and u10 after its own erasure")
	activeAfter := activeUsers(t, e.db, "acme")
	assert.Equal(t, activeBefore[0]-1, activeAfter[0], "metrics_daily_active no longer counts u1")
	assert.Equal(t, activeAfter[1], activeAfter[0])

	// Cold tier: u1's rows carry the hash and lost their PII keys.
	hash, err := e.svc.UserHash(ctx, mustScope(t, "acme"), "u1")
	require.NoError(t, err)
	assert.Equal(t, st.UserHash, hash)
	assert.Equal(t, hash, started.UserHash, "the first state already names the user by hash")
	var hashed int
	for _, r := range readCold(t, e.blobs, acmeCold) {
		assert.NotEqual(t, "u1", r.user)
		if r.user == hash {
			hashed++
			assert.NotContains(t, r.props, "email")
			assert.NotContains(t, r.props, "Ann")
			assert.Contains(t, r.props, "score")
		}
		if r.user == "u2" {
			assert.Contains(t, r.props, "u2@x.test", "other users keep their properties")
		}
	}
	assert.Equal(t, 2, hashed)
	betaHash, err := e.svc.UserHash(ctx, mustScope(t, "beta"), "u1")
	require.NoError(t, err)
	assert.NotEqual(t, hash, betaHash, "salts are per tenant")

	// The receipt: counts per tier, the hash, never the raw id.
	require.Equal(t, uint64(2), subjectMsgs(t, e.bus, SubjectErasureCompleted))
	s, err := e.bus.JetStream().Stream(ctx, e.bus.Stream())
	require.NoError(t, err)
	msg, err := s.GetLastMsgForSubject(ctx, SubjectErasureCompleted)
	require.NoError(t, err)
	var rc Receipt
	require.NoError(t, json.Unmarshal(msg.Data, &rc))
	assert.Equal(t, Receipt{Tenant: "acme", UserHash: hash, RequestID: req.RequestID, RequestedAt: now, CompletedAt: now, Hot: want.Hot, Cold: want.Cold}, rc)
	assert.NotContains(t, string(msg.Data), `"u1"`)
	assert.Equal(t, uint64(1), count(t, e.db, "SELECT count() FROM audit_log WHERE tenant_id = 'acme' AND action = 'erasure.completed' AND entity_id = ?", req.RequestID))
	assert.Equal(t, uint64(0), count(t, e.db, "SELECT count() FROM erasure_requests WHERE position(user_hash, 'u1') = 1"))

	// Replay: through the consumer (a new message id) and directly.
	coldAfter := readBlob(t, e.blobs, acmeCold)
	require.NoError(t, e.bus.Publish(ctx, SubjectErasureRequested, req, req.RequestID+"-replay"))
	again, published, err := e.svc.Process(ctx, req)
	require.NoError(t, err)
	assert.False(t, published)
	assert.Equal(t, want.Hot, again.Hot)
	assert.Equal(t, want.Cold, again.Cold)
	eventually(t, "the replayed message to be acked", func() bool {
		c, err := e.bus.JetStream().Consumer(ctx, DefaultStream, DefaultDurable)
		require.NoError(t, err)
		info, err := c.Info(ctx)
		require.NoError(t, err)
		return info.NumPending == 0 && info.NumAckPending == 0
	})
	assert.Equal(t, uint64(2), subjectMsgs(t, e.bus, SubjectErasureCompleted), "no second receipt")
	assert.Equal(t, coldAfter, readBlob(t, e.blobs, acmeCold), "the cold tier is not rewritten again")
	assert.Equal(t, [3]uint64{1, 1, 0}, userRows(t, e.db, "acme", "u10"))
	assert.Equal(t, uint64(1), count(t, e.db, "SELECT count() FROM audit_log WHERE action = 'erasure.completed' AND entity_id = ?", req.RequestID))

	cancel()
	require.NoError(t, <-done)
}

func TestErasureResumesAfterColdFailure(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	seedTenant(t, e, "acme")
	_, err := e.retention(e.db, e.blobs).Run(ctx)
	require.NoError(t, err)
	req := Request{Tenant: "acme", UserID: "u1", RequestID: "r-1", RequestedAt: now}

	broken := NewService(e.db, e.bus, failingPuts{Store: e.blobs, match: "/cold/"}, Config{Now: func() time.Time { return now }, Logger: quiet(), Rollups: metrics.NewRollups(e.db)})
	_, _, err = broken.Process(ctx, req)
	require.Error(t, err)
	st := status(t, e, "acme", "r-1")
	assert.Equal(t, StepHotDone, st.Step)
	assert.NotEmpty(t, st.Error)
	assert.Equal(t, uint64(0), subjectMsgs(t, e.bus, SubjectErasureCompleted), "no receipt before the cold tier is done")

	rc, published, err := e.svc.Process(ctx, req)
	require.NoError(t, err)
	assert.True(t, published)
	assert.Equal(t, HotCounts{Events: 3, DeadLetters: 2, CohortUsers: 2, RollupDays: 2}, rc.Hot, "hot counts survive the resume")
	assert.Equal(t, ColdCounts{Objects: 1, Rows: 2}, rc.Cold)
	assert.Equal(t, uint64(1), subjectMsgs(t, e.bus, SubjectErasureCompleted))
}

func TestRequestErasureNeedsACallerAndAUser(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.RequestErasure(context.Background(), "u1")
	assert.Error(t, err)
	_, err = e.svc.RequestErasure(caller("acme"), "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "userId")
	_, err = e.svc.RequestErasure(caller("acme"), strings.Repeat("x", 300))
	assert.Error(t, err)
}

func mustScope(t *testing.T, tenant string) store.Scope {
	t.Helper()
	s, err := store.DangerousScopeForTenant(tenant)
	require.NoError(t, err)
	return s
}

func TestListErasureRequests(t *testing.T) {
	e := newEnv(t)
	for range 3 {
		_, err := e.svc.RequestErasure(caller("acme"), "u1")
		require.NoError(t, err)
	}
	_, err := e.svc.RequestErasure(caller("beta"), "u1")
	require.NoError(t, err)

	page, err := e.svc.List(caller("acme"), 2, "")
	require.NoError(t, err)
	ids := func(p Page) []string {
		var out []string
		for _, st := range p.Requests {
			out = append(out, st.RequestID)
		}
		return out
	}
	assert.Equal(t, []string{"req-3", "req-2"}, ids(page), "newest first (equal times: by id)")
	require.True(t, page.HasNext)
	page, err = e.svc.List(caller("acme"), 2, page.EndCursor)
	require.NoError(t, err)
	assert.Equal(t, []string{"req-1"}, ids(page))
	assert.False(t, page.HasNext)
	assert.Empty(t, page.EndCursor)

	page, err = e.svc.List(caller("beta"), 0, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"req-4"}, ids(page), "each tenant sees its own")
	assert.Equal(t, StepRequested, page.Requests[0].Step)

	_, err = e.svc.List(caller("acme"), 2, "not-a-cursor")
	assert.ErrorContains(t, err, "after")
	_, err = e.svc.List(caller("acme"), MaxPageSize+1, "")
	assert.ErrorContains(t, err, "first")
	_, err = e.svc.List(context.Background(), 2, "")
	assert.Error(t, err)
}
