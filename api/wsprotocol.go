package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// graphql-transport-ws close codes
// (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md).
const (
	wsCloseInvalidMessage     = 4400 // a message the protocol does not allow
	wsCloseUnauthorized       = 4401 // subscribe before connection_ack
	wsCloseInitTimeout        = 4408 // no connection_init within the timeout
	wsCloseSubscriberExists   = 4409 // subscribe with an id already in use
	wsCloseTooManyInitRequest = 4429 // a second connection_init
)

// DefaultWSInitTimeout is how long a WebSocket may stay open without
// connection_init when GraphQLConfig.WSInitTimeout is zero.
const DefaultWSInitTimeout = 10 * time.Second

// echoWait bounds how long a subscribe reusing a just-completed id waits for
// the old operation to wind down.
const echoWait = 5 * time.Second

const subprotocolTransportWS = "graphql-transport-ws"

// errProtocolClosed ends gqlgen's read loop after protocolConn has closed
// the socket with a protocol close code.
var errProtocolClosed = errors.New("api: websocket closed for a protocol violation")

// wsProtocol wraps a WebSocket implementation to keep the
// graphql-transport-ws rules gqlgen's transport does not: it watches the
// client's messages before gqlgen reads them and closes the socket with the
// code the protocol names (4400 invalid message, 4401 subscribe before ack,
// 4408 init timeout, 4409 duplicate subscription id, 4429 second
// connection_init). Connections speaking the legacy graphql-ws protocol
// pass through untouched.
type wsProtocol struct {
	impl        transport.WebsocketImplementation
	initTimeout time.Duration
}

var _ transport.WebsocketImplementation = wsProtocol{}

func (p wsProtocol) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := p.impl.Accept(w, r, o)
	if err != nil || c.Subprotocol() != subprotocolTransportWS {
		return c, err
	}
	pc := &protocolConn{WebsocketConn: c, active: map[string]bool{}, completing: map[string]chan struct{}{}, errored: map[string]bool{}}
	pc.mu.Lock() // the timer's func locks too, so it sees initTimer set
	defer pc.mu.Unlock()
	pc.initTimer = time.AfterFunc(p.initTimeout, func() {
		pc.mu.Lock()
		initialised := pc.initialised
		pc.mu.Unlock()
		if !initialised {
			pc.closeWith(wsCloseInitTimeout, "Connection initialisation timeout")
		}
	})
	return pc, nil
}

// protocolConn is one graphql-transport-ws connection under wsProtocol.
type protocolConn struct {
	transport.WebsocketConn
	initTimer *time.Timer

	mu          sync.Mutex
	initialised bool                     // connection_init received
	active      map[string]bool          // subscription ids in use
	completing  map[string]chan struct{} // ids the client completed whose server-side end is still due
	errored     map[string]bool          // ids ended by an error message (no complete follows)
}

// clientMessage is what the server reads of a client message.
type clientMessage struct {
	Type    *string         `json:"type"`
	ID      *string         `json:"id"`
	Payload json.RawMessage `json:"payload"`
}

// NextReader returns the next client message gqlgen should handle, after
// checking it against the protocol; pings before connection_init are
// answered here (gqlgen would refuse them).
func (c *protocolConn) NextReader() (int, io.Reader, error) {
	for {
		typ, r, err := c.WebsocketConn.NextReader()
		if err != nil {
			return typ, r, err
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return typ, nil, err
		}
		pass, code, reason := c.admit(data)
		if code != 0 {
			c.closeWith(code, reason)
			return typ, nil, errProtocolClosed
		}
		if pass {
			return typ, bytes.NewReader(data), nil
		}
	}
}

// admit checks one client message: pass says whether gqlgen should see it;
// a non-zero code closes the connection with reason.
func (c *protocolConn) admit(data []byte) (pass bool, code int, reason string) {
	var m clientMessage
	if err := json.Unmarshal(data, &m); err != nil || m.Type == nil {
		return false, wsCloseInvalidMessage, "Invalid message received: not a JSON object with a type"
	}
	if !payloadIsObject(m.Payload) {
		return false, wsCloseInvalidMessage, "Invalid message received: payload must be an object"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch *m.Type {
	case "connection_init":
		if c.initialised {
			return false, wsCloseTooManyInitRequest, "Too many initialisation requests"
		}
		c.initialised = true
		c.initTimer.Stop()
		return true, 0, ""
	case "ping", "pong":
		if !c.initialised {
			if *m.Type == "ping" {
				_ = c.WebsocketConn.WriteJSON(map[string]string{"type": "pong"})
			}
			return false, 0, ""
		}
		return true, 0, ""
	case "subscribe":
		if m.ID == nil || *m.ID == "" || len(m.Payload) == 0 || string(m.Payload) == "null" {
			return false, wsCloseInvalidMessage, "Invalid message received: subscribe needs an id and a payload"
		}
		if !c.initialised {
			return false, wsCloseUnauthorized, "Unauthorized: send connection_init and wait for connection_ack"
		}
		id := *m.ID
		if c.active[id] {
			return false, wsCloseSubscriberExists, truncateReason("Subscriber for " + id + " already exists")
		}
		if done, ok := c.completing[id]; ok {
			c.mu.Unlock()
			select { // the completed operation of the same id is still ending
			case <-done:
			case <-time.After(echoWait):
			}
			c.mu.Lock()
		}
		c.active[id] = true
		return true, 0, ""
	case "complete":
		if m.ID == nil || *m.ID == "" {
			return false, wsCloseInvalidMessage, "Invalid message received: complete needs an id"
		}
		if c.active[*m.ID] {
			delete(c.active, *m.ID)
			c.completing[*m.ID] = make(chan struct{})
		}
		return true, 0, ""
	default:
		return false, wsCloseInvalidMessage, truncateReason("Invalid message received: unexpected type " + *m.Type)
	}
}

// WriteJSON forwards a server message, freeing the id of a subscription
// that ends. The protocol has no server complete after a client's complete
// or after an error, which gqlgen sends: they are dropped, as one would end
// a new subscription that reuses the id.
func (c *protocolConn) WriteJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var m struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	_ = json.Unmarshal(b, &m)
	if m.Type == "complete" || m.Type == "error" {
		c.mu.Lock()
		done, echoed := c.completing[m.ID]
		drop := echoed || (m.Type == "complete" && c.errored[m.ID])
		switch {
		case echoed:
			delete(c.completing, m.ID)
			close(done)
		case m.Type == "error":
			delete(c.active, m.ID)
			c.errored[m.ID] = true
		case c.errored[m.ID]:
			delete(c.errored, m.ID)
		default:
			delete(c.active, m.ID)
		}
		c.mu.Unlock()
		if drop {
			return nil
		}
	}
	return c.WebsocketConn.WriteJSON(json.RawMessage(b))
}

// WriteClose stops the init timer and closes with code.
func (c *protocolConn) WriteClose(code int, reason string) error {
	c.initTimer.Stop()
	return c.WebsocketConn.WriteClose(code, reason)
}

// SetReadLimit forwards gqlgen's payload limit to the socket.
func (c *protocolConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

// SetReadDeadline forwards gqlgen's pong deadline to the socket.
func (c *protocolConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}

// closeWith closes the socket with a protocol close code; gqlgen's own
// close afterwards finds the close handshake under way and adds nothing.
func (c *protocolConn) closeWith(code int, reason string) {
	_ = c.WriteClose(code, reason)
}

func payloadIsObject(p json.RawMessage) bool {
	p = bytes.TrimSpace(p)
	return len(p) == 0 || string(p) == "null" || p[0] == '{'
}

// truncateReason fits reason into a close frame.
func truncateReason(reason string) string {
	if len(reason) > wsMaxCloseReason {
		return reason[:wsMaxCloseReason]
	}
	return reason
}
