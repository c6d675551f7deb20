package anomaly

import (
	"math"
	"sort"
)

// Defaults of ContextConfig.
const (
	defaultContextBins  = 12  // bins across the learned typical range
	defaultContextOrder = 2   // previous symbols that form the context
	defaultContextLearn = 200 // points before the bin width is fixed
	contextPrior        = 0.5 // Krichevsky–Trofimov pseudo-count
)

// ContextConfig tunes the contextual detector; the zero value is the default.
type ContextConfig struct {
	// Bins is how many bins span the typical range of the first points.
	Bins int
	// Order is how many previous symbols form the context.
	Order int
}

// contextModel is a Markov model over quantised values, in the
// spirit of NAB's contextual detectors (CAD OSE, ARTime): a point is
// anomalous when its quantised value is improbable after the recent
// quantised values, given every transition seen so far. The bin width is
// fixed from the first points' typical range (never from the whole series),
// and bins are unbounded, so a value far outside the known range is a symbol
// never seen: maximal novelty.
type contextModel struct {
	cfg    ContextConfig
	n      int
	learn  []float64
	width  float64
	origin float64
	hist   []int64
	counts map[[4]int64]float64 // (context…, symbol) → count
	totals map[[4]int64]float64 // context → count
	syms   map[int64]bool
}

// Context is the contextual (Markov) detector.
type Context struct{ *detSingle }

// NewContext returns a contextual detector.
func NewContext(cfg ContextConfig) *Context {
	return &Context{newDetSingle(newContextModel(cfg).step)}
}

func newContextModel(cfg ContextConfig) *contextModel {
	if cfg.Bins <= 0 {
		cfg.Bins = defaultContextBins
	}
	if cfg.Order <= 0 || cfg.Order > 3 {
		cfg.Order = defaultContextOrder
	}
	return &contextModel{cfg: cfg, counts: map[[4]int64]float64{}, totals: map[[4]int64]float64{}, syms: map[int64]bool{}}
}

func (m *contextModel) step(o Observation) detOut {
	x := o.Value
	m.n++
	out := detOut{expected: math.NaN(), conf: detWarm(m.n, 4*defaultContextLearn)}
	if m.width == 0 {
		m.learn = append(m.learn, x)
		if len(m.learn) < defaultContextLearn {
			return out
		}
		lo, hi := detQuantile(m.learn, 0.02), detQuantile(m.learn, 0.98)
		m.origin = lo
		m.width = (hi - lo) / float64(m.cfg.Bins)
		if m.width <= 0 {
			m.width = 1e-6*math.Abs(lo) + 1e-9
		}
		for _, v := range m.learn {
			m.fold(m.symbol(v), false)
		}
		m.learn = nil
		return out
	}
	out.surprise = m.fold(m.symbol(x), true)
	return out
}

func (m *contextModel) symbol(x float64) int64 {
	return int64(math.Floor((x - m.origin) / m.width))
}

// fold returns −log10 P(sym | context) under the counts so far, then counts
// the transition.
func (m *contextModel) fold(sym int64, judge bool) float64 {
	s := 0.0
	if len(m.hist) >= m.cfg.Order {
		var ctx [4]int64
		ctx[0] = int64(m.cfg.Order)
		copy(ctx[1:], m.hist[len(m.hist)-m.cfg.Order:])
		key := ctx
		key[3] = sym
		if m.cfg.Order == 3 {
			key = [4]int64{ctx[1] ^ 0x5bd1e995, ctx[2], ctx[3], sym}
		}
		k := float64(len(m.syms) + 1)
		if judge {
			p := (m.counts[key] + contextPrior) / (m.totals[ctx] + contextPrior*k)
			s = -math.Log10(p)
		}
		m.counts[key]++
		m.totals[ctx]++
	}
	m.syms[sym] = true
	m.hist = append(m.hist, sym)
	if len(m.hist) > 8 {
		m.hist = append(m.hist[:0], m.hist[len(m.hist)-m.cfg.Order:]...)
	}
	return s
}

// detQuantile is the q-quantile of xs (xs is not modified).
func detQuantile(xs []float64, q float64) float64 {
	c := append([]float64(nil), xs...)
	sort.Float64s(c)
	i := int(q * float64(len(c)-1))
	return c[i]
}
