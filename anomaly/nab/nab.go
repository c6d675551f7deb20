// Package nab scores anomaly detections the way the Numenta Anomaly Benchmark
// does (numenta/NAB nab/sweeper.py, nab/optimizer.py, runner.normalize), so the
// project's detectors can be compared with NAB's published ones on the same
// files. It is our own implementation of the published rules:
//
//   - the first 15% of each file's rows (at most 750) are a probation period and
//     do not count;
//   - a detection is a row whose anomaly score is ≥ one threshold shared by every
//     file, chosen to maximise the corpus' total raw score;
//   - inside a labelled window only the best detection counts, weighted by a
//     scaled sigmoid of its position (earlier is better); a missed window costs
//     the false-negative weight;
//   - a detection outside every window costs the false-positive weight times a
//     sigmoid that shrinks the cost right after the previous window;
//   - the total is normalised against the null detector (0) and a perfect one
//     (100, every window caught at its first row).
//
// The scorer is pure: it reads nothing itself; corpus.go loads NAB's files.
package nab

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Scoring constants from NAB.
const (
	// ProbationPercent is the share of a file's rows that never count.
	ProbationPercent = 0.15
	// maxProbation caps the probation period (NAB: 0.15 × 5000 rows).
	maxProbation = ProbationPercent * 5000
	// noThreshold is the first threshold of the sweep: above every score,
	// so nothing is detected.
	noThreshold = 1.1
	// nullScore is the constant score of NAB's null detector, the baseline
	// of normalisation.
	nullScore = 0.5
)

// Profile is a scoring profile: the weights of true positives, false
// positives and false negatives (NAB's config/profiles.json).
type Profile struct {
	Name string
	TP   float64
	FP   float64
	FN   float64
}

// Window is one labelled anomaly window, both ends inclusive; both ends must
// be timestamps of rows of the file.
type Window struct {
	Start, End time.Time
}

// File is one scored series: its rows' timestamps and anomaly scores (same
// length, time order) and its labelled windows.
type File struct {
	Name       string
	Timestamps []time.Time
	Scores     []float64
	Windows    []Window
}

// Result is a detector's score on a corpus under one profile.
type Result struct {
	Profile   string
	Threshold float64 // the optimised shared threshold
	Raw       float64 // total raw score at Threshold
	Null      float64 // the null detector's raw score (normalisation's 0)
	Perfect   float64 // windows × TP weight (normalisation's 100)
	Score     float64 // normalised: 100 × (Raw − Null) / (Perfect − Null)
	TP, FP    int     // detected rows inside / outside windows
	TN, FN    int     // undetected rows outside / inside windows
}

// point is one scorable row: its anomaly score, its weighted sweep score and
// its window (-1 outside every window).
type point struct {
	score  float64
	sweep  float64
	window int
}

// Score optimises the shared threshold over files under profile p and
// returns the normalised score.
func Score(files []File, p Profile) (Result, error) {
	points, windows, err := sweepPoints(files, p)
	if err != nil {
		return Result{}, err
	}
	best := bestThreshold(points, windows, p)

	null := make([]File, len(files))
	perfect := 0.0
	for i, f := range files {
		null[i] = File{Name: f.Name, Timestamps: f.Timestamps, Scores: constant(len(f.Timestamps), nullScore), Windows: f.Windows}
		perfect += float64(len(f.Windows)) * p.TP
	}
	nullPoints, _, err := sweepPoints(null, p)
	if err != nil {
		return Result{}, err
	}
	nullBest := bestThreshold(nullPoints, windows, p)

	best.Profile = p.Name
	best.Null = nullBest.Raw
	best.Perfect = perfect
	if perfect != nullBest.Raw {
		best.Score = 100 * (best.Raw - nullBest.Raw) / (perfect - nullBest.Raw)
	}
	return best, nil
}

// ScaledSigmoid is NAB's weight of a detection at a relative position: −1 is
// a window's first row (≈0.987), 0 just past its last row (0), positive
// positions are after the window (down to −1, and exactly −1 beyond 3).
func ScaledSigmoid(pos float64) float64 {
	if pos > 3 {
		return -1
	}
	return 2/(1+math.Exp(5*pos)) - 1
}

// ProbationRows is the number of leading rows of an n-row file that never
// count.
func ProbationRows(n int) int {
	return int(math.Min(math.Floor(ProbationPercent*float64(n)), maxProbation))
}

// sweepPoints returns every scorable row of every file with its weighted
// score, and the number of windows that have at least one scorable row.
func sweepPoints(files []File, p Profile) ([]point, int, error) {
	maxTP := ScaledSigmoid(-1)
	var points []point
	windowID := 0
	for _, f := range files {
		if len(f.Timestamps) != len(f.Scores) {
			return nil, 0, fmt.Errorf("nab: %s: %d timestamps but %d scores", f.Name, len(f.Timestamps), len(f.Scores))
		}
		bounds, err := windowRows(f)
		if err != nil {
			return nil, 0, err
		}
		probation := ProbationRows(len(f.Timestamps))
		cur := -1       // index into bounds of the window we are in
		prevRight := -1 // last row of the previous window
		prevWidth := 0.0
		next := 0
		ids := make([]int, len(bounds))
		for i := range ids {
			ids[i] = -1
		}
		for i, s := range f.Scores {
			if cur < 0 && next < len(bounds) && i == bounds[next][0] {
				cur = next
				next++
			}
			var w float64
			win := -1
			if cur >= 0 {
				left, right := bounds[cur][0], bounds[cur][1]
				width := float64(right - left + 1)
				w = ScaledSigmoid(-float64(right-i+1)/width) * p.TP / maxTP
				if i >= probation {
					if ids[cur] < 0 {
						ids[cur] = windowID
						windowID++
					}
					win = ids[cur]
				}
			} else {
				u := -1.0
				if prevRight >= 0 && prevWidth > 1 {
					u = ScaledSigmoid(math.Abs(float64(prevRight-i)) / (prevWidth - 1))
				}
				w = u * p.FP
			}
			if i >= probation {
				points = append(points, point{score: s, sweep: w, window: win})
			}
			if cur >= 0 && i == bounds[cur][1] {
				prevRight = i
				prevWidth = float64(bounds[cur][1] - bounds[cur][0] + 1)
				cur = -1
			}
		}
	}
	return points, windowID, nil
}

// windowRows maps each window of f to its first and last row index.
func windowRows(f File) ([][2]int, error) {
	index := make(map[int64]int, len(f.Timestamps))
	for i, t := range f.Timestamps {
		if _, dup := index[t.UnixNano()]; !dup {
			index[t.UnixNano()] = i
		}
	}
	out := make([][2]int, 0, len(f.Windows))
	for _, w := range f.Windows {
		l, okL := index[w.Start.UnixNano()]
		r, okR := index[w.End.UnixNano()]
		if !okL || !okR {
			return nil, fmt.Errorf("nab: %s: window %s … %s: both ends must be timestamps of rows of the file",
				f.Name, w.Start.Format(time.DateTime), w.End.Format(time.DateTime))
		}
		if r < l || (len(out) > 0 && l <= out[len(out)-1][1]) {
			return nil, fmt.Errorf("nab: %s: window %s … %s is reversed or overlaps the previous one",
				f.Name, w.Start.Format(time.DateTime), w.End.Format(time.DateTime))
		}
		out = append(out, [2]int{l, r})
	}
	return out, nil
}

// bestThreshold sweeps thresholds from above every score downwards and
// returns the first (highest) threshold with the largest total raw score.
func bestThreshold(points []point, windows int, p Profile) Result {
	sorted := make([]point, len(points))
	copy(sorted, points)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].score > sorted[j].score })

	parts := make([]float64, windows)
	tn, fn := 0, 0
	for _, pt := range sorted {
		if pt.window >= 0 {
			fn++
		} else {
			tn++
		}
	}
	for i := range parts {
		parts[i] = -p.FN
	}
	fp := 0.0
	sumParts := func() float64 {
		s := fp
		for _, v := range parts {
			s += v
		}
		return s
	}
	// The total is kept incrementally; sumParts re-adds it in NAB's order
	// at each recorded threshold so ties resolve exactly as NAB's do.
	best := Result{Threshold: noThreshold, Raw: sumParts(), TN: tn, FN: fn}
	cur := noThreshold
	tp, fpRows := 0, 0
	record := func() {
		if s := sumParts(); s > best.Raw {
			best = Result{Threshold: cur, Raw: s, TP: tp, FP: fpRows, TN: tn, FN: fn}
		}
	}
	changed := false
	for _, pt := range sorted {
		if pt.score != cur {
			if changed {
				record()
			}
			cur = pt.score
			changed = true
		}
		if pt.window >= 0 {
			tp++
			fn--
			parts[pt.window] = math.Max(parts[pt.window], pt.sweep)
		} else {
			fpRows++
			tn--
			fp += pt.sweep
		}
	}
	if changed {
		record()
	}
	return best
}

func constant(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// ScoreAt scores files under profile p at a given threshold instead of the
// optimised one: how a threshold chosen on some files does on others (the
// held-out check of a split), or a category's share of a corpus threshold.
func ScoreAt(files []File, p Profile, threshold float64) (Result, error) {
	points, windows, err := sweepPoints(files, p)
	if err != nil {
		return Result{}, err
	}
	r := rawAt(points, windows, p, threshold)
	best, err := Score(files, p) // for the null and perfect baselines
	if err != nil {
		return Result{}, err
	}
	r.Profile, r.Null, r.Perfect = p.Name, best.Null, best.Perfect
	if r.Perfect != r.Null {
		r.Score = 100 * (r.Raw - r.Null) / (r.Perfect - r.Null)
	}
	return r, nil
}

// rawAt is the raw score of points at threshold: each window's best
// detection (or the false-negative cost), plus every false positive.
func rawAt(points []point, windows int, p Profile, threshold float64) Result {
	parts := make([]float64, windows)
	for i := range parts {
		parts[i] = -p.FN
	}
	r := Result{Threshold: threshold}
	fp := 0.0
	for _, pt := range points {
		detected := pt.score >= threshold
		switch {
		case pt.window >= 0 && detected:
			r.TP++
			parts[pt.window] = math.Max(parts[pt.window], pt.sweep)
		case pt.window >= 0:
			r.FN++
		case detected:
			r.FP++
			fp += pt.sweep
		default:
			r.TN++
		}
	}
	r.Raw = fp
	for _, v := range parts {
		r.Raw += v
	}
	return r
}
