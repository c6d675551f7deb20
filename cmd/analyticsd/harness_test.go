package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/config"
	"github.com/learnhub/analytics-service/platform/kv/kvtest"
)

// testConfig is the configuration of a test service: its own Redis, an
// in-process NATS server unless extra names one, a loopback port, no demo
// data; extra adds or overrides settings. Replicas started with one config
// share its Redis and data dir.
func testConfig(t *testing.T, extra map[string]string) config.Config {
	t.Helper()
	env := map[string]string{
		"ANALYTICS_REDIS_URL":        "redis://" + kvtest.StartRedis(t),
		"ANALYTICS_JWT_SECRET":       strings.Repeat("single-test-secret-", 3),
		"ANALYTICS_DATA_DIR":         t.TempDir(),
		"ANALYTICS_HTTP_ADDR":        "127.0.0.1:0",
		"ANALYTICS_SEED_DEMO":        "false",
		"ANALYTICS_LOG_LEVEL":        "error",
		"ANALYTICS_SHUTDOWN_TIMEOUT": "3s",
	}
	maps.Copy(env, extra)
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	require.NoError(t, err)
	return cfg
}

// wsMsg is a graphql-transport-ws message.
type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// subscribe opens a graphql-transport-ws connection to base as token's
// holder and starts query as subscription "1"; next returns the payload of
// the following "next" message (anything but next, ack and pings fails).
func subscribe(ctx context.Context, t *testing.T, base, token, query string) (ws *websocket.Conn, next func() json.RawMessage) {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ws.CloseNow() })
	init, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + token})
	require.NoError(t, wsjson.Write(ctx, ws, wsMsg{Type: "connection_init", Payload: init}))
	sub, _ := json.Marshal(map[string]any{"query": query})
	require.NoError(t, wsjson.Write(ctx, ws, wsMsg{ID: "1", Type: "subscribe", Payload: sub}))
	return ws, func() json.RawMessage {
		t.Helper()
		for {
			var m wsMsg
			require.NoError(t, wsjson.Read(ctx, ws, &m), "no next message")
			switch m.Type {
			case "connection_ack", "ping", "pong":
				continue
			case "next":
				return m.Payload
			default:
				t.Fatalf("unexpected %s: %s", m.Type, m.Payload)
			}
		}
	}
}

// postEvent sends one user.login event of tenant through base's
// POST /v1/events with headers added (e.g. traceparent).
func postEvent(t *testing.T, base, token, tenant, id string, headers map[string]string) {
	t.Helper()
	ev := fmt.Sprintf(`[{"id":%q,"tenant_id":%q,"type":"user.login","user_id":"u1","occurred_at":%q}]`,
		id, tenant, time.Now().UTC().Add(-time.Minute).Format(time.RFC3339Nano))
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/events", strings.NewReader(ev))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
}
