package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigFileAndFileSecrets(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "jwt")
	require.NoError(t, os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef-from-file\n"), 0o600))
	file := filepath.Join(dir, "analyticsd.env")
	require.NoError(t, os.WriteFile(file, []byte(`# production settings
ANALYTICS_LOG_LEVEL=debug
export ANALYTICS_NATS_REPLICAS="3"
ANALYTICS_HTTP_ADDR=:9090
`), 0o600))
	env := map[string]string{"ANALYTICS_HTTP_ADDR": ":7070", "ANALYTICS_JWT_SECRET_FILE": secret}
	getenv := func(k string) string { return env[k] }

	c, err := Load([]string{"--config", file}, getenv)
	require.NoError(t, err)
	assert.Equal(t, "debug", c.LogLevel, "from the file")
	assert.Equal(t, 3, c.NATSReplicas, "quoted value, export prefix")
	assert.Equal(t, ":7070", c.HTTPAddr, "the environment wins over the file")
	assert.Equal(t, "0123456789abcdef0123456789abcdef-from-file", c.JWTSecret, "X_FILE, trailing newline removed")

	c, err = Load([]string{"--config=" + file, "--http-addr", ":6060"}, getenv)
	require.NoError(t, err)
	assert.Equal(t, ":6060", c.HTTPAddr, "a flag wins over everything")

	env["ANALYTICS_CONFIG_FILE"] = file
	c, err = Load(nil, getenv)
	require.NoError(t, err)
	assert.Equal(t, "debug", c.LogLevel, "ANALYTICS_CONFIG_FILE names the file too")
}

func TestConfigSourceErrors(t *testing.T) {
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.env")
	require.NoError(t, os.WriteFile(typo, []byte("ANALYTICS_LOG_LEVLE=debug\n"), 0o600))
	bad := filepath.Join(dir, "bad.env")
	require.NoError(t, os.WriteFile(bad, []byte("\nnot a setting\n"), 0o600))
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown key", []string{"--config", typo}, nil, "typo.env:1: unknown setting ANALYTICS_LOG_LEVLE"},
		{"no equals", []string{"--config", bad}, nil, "bad.env:2: want KEY=VALUE"},
		{"missing file", []string{"--config", filepath.Join(dir, "nope")}, nil, "cannot read"},
		{"no path", []string{"--config"}, nil, "needs a file path"},
		{"both X and X_FILE", nil, map[string]string{"ANALYTICS_JWT_SECRET": "x", "ANALYTICS_JWT_SECRET_FILE": typo}, "set only one"},
		{"unreadable X_FILE", nil, map[string]string{"ANALYTICS_JWT_SECRET_FILE": filepath.Join(dir, "nope")}, "ANALYTICS_JWT_SECRET_FILE: cannot read"},
		{"negative replicas", nil, map[string]string{"ANALYTICS_NATS_REPLICAS": "-1"}, "not a whole number ≥ 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.args, func(k string) string { return tc.env[k] })
			require.Error(t, err)
			var ce *Error
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
