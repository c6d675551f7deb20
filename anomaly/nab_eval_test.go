package anomaly

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/learnhub/analytics-service/anomaly/nab"
)

// TestNABEval prints every detector's NAB scores when NAB_EVAL is set.
func TestNABEval(t *testing.T) {
	dir := os.Getenv("NAB_EVAL")
	if dir == "" {
		t.Skip("NAB_EVAL not set")
	}
	c, err := nab.OpenCorpus(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := DetectorNames()
	if d := os.Getenv("NAB_DET"); d != "" {
		names = []string{d}
	}
	for _, name := range names {
		start := time.Now()
		files, rows, err := c.Detect(func() func(time.Time, float64) float64 {
			d, _ := NewDetector(name)
			if name == "ensemble" {
				d = NewEnsemble(EnsembleConfig{cal: calibratorConfig{Short: envInt("CAL_S"), Rest: envInt("CAL_REST"), Norm: envFloat("NORM"), Extra: envFloat("EXTRA")}, Context: ContextConfig{Bins: envInt("BINS"), Order: envInt("ORDER")}, Changepoint: os.Getenv("CP") != ""})
			}
			return func(ts time.Time, v float64) float64 { return d.Observe(Observation{Time: ts, Value: v}).Score }
		})
		if err != nil {
			t.Fatal(err)
		}
		el := time.Since(start)
		rs, err := c.ScoreAll(files)
		if err != nil {
			t.Fatal(err)
		}
		if os.Getenv("NAB_FILES") != "" {
			perFile(t, files, rs[0].Threshold)
		}
		t.Logf("%-9s std %.2f lowFP %.2f lowFN %.2f  thr %.4f tp %d fp %d  %.0f pts/s", name, rs[0].Score, rs[1].Score, rs[2].Score, rs[0].Threshold, rs[0].TP, rs[0].FP, float64(rows)/el.Seconds())
	}
}

func envInt(k string) int       { v, _ := strconv.Atoi(os.Getenv(k)); return v }
func envFloat(k string) float64 { v, _ := strconv.ParseFloat(os.Getenv(k), 64); return v }

// perFile logs, at threshold thr, each file's windows hit and false alarms.
func perFile(t *testing.T, files []nab.File, thr float64) {
	for _, f := range files {
		prob := nab.ProbationRows(len(f.Scores))
		hit, fp, first := 0, 0, ""
		for _, w := range f.Windows {
			for i, ts := range f.Timestamps {
				if i >= prob && !ts.Before(w.Start) && !ts.After(w.End) && f.Scores[i] >= thr {
					hit++
					break
				}
			}
		}
		for i, ts := range f.Timestamps {
			in := false
			for _, w := range f.Windows {
				if !ts.Before(w.Start) && !ts.After(w.End) {
					in = true
				}
			}
			if i >= prob && !in && f.Scores[i] >= thr {
				fp++
				if first == "" {
					first = ts.Format("01-02 15:04")
				}
			}
		}
		t.Logf("%-55s rows %5d win %d hit %d fp %2d %s", f.Name, len(f.Scores), len(f.Windows), hit, fp, first)
	}
}
