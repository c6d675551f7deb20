package bus

import (
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Replica counts of JetStream streams and their consumers.
const (
	// ClusteredReplicas is the replica count chosen automatically on a NATS
	// cluster of at least that many servers: one server can fail (or be
	// upgraded) without losing an acknowledged message or stopping ingest.
	ClusteredReplicas = 3
	// MaxReplicas is JetStream's limit.
	MaxReplicas = 5
)

// Topology is what a connection can see of the NATS deployment behind it.
type Topology struct {
	// Cluster is the cluster name; empty when the server is not clustered.
	Cluster string
	// Servers is how many servers the client knows (configured plus those the
	// cluster advertised).
	Servers int
}

// topologyOf reads the topology from an open connection.
func topologyOf(nc *nats.Conn) Topology {
	return Topology{Cluster: nc.ConnectedClusterName(), Servers: len(nc.Servers())}
}

// ResolveReplicas turns the configured replica count (ANALYTICS_NATS_REPLICAS)
// into the one every stream of the service is created with. Zero means
// automatic: ClusteredReplicas on a cluster of at least that many servers, 1
// otherwise. An explicit count is checked against the topology, so a setting
// the cluster cannot honour fails at start with an error that says what to
// change, not at the first publish.
func ResolveReplicas(configured int, t Topology) (int, error) {
	const op = "bus.ResolveReplicas"
	switch {
	case configured < 0 || configured > MaxReplicas:
		return 0, errs.E(op, errs.KindInvalid, fmt.Sprintf("ANALYTICS_NATS_REPLICAS=%d: JetStream keeps 1 to %d replicas; set a value in that range or 0 for automatic", configured, MaxReplicas))
	case configured == 0:
		if t.Cluster != "" && t.Servers >= ClusteredReplicas {
			return ClusteredReplicas, nil
		}
		return 1, nil
	case configured > 1 && t.Cluster == "":
		return 0, errs.E(op, errs.KindInvalid, fmt.Sprintf("ANALYTICS_NATS_REPLICAS=%d needs a NATS cluster, but the server is not clustered; set 1, or 0 for automatic", configured))
	case configured > t.Servers:
		return 0, errs.E(op, errs.KindInvalid, fmt.Sprintf("ANALYTICS_NATS_REPLICAS=%d but NATS cluster %q has %d server(s); set at most %d, or 0 for automatic", configured, t.Cluster, t.Servers, t.Servers))
	}
	return configured, nil
}

// AutoReplicas is the automatic replica count for a connection (see
// ResolveReplicas): what a stream gets when nobody configured one.
func AutoReplicas(nc *nats.Conn) int {
	n, _ := ResolveReplicas(0, topologyOf(nc))
	return n
}

// Replicas is the replica count the service creates its streams with,
// resolved at Open from Config.StreamReplicas and the cluster's topology.
func (b *Bus) Replicas() int { return b.replicas }
