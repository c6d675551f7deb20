package auth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
)

func TestLoadOrCreateSecret(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secrets", "jwt-hs256.key")

	first, err := auth.LoadOrCreateSecret(dir)
	require.NoError(t, err)
	assert.Len(t, first, 32)

	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	di, err := os.Stat(filepath.Dir(path))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), di.Mode().Perm())
	content, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Len(t, strings.TrimSpace(string(content)), 64, "hex of 32 bytes")

	second, err := auth.LoadOrCreateSecret(dir)
	require.NoError(t, err)
	assert.Equal(t, first, second, "reused on the next start")

	leftovers, err := filepath.Glob(filepath.Join(dir, "secrets", "*.tmp"))
	require.NoError(t, err)
	assert.Empty(t, leftovers)

	_, err = auth.NewHMACVerifier(first, auth.VerifyOptions{})
	assert.NoError(t, err, "a created secret is long enough to use")
}

func TestLoadOrCreateSecretRejectsBadFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		wantErr string
	}{
		{name: "too short", content: "abcd\n", wantErr: "holds a 2-byte secret; at least 32 are needed"},
		{name: "not hex", content: strings.Repeat("z", 64), wantErr: "is not hex"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "secrets", "jwt-hs256.key")
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
			require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o600))

			_, err := auth.LoadOrCreateSecret(dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), path, "the error names the file")
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}
