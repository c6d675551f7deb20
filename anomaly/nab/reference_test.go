package nab

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReferenceResults reproduces the table in ../shared/data/README.md from
// NAB's stored results/<detector>/ files. NAB's files are not part of this
// repository: set NAB_RESULTS_DIR to a checkout's results/ directory
// (`git -C NAB archive HEAD results | tar -x`) to run it.
func TestReferenceResults(t *testing.T) {
	dir := os.Getenv("NAB_RESULTS_DIR")
	if dir == "" {
		t.Skip("NAB_RESULTS_DIR is not set")
	}
	corpus, err := OpenCorpus(sharedCorpusDir(t))
	require.NoError(t, err)
	for _, tc := range []struct {
		detector string
		want     [3]float64
	}{
		{"contextOSE", [3]float64{73.38, 70.61, 76.83}},
		{"ARTime", [3]float64{73.35, 63.46, 78.90}},
		{"numenta", [3]float64{68.18, 62.11, 72.43}},
		{"windowedGaussian", [3]float64{37.91, 16.08, 46.52}},
	} {
		t.Run(tc.detector, func(t *testing.T) {
			files, err := corpus.ResultsFiles(filepath.Join(dir, tc.detector))
			require.NoError(t, err)
			results, err := corpus.ScoreAll(files)
			require.NoError(t, err)
			for i, r := range results {
				t.Logf("%s %s: %.2f (threshold %.6f)", tc.detector, r.Profile, r.Score, r.Threshold)
				assert.InDelta(t, tc.want[i], r.Score, 0.005, r.Profile)
			}
		})
	}
}
