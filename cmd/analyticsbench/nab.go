package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path"
	"path/filepath"
	"runtime"
	"time"

	"github.com/learnhub/analytics-service/anomaly"
	"github.com/learnhub/analytics-service/anomaly/nab"
)

// nabData is the labelled NAB subset (../shared/data/nab); nabResults, when
// set, is a numenta/NAB checkout's results/ directory for nab-reference
// (NAB's files are not part of this repository).
var (
	nabData    = filepath.Join("..", "shared", "data", "nab")
	nabResults = ""
)

// nabTarget is the target for the default detector's standard score.
const nabTarget = 70.0

// nabReference is the table of ../shared/data/README.md: NAB's stored
// results on the 39 files, standard / low FP / low FN.
var nabReference = []struct {
	dir, name string
	want      [3]float64
}{
	{"contextOSE", "CAD OSE", [3]float64{73.38, 70.61, 76.83}},
	{"ARTime", "ARTime", [3]float64{73.35, 63.46, 78.90}},
	{"numenta", "Numenta HTM", [3]float64{68.18, 62.11, 72.43}},
	{"windowedGaussian", "Windowed Gaussian", [3]float64{37.91, 16.08, 46.52}},
}

// benchNAB runs every detector over the NAB files, scores them with our
// scorer under the three profiles, and measures the default detector's
// throughput on one core (one goroutine, files in sequence).
func benchNAB(ctx context.Context) ([]result, error) {
	corpus, err := nab.OpenCorpus(nabData)
	if err != nil {
		return nil, err
	}
	var out []result
	for _, name := range append([]string{anomaly.DefaultDetector}, others()...) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start, cpuStart := time.Now(), cpuTime()
		files, rows, err := corpus.Detect(func() func(time.Time, float64) float64 {
			d, _ := anomaly.NewDetector(name)
			return func(t time.Time, v float64) float64 { return d.Observe(anomaly.Observation{Time: t, Value: v}).Score }
		})
		if err != nil {
			return nil, err
		}
		elapsed, cpu := time.Since(start), cpuTime()-cpuStart
		rs, err := corpus.ScoreAll(files)
		if err != nil {
			return nil, err
		}
		if name != anomaly.DefaultDetector {
			out = append(out, result{
				Name:  "nab: " + name + " detector (std / low FP / low FN)",
				Value: fmt.Sprintf("%.2f / %.2f / %.2f", rs[0].Score, rs[1].Score, rs[2].Score),
				Note:  fmt.Sprintf("threshold %.4f; %.0f points per CPU second", rs[0].Threshold, float64(rows)/cpu),
			})
			continue
		}
		ref := nabReference[2].want // Numenta HTM on the same files
		for i, r := range rs {
			target, ratio := "", ""
			if i == 0 {
				target, ratio = fmt.Sprintf("≥ %.0f", nabTarget), mark(r.Score >= nabTarget)
			}
			out = append(out, result{
				Name:     fmt.Sprintf("nab: default (%s) %s score, %d files", name, r.Profile, len(files)),
				Value:    fmt.Sprintf("%.2f", r.Score),
				Baseline: fmt.Sprintf("Numenta HTM %.2f", ref[i]),
				Ratio:    ratio,
				Target:   target,
				Note:     fmt.Sprintf("threshold %.4f, %d TP / %d FP rows", r.Threshold, r.TP, r.FP),
			})
		}
		more, err := nabBreakdown(corpus, files, rs[0].Threshold)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
		out = append(out, result{
			Name:  "nab: detect throughput, default detector, one core",
			Value: fmt.Sprintf("%.0f points per CPU second", float64(rows)/cpu),
			Note: fmt.Sprintf("%d points in %.1f CPU s (process user+system, GC included; %v wall on a shared machine), GOMAXPROCS %d, one goroutine",
				rows, cpu, elapsed.Round(time.Millisecond), runtime.GOMAXPROCS(0)),
		})
	}
	return out, nil
}

// nabBreakdown reports the default detector per NAB category at the
// corpus threshold, and the held-out check of a split: the threshold chosen
// on the odd-indexed files (in name order) applied to the even ones and vice
// versa, against each half's own best threshold.
func nabBreakdown(corpus *nab.Corpus, files []nab.File, threshold float64) ([]result, error) {
	std := corpus.Profiles[0]
	var out []result
	var cats []string
	byCat := map[string][]nab.File{}
	for _, f := range files {
		c := path.Dir(f.Name)
		if byCat[c] == nil {
			cats = append(cats, c)
		}
		byCat[c] = append(byCat[c], f)
	}
	for _, c := range cats {
		r, err := nab.ScoreAt(byCat[c], std, threshold)
		if err != nil {
			return nil, err
		}
		value := fmt.Sprintf("%.2f", r.Score)
		if r.Perfect == 0 {
			value = "— (no windows)"
		}
		out = append(out, result{
			Name:  fmt.Sprintf("nab: default, %s (%d files), standard at the corpus threshold", c, len(byCat[c])),
			Value: value,
			Note:  fmt.Sprintf("%d TP / %d FP rows", r.TP, r.FP),
		})
	}
	var halves [2][]nab.File
	for i, f := range files {
		halves[i%2] = append(halves[i%2], f)
	}
	for i, name := range []string{"even", "odd"} {
		tune, test := halves[1-i], halves[i]
		tuned, err := nab.Score(tune, std)
		if err != nil {
			return nil, err
		}
		held, err := nab.ScoreAt(test, std, tuned.Threshold)
		if err != nil {
			return nil, err
		}
		own, err := nab.Score(test, std)
		if err != nil {
			return nil, err
		}
		out = append(out, result{
			Name:     fmt.Sprintf("nab: default, split: threshold from the %s-indexed files, scored on the %d %s-indexed ones", name2(1-i), len(test), name),
			Value:    fmt.Sprintf("%.2f", held.Score),
			Baseline: fmt.Sprintf("%.2f at their own best threshold", own.Score),
			Note:     fmt.Sprintf("threshold %.4f (their own %.4f); the tuning half scores %.2f", tuned.Threshold, own.Threshold, tuned.Score),
		})
	}
	cv, err := nabRandomSplits(files, std, nabSplits)
	if err != nil {
		return nil, err
	}
	out = append(out, result{
		Name:  fmt.Sprintf("nab: default, %d random half splits: threshold from one half, scored on the other (mean of %d)", nabSplits, 2*nabSplits),
		Value: fmt.Sprintf("%.2f", cv),
		Note:  "a steadier held-out estimate than the single odd/even split; fixed seed",
	})
	return out, nil
}

// nabSplits is how many random half splits nabRandomSplits averages.
const nabSplits = 20

// nabRandomSplits is the mean held-out standard score over n random halvings
// of files (a fixed seed, so runs compare): the threshold chosen on each half
// is applied to the other.
func nabRandomSplits(files []nab.File, p nab.Profile, n int) (float64, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	sum := 0.0
	for range n {
		var halves [2][]nab.File
		for j, k := range rng.Perm(len(files)) {
			halves[j%2] = append(halves[j%2], files[k])
		}
		for i := range halves {
			tuned, err := nab.Score(halves[i], p)
			if err != nil {
				return 0, err
			}
			held, err := nab.ScoreAt(halves[1-i], p, tuned.Threshold)
			if err != nil {
				return 0, err
			}
			sum += held.Score
		}
	}
	return sum / float64(2*n), nil
}

// name2 names a parity.
func name2(parity int) string { return [2]string{"even", "odd"}[parity] }

// benchNABReference reproduces the reference table from NAB's own result
// files: the check that our scorer is NAB's.
func benchNABReference(context.Context) ([]result, error) {
	if nabResults == "" {
		return []result{{Name: "nab-reference", Value: "not run",
			Note: "set -nab-results to a numenta/NAB checkout's results/ directory (`git -C NAB archive HEAD results | tar -x`)"}}, nil
	}
	corpus, err := nab.OpenCorpus(nabData)
	if err != nil {
		return nil, err
	}
	var out []result
	for _, ref := range nabReference {
		files, err := corpus.ResultsFiles(filepath.Join(nabResults, ref.dir))
		if err != nil {
			return nil, err
		}
		rs, err := corpus.ScoreAll(files)
		if err != nil {
			return nil, err
		}
		ok := true
		for i, r := range rs {
			ok = ok && math.Abs(r.Score-ref.want[i]) < 0.005
		}
		out = append(out, result{
			Name:     "nab-reference: " + ref.name + " (std / low FP / low FN)",
			Value:    fmt.Sprintf("%.2f / %.2f / %.2f", rs[0].Score, rs[1].Score, rs[2].Score),
			Baseline: fmt.Sprintf("%.2f / %.2f / %.2f", ref.want[0], ref.want[1], ref.want[2]),
			Ratio:    mark(ok),
			Target:   "equal to 0.01",
			Note:     "NAB's stored results/" + ref.dir + " scored by anomaly/nab",
		})
	}
	return out, nil
}

// others are the non-default detectors, in name order.
func others() []string {
	var out []string
	for _, n := range anomaly.DetectorNames() {
		if n != anomaly.DefaultDetector {
			out = append(out, n)
		}
	}
	return out
}
