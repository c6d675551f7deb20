package nab

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedCorpusDir finds ../shared/data/nab (or NAB_DATA_DIR) for tests.
func sharedCorpusDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("NAB_DATA_DIR"); d != "" {
		return d
	}
	for dir, _ := os.Getwd(); dir != "/"; dir = filepath.Dir(dir) {
		cand := filepath.Join(dir, "..", "shared", "data", "nab")
		if _, err := os.Stat(filepath.Join(cand, "windows.json")); err == nil {
			return cand
		}
	}
	t.Fatal("../shared/data/nab not found: set NAB_DATA_DIR")
	return ""
}
