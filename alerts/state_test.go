package alerts_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/learnhub/analytics-service/alerts"
)

// TestStep covers every transition of the state machine with an injected
// clock: t0 is when the previous state began, now is the evaluation.
func TestStep(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	bucket := time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
	fired := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	st := func(s alerts.State) alerts.SeriesState { return alerts.SeriesState{State: s, Since: t0} }
	firing := func(s alerts.State) alerts.SeriesState {
		return alerts.SeriesState{State: s, Since: t0, FiredBucket: fired}
	}
	noFor := alerts.Policy{}
	for10 := alerts.Policy{For: 10 * time.Minute, KeepFiringFor: 30 * time.Minute}
	treat := func(noData, onErr alerts.Treatment) alerts.Policy {
		return alerts.Policy{NoData: noData, OnError: onErr}
	}
	const (
		ok     = alerts.OutcomeOK
		breach = alerts.OutcomeBreach
		noData = alerts.OutcomeNoData
		failed = alerts.OutcomeError
	)
	N, P, F, R := alerts.StateNormal, alerts.StatePending, alerts.StateFiring, alerts.StateRecovering
	ND, E := alerts.StateNoData, alerts.StateError
	trig, res, none := alerts.EventTriggered, alerts.EventResolved, alerts.EventNone

	cases := []struct {
		name    string
		policy  alerts.Policy
		prev    alerts.SeriesState
		outcome alerts.Outcome
		after   time.Duration // now = t0 + after
		want    alerts.State
		event   alerts.Event
		since   time.Duration // want Since = t0 + since; -1 means now
		fired   time.Time     // want FiredBucket
	}{
		{"new series ok stays normal", noFor, alerts.SeriesState{}, ok, time.Minute, N, none, -1, time.Time{}},
		{"normal ok stays normal", noFor, st(N), ok, time.Minute, N, none, 0, time.Time{}},
		{"normal breach without for fires", noFor, st(N), breach, time.Minute, F, trig, -1, bucket},
		{"normal breach with for pends", for10, st(N), breach, time.Minute, P, none, -1, time.Time{}},
		{"pending breach held less than for stays pending", for10, st(P), breach, 9 * time.Minute, P, none, 0, time.Time{}},
		{"pending breach held for fires", for10, st(P), breach, 10 * time.Minute, F, trig, -1, bucket},
		{"pending ok returns to normal", for10, st(P), ok, 5 * time.Minute, N, none, -1, time.Time{}},
		{"firing breach stays firing", for10, firing(F), breach, time.Hour, F, none, 0, fired},
		{"firing ok without keep-firing resolves", noFor, firing(F), ok, time.Hour, N, res, -1, time.Time{}},
		{"firing ok with keep-firing recovers", for10, firing(F), ok, time.Hour, R, none, -1, fired},
		{"recovering ok within keep-firing stays", for10, firing(R), ok, 29 * time.Minute, R, none, 0, fired},
		{"recovering ok after keep-firing resolves", for10, firing(R), ok, 30 * time.Minute, N, res, -1, time.Time{}},
		{"recovering breach fires again without event", for10, firing(R), breach, 5 * time.Minute, F, none, -1, fired},
		{"normal no data goes to NO_DATA", noFor, st(N), noData, time.Minute, ND, none, -1, time.Time{}},
		{"NO_DATA no data stays", noFor, st(ND), noData, time.Hour, ND, none, 0, time.Time{}},
		{"NO_DATA ok returns to normal", noFor, st(ND), ok, time.Hour, N, none, -1, time.Time{}},
		{"NO_DATA breach fires", noFor, st(ND), breach, time.Hour, F, trig, -1, bucket},
		{"firing no data resolves into NO_DATA", noFor, firing(F), noData, time.Hour, ND, res, -1, time.Time{}},
		{"recovering no data resolves into NO_DATA", for10, firing(R), noData, time.Minute, ND, res, -1, time.Time{}},
		{"no data treated alerting fires", treat(alerts.TreatAlerting, ""), st(N), noData, time.Minute, F, trig, -1, bucket},
		{"no data treated ok resolves a firing series", treat(alerts.TreatOK, ""), firing(F), noData, time.Minute, N, res, -1, time.Time{}},
		{"no data treated keep-last keeps firing", treat(alerts.TreatKeepLast, ""), firing(F), noData, time.Minute, F, none, 0, fired},
		{"no data treated keep-last keeps pending", treat(alerts.TreatKeepLast, ""), st(P), noData, time.Minute, P, none, 0, time.Time{}},
		{"normal error goes to ERROR", noFor, st(N), failed, time.Minute, E, none, -1, time.Time{}},
		{"ERROR error stays", noFor, st(E), failed, time.Minute, E, none, 0, time.Time{}},
		{"ERROR ok returns to normal", noFor, st(E), ok, time.Minute, N, none, -1, time.Time{}},
		{"ERROR breach with for pends", for10, st(E), breach, time.Minute, P, none, -1, time.Time{}},
		{"firing error resolves into ERROR", noFor, firing(F), failed, time.Minute, E, res, -1, time.Time{}},
		{"error treated alerting fires", treat("", alerts.TreatAlerting), st(N), failed, time.Minute, F, trig, -1, bucket},
		{"error treated ok keeps normal", treat("", alerts.TreatOK), st(N), failed, time.Minute, N, none, 0, time.Time{}},
		{"error treated keep-last keeps firing", treat("", alerts.TreatKeepLast), firing(F), failed, time.Minute, F, none, 0, fired},
		{"error treated NO_DATA-style default is ERROR from NO_DATA", noFor, st(ND), failed, time.Minute, E, none, -1, time.Time{}},
		{"no data from ERROR goes to NO_DATA", noFor, st(E), noData, time.Minute, ND, none, -1, time.Time{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := t0.Add(c.after)
			next, tr := alerts.Step(c.policy, c.prev, c.outcome, bucket, now)
			assert.Equal(t, c.want, next.State)
			assert.Equal(t, c.event, tr.Event)
			assert.Equal(t, c.want, tr.To)
			from := c.prev.State
			if from == "" {
				from = N
			}
			assert.Equal(t, from, tr.From)
			wantSince := now
			if c.since >= 0 {
				wantSince = t0.Add(c.since)
			}
			if c.prev.State == "" && c.want == N {
				wantSince = time.Time{} // a brand-new normal series keeps its zero Since
			}
			assert.Equal(t, wantSince, next.Since)
			assert.Equal(t, c.fired, next.FiredBucket)
		})
	}
}

// TestStepSequence walks one series through a whole alert with a clock
// advancing an hour per evaluation: it pends, fires once, recovers, fires
// again without a second trigger, and resolves once.
func TestStepSequence(t *testing.T) {
	p := alerts.Policy{For: 2 * time.Hour, KeepFiringFor: 2 * time.Hour}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	outcomes := []alerts.Outcome{alerts.OutcomeOK, alerts.OutcomeBreach, alerts.OutcomeBreach, alerts.OutcomeBreach,
		alerts.OutcomeOK, alerts.OutcomeBreach, alerts.OutcomeOK, alerts.OutcomeOK, alerts.OutcomeOK}
	wantStates := []alerts.State{"NORMAL", "PENDING", "PENDING", "FIRING", "RECOVERING", "FIRING", "RECOVERING", "RECOVERING", "NORMAL"}
	var s alerts.SeriesState
	var events []alerts.Event
	for i, o := range outcomes {
		now := start.Add(time.Duration(i) * time.Hour)
		var tr alerts.Transition
		s, tr = alerts.Step(p, s, o, now, now)
		assert.Equal(t, wantStates[i], s.State, "evaluation %d", i)
		if tr.Event != alerts.EventNone {
			events = append(events, tr.Event)
		}
	}
	assert.Equal(t, []alerts.Event{alerts.EventTriggered, alerts.EventResolved}, events)
}
