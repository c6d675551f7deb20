// Package kvtest starts a Redis for tests, one per call, on a free port, and
// stops it when the test ends: a real redis-server when one is on the PATH
// (CI installs it and must use it), else the in-process Redis-protocol
// server the embedded default runs (miniredis), so `make test` needs
// nothing installed.
package kvtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// startTimeout bounds how long StartRedis waits for the server to answer.
const startTimeout = 10 * time.Second

// StartRedis runs `redis-server` on a free local port with persistence off and
// returns its host:port once it answers PING; the server is killed when t
// ends. Without redis-server on the PATH it starts miniredis instead (keys
// expire with the wall clock, as in the embedded default), except under CI
// (CI set), where a missing redis-server fails the test with the install
// hint: CI runs the tests against both.
func StartRedis(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server is not on PATH (CI must install it: apt-get install -y redis-server): %v", err)
		}
		return startMiniredis(t)
	}
	// A free port can be taken between probing and binding; try a few.
	var lastErr error
	for range 3 {
		addr, err := start(t, bin)
		if err == nil {
			return addr
		}
		lastErr = err
	}
	t.Fatalf("redis-server did not start: %v", lastErr)
	return ""
}

func start(t testing.TB, bin string) (string, error) {
	t.Helper()
	port, err := freePort()
	if err != nil {
		return "", err
	}
	addr, kill, err := launch(bin, port, t.TempDir(), false)
	if err != nil {
		return "", err
	}
	t.Cleanup(kill)
	return addr, nil
}

// launch runs redis-server on port with its files in dir — with an
// append-only file synced on every write when persistent, with no
// persistence otherwise — and returns its address once it answers PING, and
// a function that kills it (SIGKILL: no shutdown save).
func launch(bin string, port int, dir string, persistent bool, extra ...string) (string, func(), error) {
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir}
	if persistent {
		args = append(args, "--save", "", "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--save", "", "--appendonly", "no")
	}
	return run(bin, port, append(args, extra...))
}

// run starts bin with args and returns the address of port once it answers
// PING, and a function that kills the process.
func run(bin string, port int, args []string) (string, func(), error) {
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			<-exited
		})
	}

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return addr, stop, nil
		}
		select {
		case werr := <-exited:
			exited <- werr
			stop()
			return "", nil, fmt.Errorf("exited (%v): %s", werr, out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("no PING answer within %s: %s", startTimeout, out.String())
		}
	}
}

// Durable is a redis-server with an append-only file synced on every
// write, which a test can crash and start again on the same port and data:
// what an acknowledged write to a production Redis with AOF survives.
type Durable struct {
	t    testing.TB
	bin  string
	port int
	dir  string
	Addr string
	kill func()
}

// StartDurableRedis starts a Durable server. It needs the real redis-server
// (miniredis keeps nothing across a restart): without it the test fails
// under CI and is skipped, loudly, elsewhere.
func StartDurableRedis(t testing.TB) *Durable {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server is not on PATH (CI must install it): %v", err)
		}
		t.Skip("SKIPPED LOUDLY: the Redis restart test needs redis-server (apt-get install redis-server)")
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	d := &Durable{t: t, bin: bin, port: port, dir: t.TempDir()}
	d.Restart()
	t.Cleanup(func() { d.kill() })
	return d
}

// Crash kills the server with SIGKILL.
func (d *Durable) Crash() { d.kill() }

// Restart (re)starts the server on its port and data directory.
func (d *Durable) Restart() {
	d.t.Helper()
	if d.kill != nil {
		d.kill()
	}
	addr, kill, err := launch(d.bin, d.port, d.dir, true)
	if err != nil {
		d.t.Fatalf("redis-server did not start: %v", err)
	}
	d.Addr, d.kill = addr, kill
}

// startMiniredis starts the in-process Redis-protocol server.
func startMiniredis(t testing.TB) string {
	t.Helper()
	m := miniredis.NewMiniRedis()
	// Locks and Asynq's leases rely on expiry, which miniredis applies
	// only when told to follow the clock.
	m.ClockTTL(true)
	if err := m.Start(); err != nil {
		t.Fatalf("in-process Redis did not start: %v", err)
	}
	t.Cleanup(m.Close)
	return m.Addr()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
