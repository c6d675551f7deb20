package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/learnhub/analytics-service/anomaly"
)

// M4 hourly settings: the competition's horizon and seasonality (the
// forecasters get the hourly grain's 24 and 168; seasonal naive uses 24).
const (
	m4Horizon = 48
	m4Season  = 24
)

// m4Score is one model's accuracy over the M4 hourly series.
type m4Score struct {
	model            string
	smape, mase      float64 // means over series
	cover80, cover95 float64 // share of test points inside the interval
	seconds          float64 // wall clock
	cpuSeconds       float64 // user + system CPU of the process
	failed           int
}

// benchM4 forecasts every M4 hourly series of dir (train.csv, test.csv)
// with each model, 48 steps ahead, and scores them against the test part:
// sMAPE, MASE (scaled by the in-sample mean absolute lag-24 difference) and
// interval coverage. Seasonal naive runs in the same process as the
// baseline; the default forecaster's row carries the target.
func benchM4(ctx context.Context, dir string, models []string) ([]result, error) {
	train, err := readLongFile(filepath.Join(dir, "train.csv"))
	if err != nil {
		return nil, err
	}
	test, err := readLongFile(filepath.Join(dir, "test.csv"))
	if err != nil {
		return nil, err
	}
	actual := map[string][]float64{}
	for _, s := range test {
		actual[s.ID] = s.Y
	}
	for _, s := range train {
		if len(actual[s.ID]) != m4Horizon {
			return nil, fmt.Errorf("m4: series %s has %d test points, want %d", s.ID, len(actual[s.ID]), m4Horizon)
		}
	}
	if len(models) == 0 {
		models = []string{anomaly.ModelSeasonalNaive, anomaly.DefaultModel, anomaly.ModelETS, anomaly.ModelARIMA,
			anomaly.ModelMSTL, anomaly.ModelMSTLARIMA, anomaly.ModelTheta, anomaly.ModelProphet}
	}
	var scores []m4Score
	for _, model := range models {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sc, err := scoreM4(train, actual, model)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "  m4 %-10s sMAPE %6.3f  MASE %.3f  cover80 %.3f  cover95 %.3f  %.1f s wall, %.1f s CPU  failed %d\n",
			sc.model, sc.smape, sc.mase, sc.cover80, sc.cover95, sc.seconds, sc.cpuSeconds, sc.failed)
		scores = append(scores, sc)
	}
	var base *m4Score
	for i := range scores {
		if scores[i].model == anomaly.ModelSeasonalNaive {
			base = &scores[i]
		}
	}
	var out []result
	for _, sc := range scores {
		r := result{
			Name:  fmt.Sprintf("M4 hourly, %d series, horizon %d: %s", len(train), m4Horizon, sc.model),
			Value: fmt.Sprintf("MASE %.3f, sMAPE %.3f", sc.mase, sc.smape),
			Note: fmt.Sprintf("95%% interval coverage %.1f%%, 80%% coverage %.1f%%; %.1f s CPU (%.0f ms a series), %.1f s wall on %d cores",
				100*sc.cover95, 100*sc.cover80, sc.cpuSeconds, 1000*sc.cpuSeconds/float64(len(train)), sc.seconds, runtime.GOMAXPROCS(0)),
		}
		if sc.failed > 0 {
			r.Note += fmt.Sprintf("; %d series failed", sc.failed)
		}
		if base != nil && sc.model != base.model {
			r.Baseline = fmt.Sprintf("MASE %.3f, sMAPE %.3f seasonal naive", base.mase, base.smape)
			r.Ratio = fmt.Sprintf("%.2f× MASE", sc.mase/base.mase)
		}
		if sc.model == anomaly.DefaultModel {
			r.Name += " (default)"
			r.Target = "MASE ≤ 0.95"
			r.Ratio += " " + mark(sc.mase <= 0.95)
		}
		out = append(out, r)
	}
	return out, nil
}

// scoreM4 runs one model over every series on GOMAXPROCS workers.
func scoreM4(train []anomaly.Series, actual map[string][]float64, model string) (m4Score, error) {
	type one struct {
		smape, mase float64
		in80, in95  int
		err         error
	}
	res := make([]one, len(train))
	start, cpuStart := time.Now(), cpuTime()
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				s := train[i]
				fc, err := anomaly.Run(model, s.Y, m4Horizon, []float64{80, 95}, anomaly.Options{Seasons: anomaly.SeasonsForGrain("hour")})
				if err != nil {
					res[i].err = err
					continue
				}
				res[i].smape, res[i].mase, res[i].in80, res[i].in95 = m4Accuracy(s.Y, actual[s.ID], fc)
			}
		}()
	}
	for i := range train {
		next <- i
	}
	close(next)
	wg.Wait()
	sc := m4Score{model: model, seconds: time.Since(start).Seconds(), cpuSeconds: cpuTime() - cpuStart}
	var ok, in80, in95 int
	for _, r := range res {
		if r.err != nil {
			sc.failed++
			continue
		}
		ok++
		sc.smape += r.smape
		sc.mase += r.mase
		in80 += r.in80
		in95 += r.in95
	}
	if ok == 0 {
		return sc, fmt.Errorf("m4: %s failed on every series: %v", model, res[0].err)
	}
	sc.smape /= float64(ok)
	sc.mase /= float64(ok)
	sc.cover80 = float64(in80) / float64(ok*m4Horizon)
	sc.cover95 = float64(in95) / float64(ok*m4Horizon)
	return sc, nil
}

// m4Accuracy is the M4 competition's sMAPE and MASE of one forecast, and
// how many actual values fall inside its 80% and 95% intervals.
func m4Accuracy(train, test []float64, fc anomaly.Forecast) (smape, mase float64, in80, in95 int) {
	var scale float64
	for t := m4Season; t < len(train); t++ {
		scale += math.Abs(train[t] - train[t-m4Season])
	}
	scale /= float64(len(train) - m4Season)
	for k, y := range test {
		f := fc.Point[k]
		if d := math.Abs(y) + math.Abs(f); d > 0 {
			smape += 200 * math.Abs(y-f) / d
		}
		mase += math.Abs(y - f)
		if y >= fc.Intervals[0].Lower[k] && y <= fc.Intervals[0].Upper[k] {
			in80++
		}
		if y >= fc.Intervals[1].Lower[k] && y <= fc.Intervals[1].Upper[k] {
			in95++
		}
	}
	h := float64(len(test))
	return smape / h, mase / h / scale, in80, in95
}

// cpuTime is the process's user plus system CPU time in seconds.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func readLongFile(path string) ([]anomaly.Series, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("m4 data: %w (set -data to the directory holding m4-hourly/)", err)
	}
	defer f.Close()
	s, err := anomaly.ReadLong(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
