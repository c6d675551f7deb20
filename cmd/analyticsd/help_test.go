package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVersionAndHelp(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out, errOut bytes.Buffer
		assert.Equal(t, exitOK, run(context.Background(), args, noEnv, &out, &errOut), errOut.String())
		assert.Regexp(t, regexp.MustCompile(`^analyticsd `+regexp.QuoteMeta(version)+` \(commit \S+, go1\.\S+, \w+/\w+\)\n$`), out.String())
	}
	// Every command has its own help, and it names the command's own flags.
	for cmd, want := range map[string]string{"token": "--tenant", "detect": "--detector", "forecast": "--horizon", "seed": "--learners", "serve": "--http-addr"} {
		for _, args := range [][]string{{cmd, "--help"}, {"help", cmd}, {cmd, "-h"}} {
			var out, errOut bytes.Buffer
			assert.Equal(t, exitOK, run(context.Background(), args, noEnv, &out, &errOut), "%v", args)
			assert.True(t, strings.HasPrefix(out.String(), "usage: analyticsd "+cmd), "%v: %s", args, out.String())
			assert.Contains(t, out.String(), want)
		}
	}
	var out, errOut bytes.Buffer
	assert.Equal(t, exitOK, run(context.Background(), []string{"--help"}, noEnv, &out, &errOut))
	assert.Contains(t, out.String(), "--config FILE")
	for cmd := range commandHelp {
		assert.Contains(t, out.String(), "\n  "+cmd, "the general usage lists %s", cmd)
	}
}
