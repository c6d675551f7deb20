package anomaly

import "math"

// EnsembleConfig tunes the default detector; the zero value is the default.
type EnsembleConfig struct {
	Seasonal SeasonalConfig
	AR       ARConfig
	Context  ContextConfig
	// BOCPD is used only when Changepoint is set.
	BOCPD BOCPDConfig
	// Changepoint adds the BOCPD model's evidence (off by default: on the
	// NAB files it added false alarms on daily steps that the seasonal
	// model explains).
	Changepoint bool
	cal         calibratorConfig
}

// Ensemble is the default detector. It runs the seasonal, AR and contextual
// models side by side on each point, calibrates each model's surprise
// against that model's own history on this series, and adds the evidence:
// a point several models find exceptional outranks one only a single model
// does. A rest period turns a burst into one alarm.
type Ensemble struct {
	seas *seasonal
	ar   *arModel
	ctx  *contextModel
	cp   *bocpdModel // nil unless configured
	cals [4]*detCalibrator
	rest *detRest
}

// NewEnsemble returns the default detector.
func NewEnsemble(cfg EnsembleConfig) *Ensemble {
	e := &Ensemble{
		seas: newSeasonal(cfg.Seasonal),
		ar:   newARModel(cfg.AR),
		ctx:  newContextModel(cfg.Context),
		rest: newDetRest(cfg.cal.Rest),
	}
	if cfg.Changepoint {
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
	ev := e.cals[0].evidence(s.surprise)
	ev += e.cals[1].evidence(e.ar.step(o).surprise)
	ev += e.cals[2].evidence(e.ctx.step(o).surprise)
	if e.cp != nil {
		ev += e.cals[3].evidence(e.cp.step(o).surprise)
	}
	return detJudge(s, math.Max(ev, 0), e.cals[0].ready(), e.rest)
}
