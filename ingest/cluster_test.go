package ingest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/bus/bustest"
)

// TestClusterNodeLossDuringIngest runs the firehose on a 3-node JetStream
// cluster with R3 streams and kills the node that leads the EVENTS stream
// while events are being published and consumed. What a producer had
// acknowledged must all reach ClickHouse exactly once, and ingest must go on
// on the two nodes left (the cluster keeps its quorum).
func TestClusterNodeLossDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node NATS cluster")
	}
	ctx := context.Background()
	cluster := bustest.StartCluster(t, 3)
	b, err := bus.Open(ctx, bus.Config{URL: cluster.URL()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	require.Equal(t, 3, b.Replicas(), "automatic replica count on a 3-node cluster")

	stream, err := ingest.EnsureStream(ctx, b.JetStream(), ingest.StreamConfig{Replicas: b.Replicas()})
	require.NoError(t, err)
	info, err := stream.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, info.Config.Replicas)
	require.NotNil(t, info.Cluster)
	oldLeader := info.Cluster.Leader
	leader := cluster.Index(oldLeader)
	require.GreaterOrEqual(t, leader, 0, "stream leader %q is one of ours", info.Cluster.Leader)

	db, _ := openDB(t)
	c := ingest.NewDirectConsumer(b, db, nil, nil, ingest.DirectConfig{Sink: fastSink, Stream: ingest.StreamConfig{Replicas: b.Replicas()}})
	stop := start(t, c)

	// The producer is a separate connection that retries an unacknowledged
	// publish with the same Nats-Msg-Id, as the README asks producers to.
	pc, err := nats.Connect(cluster.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(pc.Close)
	pjs, err := jetstream.New(pc)
	require.NoError(t, err)

	const tenant, n, killAt = "ha", 1500, 500
	now := time.Now().UTC()
	acked := 0
	for i := range n {
		if i == killAt {
			cluster.Kill(leader)
		}
		id := fmt.Sprintf("ha-%d", i)
		typ := ingest.KnownTypes()[i%len(ingest.KnownTypes())]
		msg := &nats.Msg{Subject: ingest.Subject(tenant, typ), Data: envelope(tenant, id, typ, now.Add(-time.Duration(i)*time.Second), nil)}
		deadline := time.Now().Add(testTimeout)
		for {
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := pjs.PublishMsg(pctx, msg, jetstream.WithMsgID(tenant+":"+id))
			cancel()
			if err == nil {
				acked++
				break
			}
			require.True(t, time.Now().Before(deadline), "publish %d never acknowledged after the node loss: %v", i, err)
			time.Sleep(50 * time.Millisecond) // producer retry backoff
		}
	}
	require.Equal(t, n, acked)

	eventually(t, 2*testTimeout, func() bool { return countEvents(t, db, tenant).final == n },
		"all %d acknowledged events stored after losing node %d", n, leader+1)
	got := countEvents(t, db, tenant)
	assert.Equal(t, uint64(n), got.distinct, "every acknowledged event stored, none invented")
	assert.Equal(t, uint64(n), got.final)

	info, err = stream.Info(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, oldLeader, info.Cluster.Leader, "a new stream leader was elected")
	assert.Nil(t, cluster.Server(leader), "the old leader is down")
	assert.Equal(t, uint64(n), info.State.Msgs, "retried publishes were deduplicated by JetStream")
	require.NoError(t, stop())
}
