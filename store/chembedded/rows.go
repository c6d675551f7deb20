package chembedded

import (
	"bytes"
	"context"
	"fmt"
	"runtime"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// resultFormat is the output format of queries that run to completion and
// of streamed results the binary decoder cannot read (see decode.go).
const resultFormat = "JSONCompactEachRowWithNamesAndTypes"

// rows streams a query's result chunk by chunk: only the current chunk (the
// engine's output for one block, a few megabytes at most) is held in
// memory. The connection stays checked out until the stream ends or Close
// is called. A stream is RowBinary (binary set, see rowbinary.go) or
// JSON text lines.
type rows struct {
	ctx     context.Context
	b       *Backend
	c       *conn   // nil once the connection went back to the pool
	stream  uintptr // the chdb streaming result
	restore string  // SET statement to run before releasing c, if any

	cols   []store.Column
	types  []*colType
	header []byte // the names and types lines; every chunk repeats them

	binary      bool       // the stream is binaryFormat
	btypes      []*binType // binary: the columns' layouts
	unsupported bool       // binary: a column type btypes cannot hold

	buf []byte // current chunk
	pos int    // start of the next line (or binary row) in buf
	cur []any  // the current row's values
	has bool   // cur holds a row
	err error
}

// Columns lists the result's columns. An empty result that the engine sent
// without a header has none.
func (r *rows) Columns() []store.Column { return r.cols }

// Next advances to the next row, fetching the next chunk when the current
// one is used up. The context is checked before every fetch.
func (r *rows) Next() bool {
	r.has = false
	for r.err == nil {
		if r.pos < len(r.buf) && r.binary {
			br := binReader{b: r.buf, i: r.pos}
			if err := br.row(r.btypes, r.cur); err != nil {
				r.err = errs.Wrap("chembedded.Rows.Next", errs.KindInternal, err, "")
				r.release(true)
				return false
			}
			r.pos, r.has = br.i, true
			return true
		}
		if r.pos < len(r.buf) {
			line := r.buf[r.pos:]
			if end := bytes.IndexByte(line, '\n'); end >= 0 {
				line = line[:end]
				r.pos += end + 1
			} else {
				r.pos = len(r.buf)
			}
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			if err := decodeRow(line, r.types, r.cur); err != nil {
				r.err = errs.Wrap("chembedded.Rows.Next", errs.KindInternal, err, "")
				r.release(true)
				return false
			}
			r.has = true
			return true
		}
		if r.c == nil {
			return false
		}
		if err := r.ctx.Err(); err != nil {
			r.err = ctxError("chembedded.Rows.Next", err)
			r.release(true)
			return false
		}
		r.fetch()
	}
	return false
}

// Scan converts the current row's values into dest with store.Assign.
func (r *rows) Scan(dest ...any) error {
	const op = "chembedded.Rows.Scan"
	if !r.has {
		return errs.E(op, errs.KindInternal, "Scan called without a successful Next")
	}
	if len(dest) != len(r.cur) {
		return errs.E(op, errs.KindInternal, fmt.Sprintf("Scan got %d destinations for %d columns", len(dest), len(r.cur)))
	}
	for i, d := range dest {
		if err := store.Assign(d, r.cur[i]); err != nil {
			return errs.Wrap(op, errs.KindInternal, fmt.Errorf("column %q: %w", r.cols[i].Name, err), "")
		}
	}
	return nil
}

// Err is the error that ended the iteration, if any.
func (r *rows) Err() error { return r.err }

// Close stops the stream (cancelling the query if rows remain) and returns
// the connection to the pool. It is safe to call more than once.
func (r *rows) Close() error {
	r.has = false
	r.buf, r.pos = nil, 0
	r.release(true)
	return nil
}

// start runs text as a stream in r's format and fetches the first chunk;
// r.c is checked out and r.restore set.
func (r *rows) start(text string, params []store.Param) {
	const op = "chembedded.Query"
	api := r.c.api
	format := resultFormat
	if r.binary {
		format = binaryFormat
	}
	names, values := paramArrays(params)
	stream := api.streamQueryWithParams(r.c.h, text, format, names.first(), values.first(), uintptr(len(params)))
	runtime.KeepAlive(names)
	runtime.KeepAlive(values)
	if stream == 0 {
		r.err = errs.E(op, errs.KindUnavailable, "the embedded engine returned no result")
		r.c.broken = true
		r.release(false)
		return
	}
	r.stream = stream
	if msg := api.resultError(stream); msg != "" {
		r.err = failure(r.ctx, op, msg)
		r.c.broken = true
		r.release(false)
		return
	}
	// The first chunk carries the header, and most engine errors (limits,
	// unknown columns at execution) surface here rather than mid-iteration.
	r.fetch()
}

// abandon cancels the stream but keeps the connection, for a new start.
func (r *rows) abandon() {
	r.c.api.streamCancelQuery(r.c.h, r.stream)
	r.c.api.destroyQueryResult(r.stream)
	r.stream = 0
}

// fetch reads the next chunk into buf. At the end of the stream, or on an
// error, the connection is released.
func (r *rows) fetch() {
	const op = "chembedded.Query"
	api := r.c.api
	ch := api.streamFetchResult(r.c.h, r.stream)
	if ch == 0 {
		r.err = errs.E(op, errs.KindUnavailable, "the embedded engine returned no result chunk")
		r.c.broken = true
		r.release(true)
		return
	}
	msg := api.resultError(ch)
	r.buf = r.c.copyBuffer(ch, r.buf[:0])
	api.destroyQueryResult(ch)
	r.pos = 0
	switch {
	case msg != "":
		r.err = failure(r.ctx, op, msg)
		r.buf = r.buf[:0]
		// A failed statement can leave output behind for the next one on
		// the same connection; never reuse it.
		r.c.broken = true
		r.release(false)
	case len(r.buf) == 0:
		r.release(false)
	case r.header == nil && r.binary:
		r.readBinaryHeader()
	case r.header == nil:
		r.readHeader()
	case bytes.HasPrefix(r.buf, r.header):
		r.pos = len(r.header)
	}
}

// readBinaryHeader takes the column names and types from the first chunk
// of a binary stream; a type the binary decoder does not read sets
// unsupported.
func (r *rows) readBinaryHeader() {
	br := binReader{b: r.buf}
	h, err := br.header()
	if err != nil {
		r.err = errs.Wrap("chembedded.Query", errs.KindInternal, err, "")
		r.release(true)
		return
	}
	for i, name := range h.names {
		t, ok := parseBinType(h.types[i])
		r.unsupported = r.unsupported || !ok
		r.cols = append(r.cols, store.Column{Name: name, Type: h.types[i]})
		r.btypes = append(r.btypes, t)
	}
	r.header = bytes.Clone(r.buf[:br.i])
	r.cur = make([]any, len(r.cols))
	r.pos = br.i
}

// readHeader takes the column names and types from the first chunk.
func (r *rows) readHeader() {
	const op = "chembedded.Query"
	namesEnd := bytes.IndexByte(r.buf, '\n')
	typesEnd := -1
	if namesEnd >= 0 {
		if n := bytes.IndexByte(r.buf[namesEnd+1:], '\n'); n >= 0 {
			typesEnd = namesEnd + 1 + n
		}
	}
	if typesEnd < 0 {
		r.err = errs.E(op, errs.KindInternal, "the engine's result has no column header")
		r.release(true)
		return
	}
	names, err := decodeStrings(r.buf[:namesEnd])
	if err == nil {
		var types []string
		types, err = decodeStrings(r.buf[namesEnd+1 : typesEnd])
		if err == nil && len(types) != len(names) {
			err = fmt.Errorf("%d column names but %d types", len(names), len(types))
		}
		for i := range types {
			r.cols = append(r.cols, store.Column{Name: names[i], Type: types[i]})
			r.types = append(r.types, parseType(types[i]))
		}
	}
	if err != nil {
		r.err = errs.Wrap(op, errs.KindInternal, err, "")
		r.release(true)
		return
	}
	r.header = bytes.Clone(r.buf[:typesEnd+1])
	r.cur = make([]any, len(r.cols))
	r.pos = typesEnd + 1
}

// release ends the stream (cancelling it first when cancel is set and it
// may still run), restores the session and returns the connection.
func (r *rows) release(cancel bool) {
	c := r.c
	if c == nil {
		return
	}
	r.c = nil
	if r.stream != 0 {
		if cancel && !c.broken {
			c.api.streamCancelQuery(c.h, r.stream)
		}
		c.api.destroyQueryResult(r.stream)
		r.stream = 0
	}
	r.b.finish(c, r.restore)
}
