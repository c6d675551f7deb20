package chserver_test

import (
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chserver"
)

func TestOpenRefusesOldServer(t *testing.T) {
	addr := serverAddr(t)
	version, err := openBackend(t, "default").ServerVersion(t.Context())
	require.NoError(t, err)
	v, err := store.ParseVersion(version)
	require.NoError(t, err)

	b, err := chserver.Open(t.Context(), chserver.Options{URL: "clickhouse://" + addr + "/default?dial_timeout=5s"})
	if !v.Less(store.MinServerVersion) {
		// A supported server: the check must let it through.
		require.NoError(t, err, "server %s is supported", version)
		require.NoError(t, b.Close())
		return
	}
	require.Error(t, err, "server %s is older than %s", version, store.MinServerVersion)
	assert.Nil(t, b)
	assert.Equal(t, errs.KindUnavailable, errs.KindOf(err))
	msg := errs.PublicMessage(err)
	assert.Contains(t, msg, version, "names the server's version")
	assert.Contains(t, msg, store.MinServerVersion.String(), "names the minimum version")
}

func TestOpenUnreachable(t *testing.T) {
	// A port that was just free: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	b, err := chserver.Open(t.Context(), chserver.Options{
		URL: "clickhouse://analytics:s3cret-pw@" + addr + "/analytics?dial_timeout=2s",
	})
	require.Error(t, err)
	assert.Nil(t, b)
	assert.Equal(t, errs.KindUnavailable, errs.KindOf(err))
	assert.Contains(t, errs.PublicMessage(err), addr, "the message names the address")
	assert.NotContains(t, errs.PublicMessage(err), "s3cret-pw")
	assert.NotContains(t, err.Error(), "s3cret-pw", "not even the logged cause holds the password")
}

func TestOpenInvalidURL(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{"empty", "", "no ClickHouse URL"},
		{"http protocol", "http://127.0.0.1:8123/default", "native protocol"},
		{"bad port with password", "clickhouse://u:p4ss/word@host:notaport/db", "not valid"},
		{"bad dial timeout", "clickhouse://u:p4ss@host:9000/db?dial_timeout=soon", "not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := chserver.Open(t.Context(), chserver.Options{URL: tt.url})
			require.Error(t, err)
			assert.Nil(t, b)
			assert.Equal(t, errs.KindInvalid, errs.KindOf(err))
			assert.Contains(t, errs.PublicMessage(err), tt.want)
			assert.False(t, strings.Contains(err.Error(), "p4ss"), "password leaked: %v", err)
		})
	}
}

func TestBackendAccessors(t *testing.T) {
	addr := serverAddr(t)
	b, err := chserver.Open(t.Context(), chserver.Options{
		URL:                       "clickhouse://default:@" + addr + "/default",
		Cluster:                   "analytics",
		DangerousSkipVersionCheck: true,
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	assert.Equal(t, addr, b.Addr())
	assert.Equal(t, "analytics", b.Cluster())
	assert.NoError(t, b.Ping(t.Context()))
}
