// Package bustest runs a real NATS JetStream cluster in-process for tests
// that must prove what a highly available deployment promises: R3 streams,
// a node lost during work, replicas of the service sharing one cluster.
package bustest

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ClusterName is the name the test cluster's servers share.
const ClusterName = "analytics-test"

// Cluster is n NATS servers with JetStream, routed to each other on loopback.
type Cluster struct {
	t       testing.TB
	servers []*server.Server
	opts    []*server.Options
}

// StartCluster starts n clustered servers, each with its own file store, and
// waits until JetStream has a meta leader. They stop when the test ends.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	ports := freePorts(t, n)
	routes := make([]string, n)
	for i, p := range ports {
		routes[i] = fmt.Sprintf("nats://127.0.0.1:%d", p)
	}
	c := &Cluster{t: t}
	for i := range n {
		o := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       server.RANDOM_PORT,
			JetStream:  true,
			StoreDir:   t.TempDir(),
			NoSigs:     true,
			NoLog:      true,
			Cluster: server.ClusterOpts{
				Name: ClusterName,
				Host: "127.0.0.1",
				Port: ports[i],
			},
			Routes: server.RoutesFromStr(strings.Join(routes, ",")),
		}
		s, err := server.NewServer(o)
		if err != nil {
			t.Fatalf("bustest: server %d: %v", i+1, err)
		}
		s.Start()
		c.servers = append(c.servers, s)
		c.opts = append(c.opts, o)
	}
	t.Cleanup(c.Shutdown)
	for i, s := range c.servers {
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatalf("bustest: server %d not ready", i+1)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for c.metaLeader() < 0 {
		if time.Now().After(deadline) {
			t.Fatal("bustest: the JetStream cluster elected no meta leader in 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return c
}

// URL lists every running server's client URL, comma separated, as
// ANALYTICS_NATS_URL takes it.
func (c *Cluster) URL() string {
	var urls []string
	for _, s := range c.servers {
		if s != nil && s.Running() {
			urls = append(urls, s.ClientURL())
		}
	}
	return strings.Join(urls, ",")
}

// Server returns the i-th server (nil after Kill).
func (c *Cluster) Server(i int) *server.Server { return c.servers[i] }

// Index returns the index of the server named name, or -1.
func (c *Cluster) Index(name string) int {
	for i, o := range c.opts {
		if o.ServerName == name {
			return i
		}
	}
	return -1
}

// Kill stops server i abruptly (no lame-duck mode), as a crashed node.
func (c *Cluster) Kill(i int) {
	if s := c.servers[i]; s != nil {
		s.Shutdown()
		s.WaitForShutdown()
		c.servers[i] = nil
	}
}

// Shutdown stops every server still running.
func (c *Cluster) Shutdown() {
	for i := range c.servers {
		c.Kill(i)
	}
}

func (c *Cluster) metaLeader() int {
	for i, s := range c.servers {
		if s != nil && s.JetStreamIsLeader() {
			return i
		}
	}
	return -1
}

// freePorts reserves n loopback ports for the cluster routes (the route
// list must be known before the servers start).
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("bustest: %v", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		_ = l.Close()
	}
	return ports
}
