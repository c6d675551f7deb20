package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/platform/auth"
)

// wsMessage is a graphql-transport-ws protocol message.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWS opens a real WebSocket to the server and sends connection_init.
func (h *harness) dialWS(ctx context.Context, token string) (*websocket.Conn, error) {
	url := "ws" + strings.TrimPrefix(h.url, "http") + "/graphql"
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	payload := map[string]any{}
	if token != "" {
		payload["Authorization"] = "Bearer " + token
	}
	raw, _ := json.Marshal(payload)
	if err := wsjson.Write(ctx, c, wsMessage{Type: "connection_init", Payload: raw}); err != nil {
		return nil, err
	}
	return c, nil
}

// nextOfType reads messages until one of type typ (skipping pings).
func nextOfType(ctx context.Context, t *testing.T, c *websocket.Conn, typ string) wsMessage {
	t.Helper()
	for {
		var m wsMessage
		require.NoError(t, wsjson.Read(ctx, c, &m))
		if m.Type == "ping" || m.Type == "ka" {
			continue
		}
		require.Equal(t, typ, m.Type, "payload: %s", m.Payload)
		return m
	}
}

func TestSubscriptionPushesChangesOverWebSocket(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h.insertEvents("tenant-a", event{"a1", "user.login", time.Now().UTC().Add(-time.Minute)})
	h.insertEvents("tenant-b", event{"b1", "quiz.submitted", time.Now().UTC().Add(-time.Minute)})

	c, err := h.dialWS(ctx, h.token("tenant-a", auth.RoleViewer))
	require.NoError(t, err)
	defer c.CloseNow()
	nextOfType(ctx, t, c, "connection_ack")

	sub, _ := json.Marshal(map[string]any{"query": `subscription { eventTypeCounts(timeRange: {last: "1h"}, everySeconds: 1) { type count } }`})
	require.NoError(t, wsjson.Write(ctx, c, wsMessage{ID: "1", Type: "subscribe", Payload: sub}))

	first := nextOfType(ctx, t, c, "next")
	assert.JSONEq(t, `{"data":{"eventTypeCounts":[{"type":"user.login","count":1}]}}`, string(first.Payload), "only tenant A's rows")

	h.insertEvents("tenant-a", event{"a2", "user.login", time.Now().UTC().Add(-time.Minute)})
	h.insertEvents("tenant-b", event{"b2", "quiz.submitted", time.Now().UTC().Add(-time.Minute)})
	// The rows went around the firehose: announce them as its sink would.
	for _, tenant := range []string{"tenant-a", "tenant-b"} {
		require.NoError(t, h.bus.Conn().Publish(ingest.NoticeSubject(tenant), []byte(`{}`)))
	}
	second := nextOfType(ctx, t, c, "next")
	assert.JSONEq(t, `{"data":{"eventTypeCounts":[{"type":"user.login","count":2}]}}`, string(second.Payload))

	require.NoError(t, wsjson.Write(ctx, c, wsMessage{ID: "1", Type: "complete"}))
}

func TestWebSocketRequiresToken(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for name, token := range map[string]string{"missing": "", "invalid": "garbage"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := h.dialWS(ctx, token)
			require.NoError(t, err)
			defer c.CloseNow()
			var m wsMessage
			err = wsjson.Read(ctx, c, &m)
			if err == nil {
				// the server may first report the failure as a message, then close
				assert.NotEqual(t, "connection_ack", m.Type, "an unauthenticated connection must not be acknowledged")
				err = wsjson.Read(ctx, c, &m)
			}
			require.Error(t, err)
			assert.Equal(t, websocket.StatusCode(4403), websocket.CloseStatus(err), "closed as forbidden: %v", err)
			var ce websocket.CloseError
			require.ErrorAs(t, err, &ce)
			assert.NotEmpty(t, ce.Reason, "the close frame says why")
		})
	}
}
