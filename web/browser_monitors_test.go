package web

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

// runMonitorsChecks runs web/e2e/monitors.mjs (the Monitors page and the
// dashboard overlays) against the server TestConsoleInChromium started,
// with the environment console.mjs had.
func runMonitorsChecks(ctx context.Context, t *testing.T, env []string) {
	t.Helper()
	out := runE2E(ctx, t, "e2e/monitors.mjs", env)
	assert.Regexp(t, `(?m)^\d+ passed, 0 failed$`, out)
	assert.NotContains(t, out, "not ok")
}
