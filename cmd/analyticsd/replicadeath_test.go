package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
	"github.com/learnhub/analytics-service/store/storetest"
)

// dyingWrites is the blob store of a replica that dies while it writes a
// file: every Put announces its key, then hangs until the task's context
// ends (the worker is gone) and writes nothing.
type dyingWrites struct {
	blob.Store
	started chan<- string
}

func (d dyingWrites) Put(ctx context.Context, key string, _ io.Reader) error {
	select {
	case d.started <- key:
	default:
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(2 * time.Minute):
		return errors.New("dyingWrites: the task context never ended")
	}
}

// TestExportOnceWhenAReplicaDies: replica A's worker takes an export and
// dies while writing its file (its work role is shut down; Asynq hands the
// unfinished task back to Redis after ANALYTICS_SHUTDOWN_TIMEOUT). Replica
// B's worker then produces it: one file, one SUCCEEDED transition, and the
// download works from B.
func TestExportOnceWhenAReplicaDies(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two service instances")
	}
	nats, err := bus.Open(t.Context(), bus.Config{DataDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = nats.Close() })
	db := store.New(storetest.EmbeddedBackend(t, chembedded.Options{}), store.Options{Mode: "embedded"})
	cfg := testConfig(t, map[string]string{"ANALYTICS_NATS_URL": nats.ClientURL()})

	started := make(chan string, 1)
	a := startReplica(t, cfg, appDeps{db: db, wrapBlobs: func(s blob.Store) blob.Store {
		return dyingWrites{Store: s, started: started}
	}})
	// Every version of the job's row stays countable (no background merge
	// folds two SUCCEEDED versions into one).
	require.NoError(t, db.Exec(t.Context(), "SYSTEM STOP MERGES export_jobs"))

	analyst := a.token(t, "tenant-d", auth.RoleAnalyst)
	id := startExport(t, a, analyst)
	select {
	case key := <-started:
		require.Contains(t, key, id, "replica A's worker is writing this export")
	case <-time.After(30 * time.Second):
		t.Fatal("replica A's worker never started writing the export")
	}

	b := startReplica(t, cfg, appDeps{db: db}) // its worker cannot take the task A holds
	killed := time.Now()
	a.stopWork() // A dies mid-write: Asynq requeues the task after the shutdown timeout
	t.Logf("replica A's work role stopped in %s", time.Since(killed).Round(time.Millisecond))

	job := waitExport(t, b, analyst, id)
	require.Equal(t, "SUCCEEDED", job.Status, "error: %v", job.Error)
	assert.Len(t, exportFiles(t, cfg.DataDir, id), 1, "one file for the export")

	var succeeded, running uint64
	require.NoError(t, db.QueryRow(t.Context(), []any{&succeeded, &running},
		"SELECT countIf(status = 'SUCCEEDED'), countIf(status = 'RUNNING') FROM export_jobs WHERE job_id = ?", id))
	assert.EqualValues(t, 1, succeeded, "one SUCCEEDED transition")
	assert.EqualValues(t, 2, running, "RUNNING once on A, once on B")

	u, err := url.Parse(job.URL)
	require.NoError(t, err)
	res, err := http.Get(b.url + u.RequestURI())
	require.NoError(t, err)
	_ = res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
}

// exportState is what a client polls of an export.
type exportState struct {
	Status string
	Rows   int64
	URL    string
	Error  *string
}

// startExport asks r for a CSV export of the last day's events and returns
// its id.
func startExport(t *testing.T, r *replica, token string) string {
	t.Helper()
	var started struct {
		Job struct{ ID string } `json:"exportQuery"`
	}
	r.gql(t, token, `mutation { exportQuery(input: {events: {timeRange: {last: "1d"}}, format: CSV}) { id } }`, nil, &started)
	require.NotEmpty(t, started.Job.ID)
	return started.Job.ID
}

// waitExport polls r until export id succeeded or failed, for at most a
// minute.
func waitExport(t *testing.T, r *replica, token, id string) exportState {
	t.Helper()
	var job struct {
		Job exportState `json:"exportJob"`
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		r.gql(t, token, `query($id: ID!) { exportJob(id: $id) { status rows url error } }`, map[string]any{"id": id}, &job)
		if job.Job.Status == "SUCCEEDED" || job.Job.Status == "FAILED" || time.Now().After(deadline) {
			return job.Job
		}
		time.Sleep(100 * time.Millisecond) // polling interval of a deadline-bounded wait
	}
}

// exportFiles lists the files under dir (the local blob store) of export id.
func exportFiles(t *testing.T, dir, id string) []string {
	t.Helper()
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, id) {
			files = append(files, p)
		}
		return nil
	}))
	return files
}
