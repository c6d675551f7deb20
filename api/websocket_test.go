package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/api"
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

// nextFor reads until a message for id arrives (skipping pings and other
// subscriptions' pushes) and checks its type.
func nextFor(ctx context.Context, t *testing.T, c *websocket.Conn, id, typ string) wsMessage {
	t.Helper()
	for {
		var m wsMessage
		require.NoError(t, wsjson.Read(ctx, c, &m))
		if m.ID != id {
			continue
		}
		require.Equal(t, typ, m.Type, "payload: %s", m.Payload)
		return m
	}
}

// subscribeCounts starts an eventTypeCounts subscription under id.
func subscribeCounts(ctx context.Context, t *testing.T, c *websocket.Conn, id string) {
	t.Helper()
	sub, _ := json.Marshal(map[string]any{"query": `subscription { eventTypeCounts(timeRange: {last: "1h"}, everySeconds: 1) { type count } }`})
	require.NoError(t, wsjson.Write(ctx, c, wsMessage{ID: id, Type: "subscribe", Payload: sub}))
}

// TestDuplicateSubscriptionIDCloses4409: a subscribe with the id of a
// running subscription closes the connection with 4409 (it used to start a
// second subscription); after the client completes an id it may reuse it,
// and no stray complete ends the new one.
func TestDuplicateSubscriptionIDCloses4409(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h.insertEvents("tenant-a", event{"a1", "user.login", time.Now().UTC().Add(-time.Minute)})
	c, err := h.dialWS(ctx, h.token("tenant-a", auth.RoleViewer))
	require.NoError(t, err)
	defer c.CloseNow()
	nextOfType(ctx, t, c, "connection_ack")

	subscribeCounts(ctx, t, c, "1")
	nextFor(ctx, t, c, "1", "next")
	require.NoError(t, wsjson.Write(ctx, c, wsMessage{ID: "1", Type: "complete"}))
	subscribeCounts(ctx, t, c, "1")
	nextFor(ctx, t, c, "1", "next")
	h.insertEvents("tenant-a", event{"a2", "user.login", time.Now().UTC().Add(-time.Minute)})
	// eventTypeCounts pushes on commit notices: announce the row as the sink would.
	require.NoError(t, h.bus.Conn().Publish(ingest.NoticeSubject("tenant-a"), []byte(`{}`)))
	m := nextFor(ctx, t, c, "1", "next") // the new subscription lives on: no stray complete ended it
	assert.JSONEq(t, `{"data":{"eventTypeCounts":[{"type":"user.login","count":2}]}}`, string(m.Payload))

	subscribeCounts(ctx, t, c, "1")
	for {
		_, _, err := c.Read(ctx)
		if err != nil {
			assert.Equal(t, websocket.StatusCode(4409), websocket.CloseStatus(err), "%v", err)
			break
		}
	}
}

// TestSubscriptionCaps: subscriptions beyond the per-connection or
// per-tenant cap are refused with RATE_LIMITED / TOO_MANY_SUBSCRIPTIONS
// while the others keep streaming; another tenant is not affected; a
// completed subscription frees its slot.
func TestSubscriptionCaps(t *testing.T) {
	h := newHarness(t, harnessOpts{subscriptions: api.SubscriptionLimits{PerConnection: 2, PerTenant: 3}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	h.insertEvents("tenant-a", event{"a1", "user.login", time.Now().UTC().Add(-time.Minute)})
	open := func(tenant string) *websocket.Conn {
		c, err := h.dialWS(ctx, h.token(tenant, auth.RoleViewer))
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.CloseNow() })
		nextOfType(ctx, t, c, "connection_ack")
		return c
	}
	refused := func(c *websocket.Conn, id, scope string) {
		t.Helper()
		m := nextFor(ctx, t, c, id, "next")
		var gr gqlResponse
		require.NoError(t, json.Unmarshal(m.Payload, &gr), string(m.Payload))
		require.Equal(t, "RATE_LIMITED", gr.code(), string(m.Payload))
		assert.Equal(t, "TOO_MANY_SUBSCRIPTIONS", gr.Errors[0].Extensions["reason"])
		assert.Equal(t, scope, gr.Errors[0].Extensions["scope"])
		nextFor(ctx, t, c, id, "complete")
	}

	a := open("tenant-a")
	subscribeCounts(ctx, t, a, "1")
	nextFor(ctx, t, a, "1", "next")
	subscribeCounts(ctx, t, a, "2")
	nextFor(ctx, t, a, "2", "next")
	subscribeCounts(ctx, t, a, "3")
	refused(a, "3", "connection")

	b := open("tenant-a")
	subscribeCounts(ctx, t, b, "1")
	nextFor(ctx, t, b, "1", "next")
	subscribeCounts(ctx, t, b, "2")
	refused(b, "2", "tenant")

	other := open("tenant-b")
	subscribeCounts(ctx, t, other, "1")
	m := nextFor(ctx, t, other, "1", "next")
	assert.JSONEq(t, `{"data":{"eventTypeCounts":[]}}`, string(m.Payload), "tenant B has its own budget and sees none of A's rows")

	require.NoError(t, wsjson.Write(ctx, a, wsMessage{ID: "1", Type: "complete"}))
	for attempt := 0; ; attempt++ { // the slot is freed once the subscription has wound down
		id := fmt.Sprintf("retry-%d", attempt)
		subscribeCounts(ctx, t, b, id)
		m := nextFor(ctx, t, b, id, "next")
		if !strings.Contains(string(m.Payload), "TOO_MANY_SUBSCRIPTIONS") {
			assert.JSONEq(t, `{"data":{"eventTypeCounts":[{"type":"user.login","count":1}]}}`, string(m.Payload))
			break
		}
		nextFor(ctx, t, b, id, "complete")
		require.Less(t, attempt, 50, "the completed subscription's slot was never freed")
	}
}
