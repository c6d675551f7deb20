package nab

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRefFiles(t *testing.T) {
	dir := os.Getenv("NAB_REF_DET")
	if dir == "" {
		t.Skip()
	}
	c, _ := OpenCorpus(sharedCorpusDir(t))
	files, _ := c.ResultsFiles(filepath.Join(dir))
	r, _ := Score(files, c.Profiles[0])
	t.Logf("thr %v tp %d fp %d", r.Threshold, r.TP, r.FP)
	for _, f := range files {
		prob := ProbationRows(len(f.Scores))
		hit, fp, nfp := 0, 0, 0
		rows, _ := windowRows(f)
		for _, w := range rows {
			for i := max(w[0], prob); i <= w[1]; i++ {
				if f.Scores[i] >= r.Threshold {
					hit++
					break
				}
			}
		}
		for i := prob; i < len(f.Scores); i++ {
			in := false
			for _, w := range rows {
				in = in || (i >= w[0] && i <= w[1])
			}
			if !in && f.Scores[i] >= r.Threshold {
				fp++
			}
			if !in && f.Scores[i] > 0 {
				nfp++
			}
		}
		t.Logf("%-55s win %d hit %d fp %d nonzero-out %d", f.Name, len(f.Windows), hit, fp, nfp)
	}
}
