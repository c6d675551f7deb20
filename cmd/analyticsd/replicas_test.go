package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/bus/bustest"
	"github.com/learnhub/analytics-service/platform/config"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
	"github.com/learnhub/analytics-service/store/storetest"
)

// replica is one analyticsd instance of the two-replica test: every role
// (serve, work, ingest) of a real app, on the shared engines.
type replica struct {
	app *app
	url string
	// stopWork stops the work role (once; the test's end calls it too).
	stopWork func()
}

// startReplica opens an app on the shared engine and starts its three roles
// as runRoles does; everything stops when the test ends.
func startReplica(t *testing.T, cfg config.Config, deps appDeps) *replica {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := openAppOn(ctx, cfg, io.Discard, deps)
	require.NoError(t, err)
	t.Cleanup(a.close)
	t.Cleanup(cancel)
	errc := make(chan error, 8)
	require.NoError(t, a.startIngest(ctx, errc))
	stop, err := a.startWork(ctx)
	require.NoError(t, err)
	stopWork := sync.OnceFunc(stop)
	t.Cleanup(stopWork)
	srv, ln, err := a.httpServer()
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &replica{app: a, url: "http://" + ln.Addr().String(), stopWork: stopWork}
}

func (r *replica) token(t *testing.T, tenant string, role auth.Role) string {
	t.Helper()
	tok, err := r.app.signer.Sign(auth.Principal{Subject: "replica-test", Tenant: tenant, Roles: []auth.Role{role}}, time.Hour)
	require.NoError(t, err)
	return tok
}

// gql posts one GraphQL operation and returns its data (errors fail the test).
func (r *replica) gql(t *testing.T, token, query string, vars map[string]any, out any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, r.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var env struct {
		Data   json.RawMessage `json:"data"`
		Errors []any           `json:"errors"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&env))
	require.Empty(t, env.Errors, "%s", query)
	require.NoError(t, json.Unmarshal(env.Data, out))
}

// TestTwoReplicas runs two complete service instances — serve, work and
// ingest each — on one embedded engine (as production replicas share a
// ClickHouse cluster), one real Redis and a 3-node NATS JetStream cluster,
// and checks what several replicas must not break: a scheduled slot is
// enqueued once whichever replica fires it, a live subscriber on one replica
// is pushed events that arrived through the other, and an export asked of
// one replica is produced once and downloadable from the other.
func TestTwoReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two service instances and a NATS cluster")
	}
	cluster := bustest.StartCluster(t, 3)
	db := store.New(storetest.EmbeddedBackend(t, chembedded.Options{}), store.Options{Mode: "embedded"})
	// One data dir, so one blob directory: the stand-in for a shared S3 bucket.
	cfg := testConfig(t, map[string]string{"ANALYTICS_NATS_URL": cluster.URL()})
	a, b := startReplica(t, cfg, appDeps{db: db}), startReplica(t, cfg, appDeps{db: db})
	require.Equal(t, 3, a.app.bus.Replicas(), "R3 streams on the 3-node cluster")

	t.Run("every scheduled slot is enqueued once", func(t *testing.T) {
		names := a.app.sched.Names()
		require.NotEmpty(t, names)
		require.Equal(t, names, b.app.sched.Names(), "both replicas schedule the same work")
		now := time.Now().UTC()
		for _, name := range names {
			ra, err := a.app.sched.Trigger(t.Context(), name, now)
			require.NoError(t, err, name)
			rb, err := b.app.sched.Trigger(t.Context(), name, now.Add(time.Second))
			require.NoError(t, err, name)
			assert.Equal(t, ra.ID, rb.ID, "%s: one task id per slot", name)
			assert.True(t, rb.Duplicate, "%s: the second replica's firing of the same slot is a no-op", name)
		}
	})

	t.Run("a live subscriber on one replica sees events sent to the other", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		_, next := subscribe(ctx, t, a.url, a.token(t, "tenant-x", auth.RoleViewer),
			`subscription { eventTypeCounts(timeRange: {last: "1h"}) { type count } }`)
		sent := false
		for {
			var p struct {
				Data struct {
					Counts []struct {
						Type  string `json:"type"`
						Count int64  `json:"count"`
					} `json:"eventTypeCounts"`
				} `json:"data"`
			}
			require.NoError(t, json.Unmarshal(next(), &p), "no push from replica A after POST /v1/events on replica B")
			if len(p.Data.Counts) == 1 && p.Data.Counts[0].Type == "user.login" && p.Data.Counts[0].Count == 1 {
				break
			}
			if !sent { // the first value is sent at once; now send the event through B
				postEvent(t, b.url, b.token(t, "tenant-x", auth.RoleIngest), "tenant-x", "r-1", nil)
				sent = true
			}
		}
		assert.True(t, sent)
	})

	t.Run("an export asked of one replica is produced once and served by the other", func(t *testing.T) {
		analyst := a.token(t, "tenant-x", auth.RoleAnalyst)
		id := startExport(t, a, analyst)
		job := waitExport(t, b, analyst, id)
		require.Equal(t, "SUCCEEDED", job.Status, "error: %v", job.Error)
		assert.Equal(t, int64(1), job.Rows, "the one event of the live subtest")
		// The link names ANALYTICS_PUBLIC_URL (here the unresolved :0 listen
		// address); fetch it from replica B, which did not necessarily write it.
		u, err := url.Parse(job.URL)
		require.NoError(t, err)
		res, err := http.Get(b.url + u.RequestURI())
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Contains(t, string(body), "r-1")
		files := exportFiles(t, cfg.DataDir, id)
		assert.Len(t, files, 1, "one file for one export, whichever worker ran it: %v", files)
	})
}
