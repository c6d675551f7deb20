package bus_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/bus/bustest"
	"github.com/learnhub/analytics-service/platform/errs"
)

func TestResolveReplicas(t *testing.T) {
	single := bus.Topology{Servers: 1}
	three := bus.Topology{Cluster: "c", Servers: 3}
	two := bus.Topology{Cluster: "c", Servers: 2}
	for _, tc := range []struct {
		name       string
		configured int
		topo       bus.Topology
		want       int
		err        string
	}{
		{"auto on a single server", 0, single, 1, ""},
		{"auto on a 3-node cluster", 0, three, 3, ""},
		{"auto on a 2-node cluster", 0, two, 1, ""},
		{"explicit 1 anywhere", 1, three, 1, ""},
		{"explicit 3 on 3 nodes", 3, three, 3, ""},
		{"3 on a single server", 3, single, 0, "needs a NATS cluster"},
		{"3 on 2 nodes", 3, two, 0, `cluster "c" has 2 server(s); set at most 2`},
		{"over JetStream's limit", 7, three, 0, "1 to 5 replicas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bus.ResolveReplicas(tc.configured, tc.topo)
			if tc.err != "" {
				require.Error(t, err)
				assert.Equal(t, errs.KindInvalid, errs.KindOf(err))
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestOpenChecksReplicasAgainstTheServer: a count the embedded (single)
// server cannot hold fails at Open, before any stream is touched.
func TestOpenChecksReplicasAgainstTheServer(t *testing.T) {
	_, err := bus.Open(context.Background(), bus.Config{DataDir: t.TempDir(), StreamReplicas: 3})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ANALYTICS_NATS_REPLICAS=3 needs a NATS cluster")
}

// TestClusterStreamsAreReplicated: on a 3-node cluster the automatic count is
// 3 and the outgoing-events stream is created with it.
func TestClusterStreamsAreReplicated(t *testing.T) {
	c := bustest.StartCluster(t, 3)
	b := open(t, bus.Config{URL: c.URL()})
	assert.Equal(t, 3, b.Replicas())
	s, err := b.JetStream().Stream(context.Background(), bus.DefaultStream)
	require.NoError(t, err)
	assert.Equal(t, 3, s.CachedInfo().Config.Replicas)
	require.NotNil(t, s.CachedInfo().Cluster)
	assert.Equal(t, bustest.ClusterName, s.CachedInfo().Cluster.Name)
}
