package anomaly

import (
	"slices"
	"strings"
)

// ensembleMembers are the models the default forecaster combines.
func ensembleMembers() []string { return []string{ModelMSTL, ModelETS, ModelARIMA} }

// ensemble is the per-step median of its members' means, with the median
// of their standard deviations.
type ensemble struct {
	members []Fitted
}

func fitEnsemble(y []float64, seasons []int) *ensemble {
	e := &ensemble{}
	for _, name := range ensembleMembers() {
		var f Fitted
		switch name {
		case ModelMSTL:
			f = fitMSTL(y, seasons)
		case ModelETS:
			f = fitETSAuto(y, usableSeason(seasons, len(y)))
		case ModelARIMA:
			f = fitARIMAAuto(y, usableSeason(seasons, len(y)))
		case ModelTheta:
			f = fitTheta(y, usableSeason(seasons, len(y)))
		}
		e.members = append(e.members, f)
	}
	return e
}

func (e *ensemble) Name() string {
	names := make([]string, len(e.members))
	for i, m := range e.members {
		names[i] = m.Name()
	}
	return ModelEnsemble + "(" + strings.Join(names, "+") + ")"
}

func (e *ensemble) Predict(h int) (mean, sd []float64) {
	means := make([][]float64, len(e.members))
	sds := make([][]float64, len(e.members))
	for i, m := range e.members {
		means[i], sds[i] = m.Predict(h)
	}
	mean = make([]float64, h)
	sd = make([]float64, h)
	col := make([]float64, len(e.members))
	for k := range h {
		for i := range e.members {
			col[i] = means[i][k]
		}
		mean[k] = median(col)
		for i := range e.members {
			col[i] = sds[i][k]
		}
		sd[k] = median(col)
	}
	return mean, sd
}

func (e *ensemble) Observe(y float64) {
	for _, m := range e.members {
		m.Observe(y)
	}
}

// median of x (x is reordered).
func median(x []float64) float64 {
	slices.Sort(x)
	n := len(x)
	if n%2 == 1 {
		return x[n/2]
	}
	return (x[n/2-1] + x[n/2]) / 2
}
