package journeys

import (
	"fmt"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// funnelOp names the operation of funnel errors.
const funnelOp = "journeys.funnel"

// maxExclusions bounds the exclusions of a funnel (each takes a mask bit).
const maxExclusions = 20

// exclusionBit is the mask bit of the first exclusion; steps use bits 0–19.
const exclusionBit = 20

// Order is how a funnel's steps must follow one another.
type Order string

// The funnel orders (semantics in docs/ARCHITECTURE.md, "Journeys").
const (
	// Ordered: each step at or after the previous one; other events may
	// happen in between.
	Ordered Order = "ORDERED"
	// Strict: each step is the user's very next event after the previous
	// step (any event type in between breaks the attempt).
	Strict Order = "STRICT"
	// Unordered: the steps in any order inside one conversion window.
	Unordered Order = "UNORDERED"
)

// StepReference is what a step's headline conversion is relative to.
type StepReference string

// The step references.
const (
	RefTotal    StepReference = "TOTAL"    // the first step
	RefPrevious StepReference = "PREVIOUS" // the step before
)

// Attribution picks which of a user's events gives their breakdown value.
type Attribution string

// The attributions.
const (
	FirstTouch Attribution = "FIRST_TOUCH" // the user's first step-1 event in the range
	LastTouch  Attribution = "LAST_TOUCH"  // the event of the furthest step the user reached
	StepTouch  Attribution = "STEP"        // the event of Breakdown.Step; users not reaching it have no value ("")
)

// Step is one funnel step.
type Step struct {
	Matcher
	Label string // shown instead of the event type; empty means the event type
}

// Exclusion ends a user's attempt when its event happens after step From
// and before step To of that attempt (1-based, From < To).
type Exclusion struct {
	Matcher
	From, To int
}

// Breakdown splits a funnel by an event property.
type Breakdown struct {
	Property    string
	Attribution Attribution // empty means FirstTouch
	Step        int         // the step of StepTouch (1-based)
	TopN        int         // values shown before "other"; 0 means DefaultTopN
}

// FunnelRequest is a funnel query.
type FunnelRequest struct {
	Steps            []Step
	ConversionWindow time.Duration // from a user's first step to their last; > 0
	Order            Order         // empty means Ordered
	TimeRange        timerange.Spec
	TimeZone         string // IANA zone for trend buckets; empty means UTC
	Breakdown        *Breakdown
	Exclusions       []Exclusion
	Cohorts          []string      // only users in any of these cohorts
	StepReference    StepReference // empty means RefTotal
}

// StepResult is one funnel step's numbers.
type StepResult struct {
	Step      int // 1-based
	Label     string
	EventType string
	// Entered is how many users reached this step.
	Entered int64
	// Converted is how many went on to the next step (the last step: Entered).
	Converted int64
	// ConversionFromFirst and ConversionFromPrevious are Entered over the
	// first and the previous step's Entered (1 for the first step, 0 when
	// the base is 0); Conversion is the one StepReference picks.
	ConversionFromFirst, ConversionFromPrevious, Conversion float64
	// DropOff is how many users reached the previous step but not this one.
	DropOff     int64
	DropOffRate float64
	// MedianTimeToConvert and P90TimeToConvert are from the previous step
	// to this one, over the users who reached it (nil for the first step,
	// for unordered funnels and when nobody reached it).
	MedianTimeToConvert, P90TimeToConvert *time.Duration
}

// FunnelBreakdown is the funnel of the users with one breakdown value.
type FunnelBreakdown struct {
	Value string // OtherValue gathers the values after the top N; "" is "no value"
	Other bool   // true for the group of the values after the top N
	Steps []StepResult
}

// FunnelResult is a funnel's answer.
type FunnelResult struct {
	Steps      []StepResult
	Breakdowns []FunnelBreakdown // top N by entered users, then other; empty without breakdown
}

// funnelPlan is a checked FunnelRequest with its window resolved.
type funnelPlan struct {
	FunnelRequest
	rng     timerange.Range
	loc     *time.Location
	topN    int
	keyBits int // see Service.keyBits
}

// checkFunnel validates r and resolves its time range against now.
func checkFunnel(r FunnelRequest, now time.Time) (*funnelPlan, error) {
	p := &funnelPlan{FunnelRequest: r}
	switch n := len(r.Steps); {
	case n < 2:
		return nil, errs.Invalid(funnelOp, "steps", fmt.Sprintf("steps: a funnel needs at least 2 steps, got %d", n))
	case n > MaxSteps:
		return nil, errs.Invalid(funnelOp, "steps", fmt.Sprintf("steps: at most %d steps, got %d", MaxSteps, n))
	}
	for i, s := range r.Steps {
		if err := checkMatcher(funnelOp, s.Matcher, fmt.Sprintf("steps[%d]", i)); err != nil {
			return nil, err
		}
	}
	if r.ConversionWindow <= 0 {
		return nil, errs.Invalid(funnelOp, "conversionWindow", fmt.Sprintf("conversionWindow must be positive (e.g. 14d), got %s", r.ConversionWindow))
	}
	if r.ConversionWindow > timerange.MaxLast {
		return nil, errs.Invalid(funnelOp, "conversionWindow", fmt.Sprintf("conversionWindow must be at most %s", timerange.MaxLast))
	}
	if err := oneOf(funnelOp, "order", &p.Order, Ordered, Strict, Unordered); err != nil {
		return nil, err
	}
	if err := oneOf(funnelOp, "stepReference", &p.StepReference, RefTotal, RefPrevious); err != nil {
		return nil, err
	}
	if len(r.Exclusions) > maxExclusions {
		return nil, errs.Invalid(funnelOp, "exclusions", fmt.Sprintf("exclusions: at most %d, got %d", maxExclusions, len(r.Exclusions)))
	}
	if len(r.Exclusions) > 0 && p.Order == Unordered {
		return nil, errs.Invalid(funnelOp, "exclusions", "exclusions need an ORDERED or STRICT funnel: an unordered funnel has no \"between steps\"")
	}
	for i, x := range r.Exclusions {
		f := fmt.Sprintf("exclusions[%d]", i)
		if err := checkMatcher(funnelOp, x.Matcher, f); err != nil {
			return nil, err
		}
		if x.From < 1 || x.To <= x.From || x.To > len(r.Steps) {
			return nil, errs.Invalid(funnelOp, f+".betweenSteps", fmt.Sprintf("%s.betweenSteps: from %d to %d must satisfy 1 ≤ from < to ≤ %d (the step count)", f, x.From, x.To, len(r.Steps)))
		}
	}
	if b := r.Breakdown; b != nil {
		bb := *b
		if err := checkProperty(funnelOp, b.Property, "breakdown.property"); err != nil {
			return nil, err
		}
		switch b.Attribution {
		case "":
			bb.Attribution = FirstTouch
		case FirstTouch, LastTouch:
		case StepTouch:
			if b.Step < 1 || b.Step > len(r.Steps) {
				return nil, errs.Invalid(funnelOp, "breakdown.step", fmt.Sprintf("breakdown.step %d must be a step number from 1 to %d", b.Step, len(r.Steps)))
			}
		default:
			return nil, errs.Invalid(funnelOp, "breakdown.attribution", fmt.Sprintf("breakdown.attribution %q: use FIRST_TOUCH, LAST_TOUCH or STEP", b.Attribution))
		}
		if p.Order == Unordered && bb.Attribution != FirstTouch {
			return nil, errs.Invalid(funnelOp, "breakdown.attribution", "breakdown.attribution: an UNORDERED funnel has no step order; use FIRST_TOUCH")
		}
		n, err := checkTopN(funnelOp, b.TopN, "breakdown.topN")
		if err != nil {
			return nil, err
		}
		p.topN, p.Breakdown = n, &bb
	}
	if err := checkCohorts(funnelOp, r.Cohorts); err != nil {
		return nil, err
	}
	loc, err := timerange.Location(r.TimeZone, "timeZone")
	if err != nil {
		return nil, err
	}
	p.loc = loc
	rng, err := timerange.ResolveIn(r.TimeRange, now, loc, "timeRange")
	if err != nil {
		return nil, err
	}
	p.rng = rng
	return p, nil
}

// matchers lists the steps' and exclusions' matchers with their field
// names, for the known-type check.
func (p *funnelPlan) matchers() ([]Matcher, []string) {
	var ms []Matcher
	var fields []string
	for i, s := range p.Steps {
		ms, fields = append(ms, s.Matcher), append(fields, fmt.Sprintf("steps[%d]", i))
	}
	for i, x := range p.Exclusions {
		ms, fields = append(ms, x.Matcher), append(fields, fmt.Sprintf("exclusions[%d]", i))
	}
	return ms, fields
}

// killMask is the exclusion bits that end an attempt standing at step k
// (1-based): the exclusions with From ≤ k < To, exclusion i at bit first+i.
func (p *funnelPlan) killMask(k, first int) uint64 {
	var m uint64
	for i, x := range p.Exclusions {
		if x.From <= k && k < x.To {
			m |= 1 << (first + i)
		}
	}
	return m
}

// stepMask is the bits of all steps.
func (p *funnelPlan) stepMask() uint64 { return 1<<len(p.Steps) - 1 }
