package anomaly

import "math"

// Weights of each model's calibrated evidence in the ensemble, set once on
// the NAB files (the same on every series): the contextual model's novelty
// is the most specific evidence, the seasonal and window models mostly
// confirm what another model already sees.
const (
	ensembleWSeasonal = 0.5
	ensembleWAR       = 1.0
	ensembleWContext  = 1.5
	ensembleWWindow   = 0.5
	ensembleWChange   = 0.5
	ensembleWindow    = 8 // points summarised by the window model
)

// EnsembleConfig tunes the default detector; the zero value is the default.
type EnsembleConfig struct {
	Seasonal SeasonalConfig
	AR       ARConfig
	Context  ContextConfig
	// BOCPD is used unless NoChangepoint is set.
	BOCPD BOCPDConfig
	// NoChangepoint drops the BOCPD model's evidence (most of the
	// ensemble's time). At half weight it adds 1.4 NAB points: level
	// shifts the seasonal model absorbs within a day still show as a
	// collapse of the run length.
	NoChangepoint bool
	cal           calibratorConfig
}

// Ensemble is the default detector. It runs the seasonal, AR, contextual,
// window and changepoint models side by side on each point, calibrates each model's surprise
// against that model's own history on this series, and adds the weighted evidence:
// a point several models find exceptional outranks one only a single model
// does. A rest period turns a burst into one alarm, and a series that keeps
// alarming needs a little more evidence for each further alarm (detGovernor).
type Ensemble struct {
	seas *seasonal
	ar   *arModel
	ctx  *contextModel
	win  *windowModel
	cp   *bocpdModel // nil unless configured
	cals [5]*detCalibrator
	rest *detRest
	rec  *detRecurrence
	gov  *detGovernor
}

// NewEnsemble returns the default detector.
func NewEnsemble(cfg EnsembleConfig) *Ensemble {
	e := &Ensemble{
		seas: newSeasonal(cfg.Seasonal),
		ar:   newARModel(cfg.AR),
		ctx:  newContextModel(cfg.Context),
		win:  newWindowModel(ensembleWindow),
		rest: newDetRest(cfg.cal.Rest),
		rec:  &detRecurrence{},
		gov:  &detGovernor{},
	}
	if !cfg.NoChangepoint {
		e.cp = newBOCPDModel(cfg.BOCPD)
	}
	for i := range e.cals {
		e.cals[i] = newDetCalibrator(cfg.cal)
	}
	return e
}

// Observe implements Detector.
func (e *Ensemble) Observe(o Observation) Detection {
	s := e.seas.step(o)
	ev := ensembleWSeasonal * e.cals[0].evidence(s.surprise)
	ev += ensembleWAR * e.cals[1].evidence(e.ar.step(o).surprise)
	ev += ensembleWContext * e.cals[2].evidence(e.ctx.step(o).surprise)
	ev += ensembleWWindow * e.cals[3].evidence(e.win.step(o).surprise)
	if e.cp != nil {
		ev += ensembleWChange * e.cals[4].evidence(e.cp.step(o).surprise)
	}
	ev = e.rec.discount(o.Time, math.Max(ev, 0))
	ev = e.gov.damp(o.Time, ev)
	d := detJudge(s, ev, e.cals[0].ready(), e.rest)
	e.gov.record(o.Time, d.Score)
	return d
}
