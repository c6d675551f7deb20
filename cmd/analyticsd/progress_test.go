package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The seed's progress goes to stdout, which is often a log file: there it
// must be plain lines, never carriage-return frames.
func TestSeedProgress(t *testing.T) {
	for _, tc := range []struct {
		name string
		tty  bool
		want func(t *testing.T, out string)
	}{
		{"log file gets plain lines", false, func(t *testing.T, out string) {
			assert.NotContains(t, out, "\r")
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			require.Len(t, lines, 11, "one line per 10 %")
			assert.Equal(t, "seeding demo events: 0% (0/1000)", lines[0])
			assert.Equal(t, "seeding demo events: 50% (500/1000)", lines[5])
			assert.Equal(t, "seeding demo events: 100% (1000/1000)", lines[10])
		}},
		{"terminal gets a redrawn bar", true, func(t *testing.T, out string) {
			assert.Equal(t, 51, strings.Count(out, "\r"), "a frame per 2 %")
			assert.True(t, strings.HasSuffix(out, "] 100% 1000/1000\n"), "%q", out[len(out)-40:])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := os.CreateTemp(t.TempDir(), "seed.log")
			require.NoError(t, err)
			defer f.Close()
			p := newSeedProgress(f)
			assert.False(t, p.tty, "a regular file is not a terminal")
			p.tty = tc.tty
			for done := 0; done <= 1000; done += 5 {
				p.update(done, 1000)
			}
			p.finish()
			out, err := os.ReadFile(f.Name())
			require.NoError(t, err)
			tc.want(t, string(out))
		})
	}
}
