package chembedded

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/learnhub/analytics-service/platform/errs"
)

// proc is the process's embedded engine. chDB keeps one engine (one storage
// path) per process and tears it down when its last connection closes, so
// this state is process-wide by necessity: every Backend in the process
// shares it. It stays empty until the first Open; linking the package does
// nothing.
var proc engine

// engine is the loaded library plus the keeper connection that holds the
// engine up for the life of the process (closing the last connection shuts
// the engine down, and restarting it in one process is fragile).
type engine struct {
	mu       sync.Mutex
	api      *chdbAPI
	dataPath string
	keeper   *conn
}

// start loads the library (once) and boots the engine on dataPath (once).
// A later call with another data path fails: the process cannot hold two.
func (e *engine) start(libPath, dataPath string) (*chdbAPI, string, error) {
	const op = "chembedded.Open"
	abs, err := filepath.Abs(dataPath)
	if err != nil {
		return nil, "", errs.Wrap(op, errs.KindInternal, err, "bad embedded engine data path")
	}
	abs = filepath.Clean(abs)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.api == nil {
		api, err := loadAPI(libPath)
		if err != nil {
			return nil, "", err
		}
		e.api = api
	}
	if e.keeper != nil {
		if abs != e.dataPath {
			return nil, "", errs.E(op, errs.KindUnavailable, fmt.Sprintf(
				"the embedded engine already runs on %s in this process and cannot open %s as well; use one data directory per process",
				e.dataPath, abs))
		}
		return e.api, abs, nil
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, "", errs.Wrap(op, errs.KindUnavailable, err, fmt.Sprintf("cannot create the embedded engine data directory %s", abs))
	}
	k, ok := connect(e.api, []string{"clickhouse", "--path=" + abs})
	if !ok {
		return nil, "", errs.E(op, errs.KindUnavailable, fmt.Sprintf(
			"the embedded engine could not start on %s (is the directory writable and not used by another process?)", abs))
	}
	e.keeper, e.dataPath = k, abs
	return e.api, abs, nil
}
