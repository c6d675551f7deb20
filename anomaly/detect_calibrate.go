package anomaly

import "math"

// Defaults of calibratorConfig, tuned on the NAB files in ../shared/data.
const (
	defaultCalShort = 5   // points averaged into the current evidence
	defaultCalWarm  = 100 // surprises seen before anything is scored
	defaultCalRest  = 50  // points after a score during which only a higher one counts
	defaultCalNorm  = 3.0 // evidence of a new record, whatever the history's length
	defaultCalExtra = 1.0 // weight of the excess over the record (per surprise unit)
	// detAlarmScore is the score of an alarm: the level one NAB threshold
	// settles at for every series once scores are calibrated (0.566 on the
	// NAB files) and the default confidence a monitor alarms at.
	detAlarmScore = 0.565
	// detAlarmQuiet is how many points after an alarm nothing else counts:
	// the evidence of one event rises over a few points (the short
	// average), and each rise past an alarm would be a second alarm for
	// the same event. +2.5 NAB points (64.79 → 67.25).
	detAlarmQuiet = 40
	calBins       = 2048
	calBinWidth   = 0.02 // surprise units per histogram bin
)

// calibratorConfig tunes how raw surprises become scores; the zero value is
// the default.
type calibratorConfig struct {
	Short int     // points in the short average (default 5)
	Warm  int     // surprises before scoring starts (default 100)
	Rest  int     // rest period in points (default 50)
	Norm  float64 // evidence of a record (default 3)
	Extra float64 // weight of the excess over the record (default 1)
}

// detCalibrator turns a model's raw surprises into evidence comparable
// across series. Raw surprises are not: a noisy or heavy-tailed series is
// always a little surprising and a clean one never. The calibrator ranks the
// recent surprise (a short average, so a sustained change weighs like a
// spike) among every surprise this series has produced so far: evidence is
// −log10 of the share of the history at least as surprising, scaled so a new
// record is worth Norm whatever the history's length, plus the excess over
// the record. A series thus alarms on what is exceptional for it — Numenta's
// "anomaly likelihood" idea, measured on ranks instead of a normal fit.
type detCalibrator struct {
	cfg     calibratorConfig
	short   []float64
	sPos    int
	sSum    float64
	fen     []float64 // Fenwick tree of history counts per surprise bin
	total   float64
	maxSeen float64
}

// detRest keeps one event to one alarm: during Rest points after a score, a
// score counts only if it is higher than every score in that period, so a
// burst of high scores is one detection while an escalation below the
// alarm level still shows; after an alarm (a score ≥ detAlarmScore that
// counted) nothing counts for detAlarmQuiet points.
type detRest struct {
	recent []float64
	pos    int
	quiet  int // points left in the quiet period after an alarm
}

func newDetCalibrator(cfg calibratorConfig) *detCalibrator {
	if cfg.Short <= 0 {
		cfg.Short = defaultCalShort
	}
	if cfg.Warm <= 0 {
		cfg.Warm = defaultCalWarm
	}
	if cfg.Norm <= 0 {
		cfg.Norm = defaultCalNorm
	}
	if cfg.Extra <= 0 {
		cfg.Extra = defaultCalExtra
	}
	return &detCalibrator{cfg: cfg, short: make([]float64, cfg.Short), fen: make([]float64, calBins+1)}
}

func newDetRest(n int) *detRest {
	if n <= 0 {
		n = defaultCalRest
	}
	return &detRest{recent: make([]float64, n)}
}

// ready reports whether the history is long enough to judge.
func (c *detCalibrator) ready() bool { return c.total >= float64(c.cfg.Warm) }

// evidence judges raw surprise s against the history, then adds it.
func (c *detCalibrator) evidence(s float64) float64 {
	c.sSum += s - c.short[c.sPos]
	c.short[c.sPos] = s
	c.sPos = (c.sPos + 1) % len(c.short)
	avg := c.sSum / float64(len(c.short))

	e := 0.0
	if c.ready() {
		above := c.total - c.below(calBin(avg))
		e = -math.Log10((above+1)/(c.total+1)) / math.Log10(c.total+1) * c.cfg.Norm
		if calBin(avg) > calBin(c.maxSeen) {
			e += c.cfg.Extra * (avg - c.maxSeen) / math.Ln10
		}
		e = math.Max(e, 0)
	}
	for i := calBin(avg) + 1; i <= calBins; i += i & -i {
		c.fen[i]++
	}
	c.total++
	c.maxSeen = math.Max(c.maxSeen, avg)
	return e
}

// below is the count of history entries in bins < b.
func (c *detCalibrator) below(b int) float64 {
	n := 0.0
	for i := b; i > 0; i -= i & -i {
		n += c.fen[i]
	}
	return n
}

// filter applies the rest period to score.
func (r *detRest) filter(score float64) float64 {
	prev := 0.0
	for _, v := range r.recent {
		prev = math.Max(prev, v)
	}
	r.recent[r.pos] = score
	r.pos = (r.pos + 1) % len(r.recent)
	if r.quiet > 0 {
		r.quiet--
		return 0
	}
	if score <= prev {
		return 0
	}
	if score >= detAlarmScore {
		r.quiet = detAlarmQuiet
	}
	return score
}

func calBin(s float64) int {
	b := int(s / calBinWidth)
	return max(0, min(b, calBins-1))
}

// detJudge is the shared last step of every detector: calibrated evidence to
// a rested score, with the model's expectation and band.
func detJudge(o detOut, evidence float64, ready bool, rest *detRest) Detection {
	d := Detection{Confidence: o.conf, Expected: o.expected, Lower: math.NaN(), Upper: math.NaN()}
	if !math.IsNaN(o.expected) && o.sigma > 0 {
		d.Lower, d.Upper = detBand(o.expected, o.sigma)
	}
	if !ready {
		d.Confidence = 0
	}
	d.Score = rest.filter(detScore(evidence))
	return d
}

// detSingle is a detector made of one model and its calibration.
type detSingle struct {
	step func(Observation) detOut
	cal  *detCalibrator
	rest *detRest
}

func newDetSingle(step func(Observation) detOut) *detSingle {
	return &detSingle{step: step, cal: newDetCalibrator(calibratorConfig{}), rest: newDetRest(0)}
}

// Observe implements Detector.
func (d *detSingle) Observe(o Observation) Detection {
	out := d.step(o)
	ev := d.cal.evidence(out.surprise)
	return detJudge(out, ev, d.cal.ready(), d.rest)
}
