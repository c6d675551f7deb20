package rediskv_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/kv/kvtest"
	"github.com/learnhub/analytics-service/platform/kv/rediskv"
)

// TestOpenSentinelFollowsFailover runs a real master, replica and Sentinel:
// the service's client and Asynq reach the master through the Sentinel,
// and after the master is killed and the Sentinel promotes the replica,
// both keep working against the new master without a restart.
func TestOpenSentinelFollowsFailover(t *testing.T) {
	s := kvtest.StartSentinel(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	k, err := rediskv.Open(ctx, rediskv.Config{URL: "redis-sentinel://" + s.Addr + "/" + kvtest.SentinelMaster + "/3"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = k.Close() })
	assert.False(t, k.Embedded())
	assert.Contains(t, k.Addr(), s.Addr)
	assert.Contains(t, k.Addr(), kvtest.SentinelMaster)

	require.NoError(t, k.Client().Set(ctx, "before", "1", 0).Err())
	ac := asynq.NewClient(k.AsynqOpt())
	t.Cleanup(func() { _ = ac.Close() })
	_, err = ac.EnqueueContext(ctx, asynq.NewTask("test:sentinel", nil), asynq.TaskID("before"))
	require.NoError(t, err)

	// The write reached database 3 of the master (and so the replica).
	require.Eventually(t, func() bool {
		n, err := k.Client().Exists(ctx, "before").Result()
		return err == nil && n == 1
	}, 10*time.Second, 50*time.Millisecond)

	// Let the replica catch up before the master dies, as a synchronous
	// WAIT would: what the test checks is the client following the new
	// master, not Redis' asynchronous replication window.
	require.NoError(t, k.Client().Do(ctx, "WAIT", 1, 5000).Err())

	s.KillMaster()
	deadline := time.Now().Add(60 * time.Second)
	for {
		m, err := s.Master(ctx)
		if err == nil && m == s.ReplicaAddr {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sentinel did not promote the replica %s within 60s (master now %q, %v)", s.ReplicaAddr, m, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The same client and a fresh Asynq client both work against the
	// promoted replica; old writes are there.
	require.Eventually(t, func() bool {
		return k.Client().Set(ctx, "after", "2", 0).Err() == nil
	}, 30*time.Second, 100*time.Millisecond, "writes must resume on the promoted master")
	got, err := k.Client().Get(ctx, "before").Result()
	require.NoError(t, err)
	assert.Equal(t, "1", got)
	require.Eventually(t, func() bool {
		_, err := ac.EnqueueContext(ctx, asynq.NewTask("test:sentinel", nil), asynq.TaskID("after"))
		return err == nil
	}, 30*time.Second, 100*time.Millisecond, "Asynq must follow the failover too")

	insp := asynq.NewInspector(k.AsynqOpt())
	t.Cleanup(func() { _ = insp.Close() })
	for _, id := range []string{"before", "after"} {
		info, err := insp.GetTaskInfo("default", id)
		require.NoError(t, err, id)
		assert.Equal(t, asynq.TaskStatePending, info.State, id)
	}
	role, err := k.Client().Do(ctx, "ROLE").Slice()
	require.NoError(t, err)
	assert.True(t, strings.EqualFold(role[0].(string), "master"))
}
