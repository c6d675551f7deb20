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

	"github.com/learnhub/analytics-service/api"
	"github.com/learnhub/analytics-service/platform/auth"
)

// dial opens a graphql-transport-ws socket to the edge without sending
// anything.
func (e *edge) dial(ctx context.Context, t *testing.T) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// send writes one raw text frame.
func send(ctx context.Context, t *testing.T, c *websocket.Conn, frame string) {
	t.Helper()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(frame)))
}

// closedWith reads until the server closes the socket and returns the close
// status; messages before the close are skipped.
func closedWith(ctx context.Context, t *testing.T, c *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		require.ErrorAs(t, err, &ce, "the server must close with a status, got %v", err)
		return ce.Code, ce.Reason
	}
}

// TestWebSocketCloseCodes drives the graphql-transport-ws protocol with raw
// frames and expects the close codes the protocol names.
func TestWebSocketCloseCodes(t *testing.T) {
	e := newEdge(t, edgeOpts{graphql: func(c *api.GraphQLConfig) { c.WSInitTimeout = 300 * time.Millisecond }})
	init := `{"type":"connection_init","payload":{"Authorization":"Bearer ` + e.token("demo", auth.RoleViewer) + `"}}`
	sub := `{"id":"1","type":"subscribe","payload":{"query":"{ viewer { tenant } }"}}`
	for _, tc := range []struct {
		name   string
		frames []string // sent after the socket opens; an ack is awaited after a first init
		code   websocket.StatusCode
		reason string
	}{
		{"no connection_init in time", nil, 4408, "Connection initialisation timeout"},
		{"second connection_init", []string{init, init}, 4429, "Too many initialisation requests"},
		{"subscribe before ack", []string{sub}, 4401, "Unauthorized"},
		{"not json", []string{init, `hello`}, 4400, "Invalid message"},
		{"no type", []string{init, `{"id":"1"}`}, 4400, "Invalid message"},
		{"unknown type", []string{init, `{"type":"start","id":"1"}`}, 4400, "unexpected type start"},
		{"server message from client", []string{init, `{"type":"next","id":"1","payload":{}}`}, 4400, "Invalid message"},
		{"subscribe without id", []string{init, `{"type":"subscribe","payload":{"query":"{ viewer { tenant } }"}}`}, 4400, "Invalid message"},
		{"init payload not an object", []string{`{"type":"connection_init","payload":"x"}`}, 4400, "payload must be an object"},
		{"bad token", []string{`{"type":"connection_init","payload":{"Authorization":"Bearer nope"}}`}, 4403, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c := e.dial(ctx, t)
			for i, f := range tc.frames {
				send(ctx, t, c, f)
				if f == init && i == 0 && len(tc.frames) > 1 {
					nextOfType(ctx, t, c, "connection_ack")
				}
			}
			code, reason := closedWith(ctx, t, c)
			assert.Equal(t, tc.code, code, "reason %q", reason)
			assert.Contains(t, reason, tc.reason)
		})
	}
}

// TestWebSocketPingBeforeInit: ping is allowed at any time; before
// connection_init it is answered with pong and the connection stays usable.
func TestWebSocketPingBeforeInit(t *testing.T) {
	e := newEdge(t, edgeOpts{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := e.dial(ctx, t)
	send(ctx, t, c, `{"type":"ping"}`)
	var m wsMessage
	require.NoError(t, wsjson.Read(ctx, c, &m))
	assert.Equal(t, "pong", m.Type)
	send(ctx, t, c, `{"type":"connection_init","payload":{"Authorization":"Bearer `+e.token("demo", auth.RoleViewer)+`"}}`)
	nextOfType(ctx, t, c, "connection_ack")
	send(ctx, t, c, `{"id":"q","type":"subscribe","payload":{"query":"{ viewer { tenant } }"}}`)
	next := nextOfType(ctx, t, c, "next")
	assert.JSONEq(t, `{"data":{"viewer":{"tenant":"demo"}}}`, string(next.Payload))
	nextOfType(ctx, t, c, "complete")

	// a finished operation frees its id
	send(ctx, t, c, `{"id":"q","type":"subscribe","payload":{"query":"{ viewer { subject } }"}}`)
	next = nextOfType(ctx, t, c, "next")
	assert.JSONEq(t, `{"data":{"viewer":{"subject":"u-demo"}}}`, string(next.Payload))
}

// TestWebSocketValidationErrorEndsWithErrorOnly: an operation refused
// before execution gets one error message and no complete after it.
func TestWebSocketValidationErrorEndsWithErrorOnly(t *testing.T) {
	e := newEdge(t, edgeOpts{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := e.dial(ctx, t)
	send(ctx, t, c, `{"type":"connection_init","payload":{"Authorization":"Bearer `+e.token("demo", auth.RoleViewer)+`"}}`)
	nextOfType(ctx, t, c, "connection_ack")
	send(ctx, t, c, `{"id":"a","type":"subscribe","payload":{"query":"{ nope }"}}`)
	m := nextOfType(ctx, t, c, "error")
	assert.Equal(t, "a", m.ID)
	send(ctx, t, c, `{"id":"b","type":"subscribe","payload":{"query":"{ viewer { tenant } }"}}`)
	m = nextOfType(ctx, t, c, "next") // not a stray complete for "a"
	assert.Equal(t, "b", m.ID)
	var payload json.RawMessage = m.Payload
	assert.JSONEq(t, `{"data":{"viewer":{"tenant":"demo"}}}`, string(payload))
}
