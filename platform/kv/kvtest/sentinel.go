package kvtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelMaster is the master name the Sentinel of StartSentinel watches.
const SentinelMaster = "analytics"

// Sentinel is a real Redis deployment with automatic failover: a master,
// one replica and one Sentinel (quorum 1) watching them, each a
// redis-server process on a free port.
type Sentinel struct {
	t testing.TB
	// Addr is the Sentinel's host:port, what a client is given.
	Addr string
	// MasterAddr and ReplicaAddr are the data nodes as started.
	MasterAddr, ReplicaAddr string
	killMaster              func()
}

// StartSentinel starts the master, the replica and the Sentinel, and
// returns once the Sentinel knows the replica. It needs redis-server:
// without it the test fails under CI and is skipped, loudly, elsewhere.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server is not on PATH (CI must install it): %v", err)
		}
		t.Skip("SKIPPED LOUDLY: the Sentinel test needs redis-server (apt-get install redis-server)")
	}
	s := &Sentinel{t: t}
	mport, rport, sport := mustPort(t), mustPort(t), mustPort(t)
	var kill func()
	s.MasterAddr, s.killMaster, err = launch(bin, mport, t.TempDir(), false)
	if err != nil {
		t.Fatalf("redis master did not start: %v", err)
	}
	t.Cleanup(s.killMaster)
	s.ReplicaAddr, kill, err = launch(bin, rport, t.TempDir(), false, "--replicaof", "127.0.0.1", fmt.Sprint(mport))
	if err != nil {
		t.Fatalf("redis replica did not start: %v", err)
	}
	t.Cleanup(kill)

	// Sentinel rewrites its configuration file, so it gets one of its own.
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	cfg := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\n"+
		"sentinel monitor %s 127.0.0.1 %d 1\n"+
		"sentinel down-after-milliseconds %[3]s 500\n"+
		"sentinel failover-timeout %[3]s 5000\n", sport, dir, SentinelMaster, mport)
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Addr, kill, err = run(bin, sport, []string{conf, "--sentinel"})
	if err != nil {
		t.Fatalf("redis sentinel did not start: %v", err)
	}
	t.Cleanup(kill)

	// Failover needs the Sentinel to have found the replica (through the
	// master's INFO, every 10 s at first, sooner once it knows it).
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		replicas, err := c.Replicas(ctx, SentinelMaster).Result()
		cancel()
		if err == nil && len(replicas) > 0 {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sentinel did not discover the replica within 30s (last error: %v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// KillMaster kills the master with SIGKILL; the Sentinel promotes the
// replica about half a second later.
func (s *Sentinel) KillMaster() { s.killMaster() }

// Master asks the Sentinel which address is the master now.
func (s *Sentinel) Master(ctx context.Context) (string, error) {
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	a, err := c.GetMasterAddrByName(ctx, SentinelMaster).Result()
	if err != nil {
		return "", err
	}
	return a[0] + ":" + a[1], nil
}

func mustPort(t testing.TB) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
