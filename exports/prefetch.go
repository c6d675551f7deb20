package exports

import (
	"sync"

	"github.com/learnhub/analytics-service/store"
)

// prefetchRows is how many rows a prefetch batch holds; prefetchBatches
// batches circulate between the reader and the encoder.
const (
	prefetchRows    = 1024
	prefetchBatches = 3
)

// prefetchStream reads a rowStream in its own goroutine, a batch of rows
// at a time, so the engine and the row decoder work while the encoder
// writes the previous batch (on an export the two sides cost about the
// same). Memory stays bounded by prefetchBatches batches.
type prefetchStream struct {
	src   rowStream
	width int
	full  chan *rowBatch
	free  chan *rowBatch
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	cur   *rowBatch
	i     int
	err   error // the source's error, set before full is closed
}

// rowBatch is up to prefetchRows rows, width values each, in one slice.
type rowBatch struct {
	vals []any
	n    int
}

func newPrefetchStream(src rowStream) *prefetchStream {
	w := len(src.Columns())
	p := &prefetchStream{
		src: src, width: w,
		full: make(chan *rowBatch, prefetchBatches), free: make(chan *rowBatch, prefetchBatches),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	for range prefetchBatches {
		p.free <- &rowBatch{vals: make([]any, prefetchRows*w)}
	}
	go p.read()
	return p
}

// read fills free batches from the source until it ends or Close.
func (p *prefetchStream) read() {
	defer close(p.done)
	defer close(p.full)
	for {
		var b *rowBatch
		select {
		case b = <-p.free:
		case <-p.stop:
			return
		}
		b.n = 0
		for b.n < prefetchRows && p.src.Next() {
			copy(b.vals[b.n*p.width:], p.src.Values())
			b.n++
		}
		last := b.n < prefetchRows
		if last {
			p.err = p.src.Err()
		}
		if b.n > 0 {
			select {
			case p.full <- b:
			case <-p.stop:
				return
			}
		}
		if last {
			return
		}
	}
}

func (p *prefetchStream) Columns() []store.Column { return p.src.Columns() }

func (p *prefetchStream) Next() bool {
	if p.cur != nil {
		if p.i++; p.i < p.cur.n {
			return true
		}
		clear(p.cur.vals)
		p.free <- p.cur // never blocks: free holds every batch
		p.cur = nil
	}
	b, ok := <-p.full
	if !ok {
		return false
	}
	p.cur, p.i = b, 0
	return true
}

func (p *prefetchStream) Values() []any {
	return p.cur.vals[p.i*p.width : (p.i+1)*p.width]
}

// Err is the source's error once Next has returned false.
func (p *prefetchStream) Err() error { return p.err }

// Close stops the reader, waits for it and closes the source.
func (p *prefetchStream) Close() error {
	p.once.Do(func() { close(p.stop) })
	<-p.done
	return p.src.Close()
}
