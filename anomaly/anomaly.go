// Package anomaly holds the streaming anomaly detectors and the forecasters
// the monitors, alert rules and the `analyticsd detect` / `forecast` commands
// run. It is pure Go (no engine, no network) so the service and the command
// line run the same code.
//
// The rule a detector keeps: it is streaming and causal. The verdict on point
// i depends only on points ≤ i — never on the file's length, its minimum or
// maximum, or anything after i — so the score a monitor stores for a bucket
// does not change when later buckets arrive, and a backfill equals a replay.
// Detectors are deterministic: the same points give the same verdicts.
package anomaly

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// DefaultDetector is the detector used when none is named: the ensemble.
const DefaultDetector = "ensemble"

// Observation is one point of a series, in time order.
type Observation struct {
	Time  time.Time
	Value float64
}

// Detection is a detector's verdict on one observation.
type Detection struct {
	// Score is the anomaly score in [0, 1]; higher is more anomalous. It is
	// comparable across series, so one threshold serves many monitors.
	Score float64
	// Confidence in [0, 1] is how much history backs Score: 0 during the
	// warm-up, 1 once the detector has seen enough points to trust its model.
	Confidence float64
	// Expected is the model's one-step-ahead value for this observation and
	// Lower/Upper its 95% band; NaN when the model has no expectation yet.
	Expected, Lower, Upper float64
}

// Detector scores a series one observation at a time. Implementations keep
// the package rule: causal and deterministic. A Detector is not safe for
// concurrent use; use one per series.
type Detector interface {
	// Observe consumes the next observation and returns its verdict.
	Observe(Observation) Detection
}

// detectorInfo describes one registered detector.
type detectorInfo struct {
	doc string
	new func() Detector
}

// detectors is the registry of named detectors; constructors are pure, so
// the table is a value, not mutable global state.
func detectors() map[string]detectorInfo {
	return map[string]detectorInfo{
		"ensemble": {"default: seasonal, AR, contextual, window and changepoint evidence, each calibrated per series, with a rest period after an alarm and a higher bar for a series that alarmed often this week",
			func() Detector { return NewEnsemble(EnsembleConfig{}) }},
		"seasonal": {"Holt-Winters-style level + daily/weekly profile from the timestamps, robust residual scoring",
			func() Detector { return NewSeasonal(SeasonalConfig{}) }},
		"ar": {"AR(p) one-step predictor fitted online (recursive least squares), scored by its prediction interval",
			func() Detector { return NewAR(ARConfig{}) }},
		"context": {"Markov model over quantised values: how improbable a value is after the recent ones",
			func() Detector { return NewContext(ContextConfig{}) }},
		"prophet": {"Prophet-style additive model (piecewise-linear trend with changepoints + Fourier daily/weekly seasonality, MAP fit), refitted on the past every 144 points, scored by its prediction interval",
			func() Detector { return NewProphet(ProphetConfig{}) }},
		"bocpd": {"Bayesian online changepoint detection (Adams & MacKay) for level shifts",
			func() Detector { return NewBOCPD(BOCPDConfig{}) }},
		"countshift": {"level shifts in small counts: the last 14 days' sum against the 8 weeks before, negative-binomial tail with robust overdispersion",
			func() Detector { return NewCountShift(CountShiftConfig{}) }},
		CountsDetector: {"count metrics at day grain (the key-metric default): countshift under 30 a day, else the higher of countshift and the ensemble",
			func() Detector { return NewCounts() }},
	}
}

// NewDetector returns a fresh detector by name ("" is DefaultDetector).
func NewDetector(name string) (Detector, error) {
	if name == "" {
		name = DefaultDetector
	}
	d, ok := detectors()[name]
	if !ok {
		return nil, fmt.Errorf("anomaly: unknown detector %q; use one of %s", name, strings.Join(DetectorNames(), ", "))
	}
	return d.new(), nil
}

// DetectorNames lists the registered detectors, sorted.
func DetectorNames() []string {
	var names []string
	for n := range detectors() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// DetectorDoc is the one-line description of a registered detector.
func DetectorDoc(name string) string { return detectors()[name].doc }
