package chembedded

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
)

func TestDefaultLibPath(t *testing.T) {
	suffix := filepath.Join("analyticsd", "chdb", LibVersion, "package", "libchdb.so")
	cases := []struct {
		name, env, xdg, home, want string
	}{
		{name: "env wins", env: "/opt/chdb/libchdb.so", xdg: "/xdg", home: "/home/u", want: "/opt/chdb/libchdb.so"},
		{name: "xdg cache", xdg: "/xdg", home: "/home/u", want: filepath.Join("/xdg", suffix)},
		{name: "home cache", home: "/home/u", want: filepath.Join("/home/u", ".cache", suffix)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(LibPathEnv, c.env)
			t.Setenv("XDG_CACHE_HOME", c.xdg)
			t.Setenv("HOME", c.home)
			assert.Equal(t, c.want, DefaultLibPath())
		})
	}
}

// TestMissingLibrary opens on a fresh engine (not the process one, which
// may already have loaded the library) with a library path that does not
// exist.
func TestMissingLibrary(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nowhere", "libchdb.so")
	b, err := openOn(context.Background(), &engine{}, Options{LibPath: missing, Path: t.TempDir()})
	require.Error(t, err)
	assert.Nil(t, b)
	var e *errs.Error
	require.True(t, errors.As(err, &e), "want *errs.Error, got %T", err)
	assert.Equal(t, errs.KindUnavailable, e.Kind)
	assert.Contains(t, e.Msg, missing, "the message names the path")
	assert.Contains(t, e.Msg, "make chdb")
	assert.Contains(t, e.Msg, LibPathEnv)
	assert.True(t, errors.Is(err, os.ErrNotExist))
}

// TestNotALibrary points the loader at a file that is not a shared library.
func TestNotALibrary(t *testing.T) {
	bogus := filepath.Join(t.TempDir(), "libchdb.so")
	require.NoError(t, os.WriteFile(bogus, []byte("not an ELF file"), 0o600))
	_, err := openOn(context.Background(), &engine{}, Options{LibPath: bogus, Path: t.TempDir()})
	require.Error(t, err)
	assert.Equal(t, errs.KindUnavailable, errs.KindOf(err))
	assert.Contains(t, errs.PublicMessage(err), "make chdb")
}
