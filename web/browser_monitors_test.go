package web

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runMonitorsChecks runs web/e2e/monitors.mjs (the Monitors page and the
// dashboard overlays) against the server TestConsoleInChromium started,
// with the environment console.mjs had.
func runMonitorsChecks(ctx context.Context, t *testing.T, env []string) {
	t.Helper()
	node := exec.CommandContext(ctx, "node", "e2e/monitors.mjs")
	node.Env = env
	var buf bytes.Buffer
	node.Stdout, node.Stderr = io.MultiWriter(&buf, testWriter{t}), io.MultiWriter(&buf, testWriter{t})
	require.NoError(t, node.Run(), "monitors page checks failed:\n%s", buf.String())
	assert.Regexp(t, `(?m)^\d+ passed, 0 failed$`, buf.String())
	assert.NotContains(t, buf.String(), "not ok")
}
