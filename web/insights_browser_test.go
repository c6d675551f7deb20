package web

import (
	"bytes"
	"context"
	"io"
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

// TestInsightsInChromium runs web/e2e/insights.mjs in headless Chromium
// against the real analyticsd: a viewer asks on the Insights page, watches
// the steps arrive over insightProgress, and the page's explanation,
// confidence, charts and evidence equal the GraphQL insight; tenant B
// sees nothing of it; no console errors.
func TestInsightsInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: browser tests do not run with -short")
	}
	requireBrowserTools(t)
	bin := filepath.Join(t.TempDir(), "analyticsd")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/analyticsd").CombinedOutput()
	require.NoError(t, err, string(out))
	addr := freeAddr(t)
	env := append(os.Environ(), "ANALYTICS_DATA_DIR="+t.TempDir(), "ANALYTICS_SEED_DEMO=false", "ANALYTICS_HTTP_ADDR="+addr,
		"ANALYTICS_PUBLIC_URL=http://"+addr, "ANALYTICS_LOG_LEVEL=warn")
	seedOut := runCmd(t, env, bin, "seed", "--learners", "300", "--days", "60")
	m := regexp.MustCompile(`published (\d+) demo events`).FindStringSubmatch(seedOut)
	require.NotNil(t, m, seedOut)
	seeded, _ := strconv.Atoi(m[1])
	base := startServer(t, env, bin)
	waitForIngest(t, base, seeded)
	viewer := strings.TrimSpace(runCmd(t, env, bin, "token", "--tenant", "demo", "--role", "viewer", "--ttl", "1h"))
	other := strings.TrimSpace(runCmd(t, env, bin, "token", "--tenant", "acme-corp", "--role", "admin", "--ttl", "1h"))

	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	node := exec.CommandContext(ctx, "node", "e2e/insights.mjs")
	node.Env = append(os.Environ(), "BASE_URL="+base, "VIEWER_TOKEN="+viewer, "OTHER_TOKEN="+other)
	var buf bytes.Buffer
	node.Stdout, node.Stderr = io.MultiWriter(&buf, testWriter{t}), io.MultiWriter(&buf, testWriter{t})
	require.NoError(t, node.Run(), "browser checks failed:\n%s", buf.String())
	assert.Regexp(t, `(?m)^8 passed, 0 failed$`, buf.String())
}
