package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromiumPath is Debian's Chromium (apt-get install chromium), which
// playwright-core drives: its own browser download cannot work here.
const chromiumPath = "/usr/bin/chromium"

// e2eLearners sizes the seeded data (~35 000 events over the three demo
// tenants): quick to seed on a busy machine. The export check multiplies
// the rows with SQL so that its progress bar has time to move.
const e2eLearners = "1000"

// TestConsoleInChromium starts the real analyticsd (embedded engines, demo
// data seeded through the firehose) and runs web/e2e/console.mjs against it
// in headless Chromium. The measurements (first paint of the cached
// learner-progress dashboard, live update latency) are logged and, with
// -update-benchmarks, written to docs/BENCHMARKS.md.
func TestConsoleInChromium(t *testing.T) {
	srv := startSeededServer(t, e2eLearners)
	results := filepath.Join(t.TempDir(), "results.json")

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	env := append(srv.env(), "RESULTS_FILE="+results, "SCREENSHOT_DIR="+os.Getenv("CONSOLE_SCREENSHOT_DIR"))
	out := runE2E(ctx, t, "e2e/console.mjs", env)
	assert.Regexp(t, `(?m)^\d+ passed, 0 failed$`, out)
	assert.NotContains(t, out, "not ok")
	runMonitorsChecks(ctx, t, env)

	var r struct {
		LiveUpdateMs      int `json:"liveUpdateMs"`
		LiveAfterAnswerMs int `json:"liveAfterAnswerMs"`
		FirstPaint        struct {
			MedianMs, MinMs, MaxMs, FcpMedianMs, Runs int
		} `json:"firstPaint"`
	}
	raw, err := os.ReadFile(results)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &r))
	require.Positive(t, r.FirstPaint.Runs)
	t.Logf("first paint of the cached learner-progress dashboard: median %d ms (min %d, max %d; FCP %d ms); live update %d ms after POST",
		r.FirstPaint.MedianMs, r.FirstPaint.MinMs, r.FirstPaint.MaxMs, r.FirstPaint.FcpMedianMs, r.LiveUpdateMs)
	if os.Getenv("CONSOLE_BENCH_WRITE") != "" {
		load, _ := os.ReadFile("/proc/loadavg")
		section := fmt.Sprintf(`## Web console (browser, web/browser_test.go)

Measured by `+"`CONSOLE_BENCH_WRITE=1 go test -run TestConsoleInChromium ./web/`"+` in Debian's headless
Chromium against `+"`analyticsd all`"+` (embedded engines, %s demo learners over 60 days).

- date: %s UTC; load average at the end: %s

| measurement | measured | target | note |
|---|---|---|---|
| first paint of the cached learner-progress dashboard (7 widgets with data and charts drawn), median of %d page loads | %d ms (min %d, max %d) | ≤ 1 s | from navigation start; first contentful paint %d ms; the widgets came from the server's 60 s cache |
| live KPI update after `+"`POST /v1/events`"+` | %d ms from sending (%d ms from its answer) | ≤ 2 s | graphql-ws dashboardData push seen in the page; ingest batches for up to 1 s |

On a machine busy with other work (load average above the core count) both bounds in the
test grow with the load; the numbers above are what was measured, whatever the load.
`, e2eLearners, time.Now().UTC().Format("2006-01-02 15:04"), strings.Join(strings.Fields(string(load))[:3], " "),
			r.FirstPaint.Runs, r.FirstPaint.MedianMs, r.FirstPaint.MinMs, r.FirstPaint.MaxMs, r.FirstPaint.FcpMedianMs, r.LiveUpdateMs, r.LiveAfterAnswerMs)
		require.NoError(t, writeKeptSection("../docs/BENCHMARKS.md", "console", section))
	}
}

// seededServer is a running `analyticsd all` with seeded demo data and the
// tokens the e2e scripts sign in with.
type seededServer struct {
	base   string
	viewer string // a viewer of tenant demo
	other  string // an admin of tenant acme-corp (tenant B)
	admin  string // an admin of tenant demo
}

// startSeededServer builds analyticsd, seeds learners demo learners over 60
// days, starts it until the test ends, waits until the firehose committed
// every seeded event and mints the two tokens; extraEnv (KEY=value) is
// added to the server's environment. It skips with -short, and (or fails
// in CI) like requireBrowserTools.
func startSeededServer(t *testing.T, learners string, extraEnv ...string) seededServer {
	t.Helper()
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: browser tests do not run with -short")
	}
	requireBrowserTools(t)
	bin := filepath.Join(t.TempDir(), "analyticsd")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/analyticsd").CombinedOutput()
	require.NoError(t, err, string(out))
	// A fixed free port: signed download URLs name ANALYTICS_PUBLIC_URL,
	// which must be known before the server starts.
	addr := freeAddr(t)
	env := append(os.Environ(), "ANALYTICS_DATA_DIR="+t.TempDir(), "ANALYTICS_SEED_DEMO=false", "ANALYTICS_HTTP_ADDR="+addr,
		"ANALYTICS_PUBLIC_URL=http://"+addr, "ANALYTICS_LOG_LEVEL=warn")
	env = append(env, extraEnv...)
	seedOut := runCmd(t, env, bin, "seed", "--learners", learners, "--days", "60")
	m := regexp.MustCompile(`published (\d+) demo events`).FindStringSubmatch(seedOut)
	require.NotNil(t, m, seedOut)
	seeded, _ := strconv.Atoi(m[1])
	s := seededServer{base: startServer(t, env, bin)}
	waitForIngest(t, s.base, seeded)
	s.viewer = strings.TrimSpace(runCmd(t, env, bin, "token", "--tenant", "demo", "--role", "viewer", "--ttl", "1h"))
	s.other = strings.TrimSpace(runCmd(t, env, bin, "token", "--tenant", "acme-corp", "--role", "admin", "--ttl", "1h"))
	s.admin = strings.TrimSpace(runCmd(t, env, bin, "token", "--tenant", "demo", "--role", "admin", "--ttl", "1h"))
	return s
}

// env is the environment the e2e scripts read: BASE_URL, VIEWER_TOKEN,
// OTHER_TOKEN and ADMIN_TOKEN.
func (s seededServer) env() []string {
	return append(os.Environ(), "BASE_URL="+s.base, "VIEWER_TOKEN="+s.viewer, "OTHER_TOKEN="+s.other, "ADMIN_TOKEN="+s.admin)
}

// runE2E runs node script (relative to web/) with env, logging its output
// as it comes, fails the test unless it exits 0 and returns the output.
func runE2E(ctx context.Context, t *testing.T, script string, env []string) string {
	t.Helper()
	node := exec.CommandContext(ctx, "node", script)
	node.Env = env
	var buf bytes.Buffer
	node.Stdout, node.Stderr = io.MultiWriter(&buf, testWriter{t}), io.MultiWriter(&buf, testWriter{t})
	require.NoError(t, node.Run(), "%s failed:\n%s", script, buf.String())
	return buf.String()
}

// writeKeptSection replaces (or appends) the section between
// "<!-- kept:name -->" and "<!-- /kept:name -->", which make bench keeps.
func writeKeptSection(path, name, body string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	begin, end := "<!-- kept:"+name+" -->", "<!-- /kept:"+name+" -->"
	block := begin + "\n" + body + end + "\n"
	s := string(old)
	if i := strings.Index(s, begin); i >= 0 {
		if j := strings.Index(s[i:], end); j >= 0 {
			return os.WriteFile(path, []byte(s[:i]+block+strings.TrimPrefix(s[i+j+len(end):], "\n")), 0o644)
		}
	}
	return os.WriteFile(path, []byte(strings.TrimRight(s, "\n")+"\n\n"+block), 0o644)
}

// requireBrowserTools fails in CI (which must install them, see .ci/run)
// and skips loudly elsewhere when Chromium, node or the npm packages are
// missing.
func requireBrowserTools(t *testing.T) {
	t.Helper()
	var missing []string
	if _, err := os.Stat(chromiumPath); err != nil {
		missing = append(missing, chromiumPath+" (apt-get install chromium)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat("node_modules/playwright-core"); err != nil {
		missing = append(missing, "web/node_modules (make web-deps)")
	}
	if os.Getenv("ANALYTICS_CHDB_LIB") == "" {
		missing = append(missing, "ANALYTICS_CHDB_LIB (make test sets it)")
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI must provide: %s", strings.Join(missing, ", "))
	}
	t.Skipf("SKIPPED LOUDLY: browser tests need %s", strings.Join(missing, ", "))
}

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func runCmd(t *testing.T, env []string, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "%s %v: %s", bin, args, stderr.String())
	return stdout.String()
}

// startServer runs `analyticsd all` until the test ends and returns its
// base URL, read from the welcome lines.
func startServer(t *testing.T, env []string, bin string) string {
	t.Helper()
	cmd := exec.Command(bin, "all")
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("analyticsd stderr (tail):\n%s", tail(stderr.String(), 4000))
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			if m := regexp.MustCompile(`Console\s+(http://\S+)/`).FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
	}()
	select {
	case base := <-found:
		return base
	case <-time.After(2 * time.Minute):
		t.Fatalf("analyticsd printed no console address; stderr:\n%s", tail(stderr.String(), 4000))
		return ""
	}
}

// waitForIngest polls /metrics until the firehose committed every seeded event.
func waitForIngest(t *testing.T, base string, want int) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^analytics_ingest_events_total(?:\{[^}]*\})? ([0-9.e+]+)$`)
	deadline := time.Now().Add(4 * time.Minute)
	got := 0.0
	for time.Now().Before(deadline) {
		res, err := http.Get(base + "/metrics")
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			_ = res.Body.Close()
			got = 0
			for _, m := range re.FindAllStringSubmatch(string(body), -1) {
				v, _ := strconv.ParseFloat(m[1], 64)
				got += v
			}
			if got >= float64(want) {
				return
			}
		}
		time.Sleep(250 * time.Millisecond) // polling interval, bounded by the deadline
	}
	t.Fatalf("ingest committed %v of %d seeded events in 4 minutes", got, want)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.t.Log(line)
	}
	return len(p), nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprint("…", s[len(s)-n:])
}
