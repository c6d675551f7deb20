package chembedded

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ebitengine/purego"

	"github.com/learnhub/analytics-service/platform/errs"
)

// LibVersion is the chDB build the service is written against; `make chdb`
// unpacks it under the cache directory DefaultLibPath points into.
const LibVersion = "26.7.3-stable.1"

// LibPathEnv names the environment variable that overrides DefaultLibPath.
const LibPathEnv = "ANALYTICS_CHDB_LIB"

// chdbAPI is the subset of chdb.h (v26.7.3) the backend calls. Handles are
// opaque C pointers, carried as uintptr.
type chdbAPI struct {
	setSignalHandlersEnabled func(enabled int32)
	version                  func() string

	connect   func(argc int32, argv **byte) *uintptr
	closeConn func(conn *uintptr)

	queryWithParams       func(conn uintptr, query, format string, names, values **byte, count uintptr) uintptr
	streamQueryWithParams func(conn uintptr, query, format string, names, values **byte, count uintptr) uintptr
	streamFetchResult     func(conn uintptr, stream uintptr) uintptr
	streamCancelQuery     func(conn uintptr, stream uintptr)
	destroyQueryResult    func(r uintptr)

	streamInsert        func(conn uintptr, query, format string) uintptr
	streamAppend        func(s uintptr, data *byte, n uintptr) int32
	streamDone          func(s uintptr) uintptr
	streamCancelInsert  func(s uintptr)
	streamInsertError   func(s uintptr) string
	destroyInsertStream func(s uintptr)

	resultBuffer func(r uintptr) *byte
	resultLength func(r uintptr) uintptr
	resultError  func(r uintptr) string
}

// DefaultLibPath is where the embedded engine's library is looked for:
// $ANALYTICS_CHDB_LIB when set, otherwise the `make chdb` location
// ${XDG_CACHE_HOME:-$HOME/.cache}/analyticsd/chdb/<LibVersion>/package/libchdb.so.
func DefaultLibPath() string {
	if p := os.Getenv(LibPathEnv); p != "" {
		return p
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "analyticsd", "chdb", LibVersion, "package", "libchdb.so")
}

// loadAPI opens the library at path and binds the functions the backend
// calls. It turns the engine's own signal handlers off before anything can
// connect. The caller (engine.start) makes sure it runs once per process.
func loadAPI(path string) (*chdbAPI, error) {
	const op = "chembedded.load"
	if _, err := os.Stat(path); err != nil {
		return nil, errs.Wrap(op, errs.KindUnavailable, err, fmt.Sprintf(
			"the embedded ClickHouse engine library was not found at %s: run `make chdb` or set %s to the path of libchdb.so",
			path, LibPathEnv))
	}
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, errs.Wrap(op, errs.KindUnavailable, err, fmt.Sprintf(
			"the embedded ClickHouse engine library at %s could not be loaded: run `make chdb` or set %s to a working libchdb.so",
			path, LibPathEnv))
	}
	api := &chdbAPI{}
	syms := []struct {
		fn   any
		name string
	}{
		{&api.setSignalHandlersEnabled, "chdb_set_signal_handlers_enabled"},
		{&api.version, "chdb_version"},
		{&api.connect, "chdb_connect"},
		{&api.closeConn, "chdb_close_conn"},
		{&api.queryWithParams, "chdb_query_with_params"},
		{&api.streamQueryWithParams, "chdb_stream_query_with_params"},
		{&api.streamFetchResult, "chdb_stream_fetch_result"},
		{&api.streamCancelQuery, "chdb_stream_cancel_query"},
		{&api.destroyQueryResult, "chdb_destroy_query_result"},
		{&api.streamInsert, "chdb_stream_insert"},
		{&api.streamAppend, "chdb_stream_append"},
		{&api.streamDone, "chdb_stream_done"},
		{&api.streamCancelInsert, "chdb_stream_cancel_insert"},
		{&api.streamInsertError, "chdb_stream_insert_error"},
		{&api.destroyInsertStream, "chdb_destroy_insert_stream"},
		{&api.resultBuffer, "chdb_result_buffer"},
		{&api.resultLength, "chdb_result_length"},
		{&api.resultError, "chdb_result_error"},
	}
	for _, s := range syms {
		addr, err := purego.Dlsym(h, s.name)
		if err != nil {
			return nil, errs.Wrap(op, errs.KindUnavailable, err, fmt.Sprintf(
				"the library at %s lacks %s; it is not chDB %s: run `make chdb` or set %s",
				path, s.name, LibVersion, LibPathEnv))
		}
		purego.RegisterFunc(s.fn, addr)
	}
	// Before any connection exists: otherwise the engine's SIGSEGV handler
	// replaces Go's and a nil dereference anywhere in the process kills it
	// instead of panicking (DESIGN.md §7).
	api.setSignalHandlersEnabled(0)
	return api, nil
}
