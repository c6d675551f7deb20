package chembedded

import (
	"context"
	"sync"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// pool hands out at most size connections, opening them lazily. Idle
// connections wait in slots in FIFO order; a nil slot is a connection not
// opened yet (or closed because it broke), so a broken connection is
// replaced transparently.
type pool struct {
	api      *chdbAPI
	args     []string // chdb_connect arguments, argv[0] included
	database string
	slots    chan *conn

	mu     sync.Mutex
	closed bool
}

// newPool makes a pool of size connections on database.
func newPool(api *chdbAPI, args []string, database string, size int) *pool {
	p := &pool{api: api, args: args, database: database, slots: make(chan *conn, size)}
	for range size {
		p.slots <- nil
	}
	return p
}

// get waits for a connection until ctx is done.
func (p *pool) get(ctx context.Context, op string) (*conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxError(op, err)
	}
	var c *conn
	select {
	case c = <-p.slots:
	default:
		select {
		case c = <-p.slots:
		case <-ctx.Done():
			return nil, errs.Wrap(op, errs.KindUnavailable, ctx.Err(),
				"all embedded engine connections stayed busy until the request ended; retry, or raise the pool size")
		}
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		p.release(c)
		p.slots <- nil
		return nil, errs.E(op, errs.KindUnavailable, "the embedded engine backend is closed")
	}
	if c != nil {
		return c, nil
	}
	c, err := p.dial(op)
	if err != nil {
		p.slots <- nil
		return nil, err
	}
	return c, nil
}

// put returns c to the pool; a broken connection (or any after close) is
// closed and its slot freed for a fresh one.
func (p *pool) put(c *conn) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if c.broken || closed {
		c.close()
		c = nil
	}
	p.slots <- c
}

// close closes the idle connections; those in use are closed when they
// come back.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	drained := 0
	for done := false; !done; {
		select {
		case c := <-p.slots:
			p.release(c)
			drained++
		default:
			done = true
		}
	}
	// Empty slots back, so a late get fails fast instead of waiting.
	for range drained {
		p.slots <- nil
	}
}

func (p *pool) release(c *conn) {
	if c != nil {
		c.close()
	}
}

// dial opens a connection whose session uses p.database.
func (p *pool) dial(op string) (*conn, error) {
	c, ok := connect(p.api, p.args)
	if !ok {
		return nil, errs.E(op, errs.KindUnavailable, "the embedded engine refused a new connection")
	}
	db := store.QuoteIdent(p.database)
	for _, sql := range []string{"CREATE DATABASE IF NOT EXISTS " + db, "USE " + db} {
		if _, msg := c.query(sql, "Null", nil); msg != "" {
			c.close()
			return nil, classify(op, msg)
		}
	}
	return c, nil
}
