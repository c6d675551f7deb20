package chembedded

import (
	"runtime"
	"unsafe"

	"github.com/learnhub/analytics-service/store"
)

// conn is one chDB connection: a session of the process-wide engine that
// runs one statement at a time. It is not safe for concurrent use; the pool
// hands it to one caller at a time.
type conn struct {
	api *chdbAPI
	ptr *uintptr // chdb_connection *, as chdb_connect returned it
	h   uintptr  // the chdb_connection itself (*ptr)
	// broken marks a connection whose session state is unknown (a settings
	// restore failed, an insert stream could not be closed): the pool closes
	// it instead of reusing it.
	broken bool
}

// cstrings holds NUL-terminated copies of Go strings and a C array of
// pointers to them, alive for as long as the value is referenced.
type cstrings struct {
	bufs [][]byte
	ptrs []*byte
}

// connect opens a connection with the given command-line style arguments
// (argv[0] included).
func connect(api *chdbAPI, args []string) (*conn, bool) {
	argv := newCStrings(args)
	p := api.connect(int32(len(args)), argv.first())
	runtime.KeepAlive(argv)
	if p == nil || *p == 0 {
		return nil, false
	}
	return &conn{api: api, ptr: p, h: *p}, true
}

// close releases the connection. The engine's keeper connection is never
// closed (see engine).
func (c *conn) close() {
	if c.ptr != nil {
		c.api.closeConn(c.ptr)
		c.ptr, c.h = nil, 0
	}
}

// query runs a statement to completion and returns its whole output in
// format (small results only: version, settings lookups). An engine error
// is returned as the exception text.
func (c *conn) query(sql, format string, params []store.Param) ([]byte, string) {
	names, values := paramArrays(params)
	r := c.api.queryWithParams(c.h, sql, format, names.first(), values.first(), uintptr(len(params)))
	runtime.KeepAlive(names)
	runtime.KeepAlive(values)
	if r == 0 {
		return nil, "Code: 0. chDB returned no result"
	}
	defer c.api.destroyQueryResult(r)
	if msg := c.api.resultError(r); msg != "" {
		return nil, msg
	}
	return c.copyBuffer(r, nil), ""
}

// copyBuffer appends the result's output buffer to dst.
func (c *conn) copyBuffer(r uintptr, dst []byte) []byte {
	n := int(c.api.resultLength(r))
	if n == 0 {
		return dst
	}
	p := c.api.resultBuffer(r)
	if p == nil {
		return dst
	}
	return append(dst, unsafe.Slice(p, n)...)
}

// newCStrings copies ss into NUL-terminated buffers.
func newCStrings(ss []string) *cstrings {
	cs := &cstrings{bufs: make([][]byte, len(ss)), ptrs: make([]*byte, len(ss)+1)}
	for i, s := range ss {
		b := make([]byte, len(s)+1)
		copy(b, s)
		cs.bufs[i] = b
		cs.ptrs[i] = &b[0]
	}
	return cs
}

// first is the C array (char **), NULL-terminated; nil when empty.
func (cs *cstrings) first() **byte {
	if len(cs.bufs) == 0 {
		return nil
	}
	return &cs.ptrs[0]
}

// paramArrays lays out server-side parameters as the two C string arrays
// chdb_*_with_params take.
func paramArrays(params []store.Param) (*cstrings, *cstrings) {
	names := make([]string, len(params))
	values := make([]string, len(params))
	for i, p := range params {
		names[i], values[i] = p.Name, p.Value
	}
	return newCStrings(names), newCStrings(values)
}
