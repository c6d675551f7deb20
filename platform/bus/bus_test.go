package bus_test

import (
	"context"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/errs"
)

type exportCompleted struct {
	ExportID string `json:"export_id"`
	Tenant   string `json:"tenant_id"`
}

func open(t *testing.T, cfg bus.Config) *bus.Bus {
	t.Helper()
	b, err := bus.Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func streamMsgs(t *testing.T, b *bus.Bus, name string) uint64 {
	t.Helper()
	s, err := b.JetStream().Stream(context.Background(), name)
	require.NoError(t, err)
	info, err := s.Info(context.Background())
	require.NoError(t, err)
	return info.State.Msgs
}

func TestEmbeddedPublishDedup(t *testing.T) {
	ctx := context.Background()
	b := open(t, bus.Config{DataDir: t.TempDir()})

	assert.True(t, b.Embedded())
	assert.True(t, strings.HasPrefix(b.ClientURL(), "nats://127.0.0.1:"), b.ClientURL())
	require.NoError(t, b.Ping(ctx))

	s, err := b.JetStream().Stream(ctx, bus.DefaultStream)
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"analytics.>"}, info.Config.Subjects)
	assert.Equal(t, jetstream.FileStorage, info.Config.Storage)
	assert.Equal(t, bus.DefaultDuplicateWindow, info.Config.Duplicates)

	ev := exportCompleted{ExportID: "exp-1", Tenant: "demo"}
	const subject = "analytics.export.completed.v1"
	require.NoError(t, b.Publish(ctx, subject, ev, "export.completed/exp-1"))
	require.NoError(t, b.Publish(ctx, subject, ev, "export.completed/exp-1"))
	assert.Equal(t, uint64(1), streamMsgs(t, b, bus.DefaultStream), "the same msg id must be stored once")

	require.NoError(t, b.Publish(ctx, subject, exportCompleted{ExportID: "exp-2", Tenant: "demo"}, "export.completed/exp-2"))
	assert.Equal(t, uint64(2), streamMsgs(t, b, bus.DefaultStream))

	raw, err := s.GetMsg(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, subject, raw.Subject)
	assert.Equal(t, "export.completed/exp-1", raw.Header.Get("Nats-Msg-Id"))
	assert.Equal(t, "application/json", raw.Header.Get("Content-Type"))
	var got exportCompleted
	require.NoError(t, json.Unmarshal(raw.Data, &got))
	assert.Equal(t, ev, got)
}

func TestPublishErrors(t *testing.T) {
	ctx := context.Background()
	b := open(t, bus.Config{})
	tests := []struct {
		name, subject, msgID string
		v                    any
	}{
		{"no msg id", "analytics.export.completed.v1", "", exportCompleted{}},
		{"not json", "analytics.export.completed.v1", "x", make(chan int)},
		{"no stream for subject", "elsewhere.thing.v1", "y", exportCompleted{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := b.Publish(ctx, tc.subject, tc.v, tc.msgID)
			require.Error(t, err)
			var e *errs.Error
			assert.ErrorAs(t, err, &e)
		})
	}
	assert.Equal(t, uint64(0), streamMsgs(t, b, bus.DefaultStream))
}

func TestStreamSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := bus.Config{DataDir: dir, Port: freePort(t), Stream: "OUTGOING"}

	first, err := bus.Open(ctx, cfg)
	require.NoError(t, err)
	assert.Equal(t, "nats://127.0.0.1:"+strconv.Itoa(cfg.Port), first.ClientURL())
	require.NoError(t, first.Publish(ctx, "analytics.cohort.evaluated.v1", map[string]int{"entered": 3}, "cohort/c1/1"))
	require.NoError(t, first.Close())
	require.NoError(t, first.Close(), "Close is idempotent")

	second := open(t, cfg)
	assert.Equal(t, uint64(1), streamMsgs(t, second, "OUTGOING"), "the acknowledged event must survive a restart")
	// Dedup state is rebuilt from the store: a retry after restart is a no-op.
	require.NoError(t, second.Publish(ctx, "analytics.cohort.evaluated.v1", map[string]int{"entered": 3}, "cohort/c1/1"))
	assert.Equal(t, uint64(1), streamMsgs(t, second, "OUTGOING"))
}

func TestExternalURL(t *testing.T) {
	ctx := context.Background()
	srv := open(t, bus.Config{})
	client := open(t, bus.Config{URL: srv.ClientURL(), ClientName: "second"})

	assert.False(t, client.Embedded())
	assert.Equal(t, srv.ClientURL(), client.ClientURL())
	require.NoError(t, client.Ping(ctx))
	require.NoError(t, client.Publish(ctx, "analytics.report.generated.v1", map[string]string{"id": "r1"}, "report/r1"))
	assert.Equal(t, uint64(1), streamMsgs(t, srv, bus.DefaultStream), "both connections see one stream")

	t.Run("EnsureStream updates an existing stream", func(t *testing.T) {
		s, err := client.JetStream().Stream(ctx, bus.DefaultStream)
		require.NoError(t, err)
		cfg := s.CachedInfo().Config
		cfg.MaxAge = 48 * time.Hour
		require.NoError(t, client.EnsureStream(ctx, cfg))
		info, err := s.Info(ctx)
		require.NoError(t, err)
		assert.Equal(t, 48*time.Hour, info.Config.MaxAge)
		assert.Equal(t, uint64(1), info.State.Msgs, "an update keeps the messages")
	})
}

func TestUnreachable(t *testing.T) {
	_, err := bus.Open(context.Background(), bus.Config{
		URL: "nats://127.0.0.1:" + strconv.Itoa(freePort(t)), StartTimeout: 2 * time.Second,
	})
	require.Error(t, err)
	assert.True(t, errs.Is(err, errs.KindUnavailable), "got %v", err)
	assert.Contains(t, errs.PublicMessage(err), "ANALYTICS_NATS_URL")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
