package queue_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/queue"
)

// TestDepthCollector: every configured queue is exported at zero before it
// is used; an enqueued task that no worker takes shows as pending in its
// queue and its wait as latency; the output passes promtool's linter.
func TestDepthCollector(t *testing.T) {
	rc := newRedis(t)
	reg := prometheus.NewRegistry()
	reg.MustRegister(queue.NewDepthCollector(rc, nil))

	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	assert.Empty(t, problems)
	n, err := testutil.GatherAndCount(reg, "analytics_queue_tasks")
	require.NoError(t, err)
	assert.Equal(t, len(queue.DefaultQueues())*6, n, "every queue × state, at zero")
	assert.Equal(t, 0.0, depth(t, reg, "analytics_queue_tasks", "low", "pending"))
	assert.Equal(t, 1.0, depth(t, reg, "analytics_queue_inspect_up", "", ""))

	client := queue.NewClient(rc, queue.ClientConfig{})
	for _, id := range []string{"e1", "e2"} {
		_, err := client.Enqueue(context.Background(), jobs.Task{Kind: "exports:run", Tenant: "acme", Queue: jobs.QueueLow, Params: exportParams{ExportID: id, Format: "csv"}})
		require.NoError(t, err)
	}
	assert.Equal(t, 2.0, depth(t, reg, "analytics_queue_tasks", "low", "pending"))
	assert.Equal(t, 0.0, depth(t, reg, "analytics_queue_tasks", jobs.QueueCritical, "pending"), "other queues unaffected")
	eventually(t, "the oldest pending task's age shows as latency", func() bool {
		return depth(t, reg, "analytics_queue_latency_seconds", "low", "") > 0
	})

	require.NoError(t, rc.Close())
	assert.Equal(t, 0.0, depth(t, reg, "analytics_queue_inspect_up", "", ""), "Redis unreachable is visible, not stale zeros")
	n, err = testutil.GatherAndCount(reg, "analytics_queue_tasks")
	require.NoError(t, err)
	assert.Zero(t, n)
}

// depth gathers reg and returns the value of name{queue, state} (labels
// left empty are not matched).
func depth(t *testing.T, reg *prometheus.Registry, name, q, state string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "queue" && l.GetValue() != q || l.GetName() == "state" && l.GetValue() != state {
					continue metrics
				}
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("%s{queue=%q,state=%q} not exported", name, q, state)
	return 0
}
