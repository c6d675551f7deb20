package alerts

import "time"

// State is where one series of a rule is.
type State string

// The states (Grafana's alert states).
const (
	StateNormal     State = "NORMAL"
	StatePending    State = "PENDING"
	StateFiring     State = "FIRING"
	StateRecovering State = "RECOVERING"
	StateNoData     State = "NO_DATA"
	StateError      State = "ERROR"
)

// Outcome is what one evaluation of one series found.
type Outcome int

// The outcomes.
const (
	OutcomeOK     Outcome = iota // the condition does not hold
	OutcomeBreach                // the condition holds
	OutcomeNoData                // the bucket has no value
	OutcomeError                 // the evaluation failed
)

// Event names the outgoing event a transition causes.
type Event string

// The events of transitions; EventNone for the others.
const (
	EventNone      Event = ""
	EventTriggered Event = "triggered"
	EventResolved  Event = "resolved"
)

// Policy is the part of a rule the state machine reads.
type Policy struct {
	For           time.Duration
	KeepFiringFor time.Duration
	NoData        Treatment // empty means TreatAsNoData
	OnError       Treatment // empty means TreatAsError
}

// SeriesState is the machine's memory of one series (table alert_states).
type SeriesState struct {
	State State
	// Since is when the series entered State (PENDING: the first breach;
	// RECOVERING: when the condition cleared).
	Since time.Time
	// FiredBucket is the bucket of the transition to FIRING of the current
	// alert (zero when not FIRING or RECOVERING).
	FiredBucket time.Time
}

// Transition is a change of state found by Step.
type Transition struct {
	From, To State
	Event    Event
}

// Step is the state machine: it moves prev by one evaluation with outcome
// at now (the injected clock) and says which event, if any, that causes.
// It is pure: the same input always gives the same output.
//
//	NORMAL|NO_DATA|ERROR --breach--> PENDING (For > 0) or FIRING (triggered)
//	PENDING --breach, held >= For--> FIRING (triggered)
//	PENDING --ok--> NORMAL
//	FIRING  --ok--> RECOVERING (KeepFiringFor > 0) or NORMAL (resolved)
//	RECOVERING --ok, for >= KeepFiringFor--> NORMAL (resolved)
//	RECOVERING --breach--> FIRING (no event: the alert never resolved)
//	any --no data / error (treatment NO_DATA / ERROR)--> NO_DATA / ERROR
//	    (resolved when it leaves FIRING or RECOVERING)
//
// A no-data or error outcome treated ALERTING is a breach, OK is ok, and
// KEEP_LAST leaves the series as it is.
func Step(p Policy, prev SeriesState, outcome Outcome, bucket, now time.Time) (SeriesState, Transition) {
	if prev.State == "" {
		prev.State = StateNormal
	}
	switch outcome {
	case OutcomeNoData:
		return treat(p, prev, orDefault(p.NoData, TreatAsNoData), StateNoData, bucket, now)
	case OutcomeError:
		return treat(p, prev, orDefault(p.OnError, TreatAsError), StateError, bucket, now)
	case OutcomeBreach:
		return breach(p, prev, bucket, now)
	default:
		return calm(p, prev, now)
	}
}

// treat applies a NO_DATA or ERROR treatment; own is the state the
// treatment NO_DATA / ERROR moves to.
func treat(p Policy, prev SeriesState, t Treatment, own State, bucket, now time.Time) (SeriesState, Transition) {
	switch t {
	case TreatAlerting:
		return breach(p, prev, bucket, now)
	case TreatOK:
		return calm(p, prev, now)
	case TreatKeepLast:
		return prev, Transition{From: prev.State, To: prev.State}
	}
	if prev.State == own {
		return prev, Transition{From: own, To: own}
	}
	ev := EventNone
	if prev.State == StateFiring || prev.State == StateRecovering {
		ev = EventResolved
	}
	return SeriesState{State: own, Since: now}, Transition{From: prev.State, To: own, Event: ev}
}

func breach(p Policy, prev SeriesState, bucket, now time.Time) (SeriesState, Transition) {
	switch prev.State {
	case StateFiring:
		return prev, Transition{From: StateFiring, To: StateFiring}
	case StateRecovering:
		return SeriesState{State: StateFiring, Since: now, FiredBucket: prev.FiredBucket}, Transition{From: StateRecovering, To: StateFiring}
	case StatePending:
		if now.Sub(prev.Since) >= p.For {
			return fire(prev.State, bucket, now)
		}
		return prev, Transition{From: StatePending, To: StatePending}
	}
	if p.For <= 0 {
		return fire(prev.State, bucket, now)
	}
	return SeriesState{State: StatePending, Since: now}, Transition{From: prev.State, To: StatePending}
}

func fire(from State, bucket, now time.Time) (SeriesState, Transition) {
	return SeriesState{State: StateFiring, Since: now, FiredBucket: bucket}, Transition{From: from, To: StateFiring, Event: EventTriggered}
}

func calm(p Policy, prev SeriesState, now time.Time) (SeriesState, Transition) {
	switch prev.State {
	case StateNormal:
		return prev, Transition{From: StateNormal, To: StateNormal}
	case StateFiring:
		if p.KeepFiringFor > 0 {
			return SeriesState{State: StateRecovering, Since: now, FiredBucket: prev.FiredBucket}, Transition{From: StateFiring, To: StateRecovering}
		}
		return SeriesState{State: StateNormal, Since: now}, Transition{From: StateFiring, To: StateNormal, Event: EventResolved}
	case StateRecovering:
		if now.Sub(prev.Since) >= p.KeepFiringFor {
			return SeriesState{State: StateNormal, Since: now}, Transition{From: StateRecovering, To: StateNormal, Event: EventResolved}
		}
		return prev, Transition{From: StateRecovering, To: StateRecovering}
	}
	return SeriesState{State: StateNormal, Since: now}, Transition{From: prev.State, To: StateNormal}
}

func orDefault(t, def Treatment) Treatment {
	if t == "" {
		return def
	}
	return t
}
