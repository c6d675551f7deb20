package alerts

import (
	"context"
	"fmt"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// MaxSimulationBuckets bounds a backtest.
const MaxSimulationBuckets = 1000

// Simulation is a backtest of a rule: what the state machine would have
// done on every bucket of a range, as PostHog's alert simulation.
type Simulation struct {
	// Entries are the evaluations, oldest bucket first.
	Entries []HistoryEntry
	// Events are the transitions that would have been announced.
	Events []*EventPayload
	// FiredBuckets are the buckets in which some series went FIRING.
	FiredBuckets []time.Time
}

// Simulate runs the state machine for a rule that is not stored, over
// every completed bucket of spec (resolved at now), from an empty state,
// with the caller's tenant's data. Nothing is written, published or sent.
func (s *Service) Simulate(ctx context.Context, in Input, spec timerange.Spec) (*Simulation, error) {
	const op = "alerts.Simulate"
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.validate(ctx, op, &in); err != nil {
		return nil, err
	}
	rng, err := timerange.Resolve(spec, s.cfg.Now(), "timeRange")
	if err != nil {
		return nil, err
	}
	// Only completed buckets: the last one may still be filling.
	_, complete := LatestBucket(in.Grain, s.cfg.Now())
	if rng.To.After(complete) {
		rng.To = complete
	}
	buckets, err := timerange.Buckets(rng, in.Grain, time.UTC, "timeRange")
	if err != nil {
		return nil, err
	}
	if len(buckets) > MaxSimulationBuckets {
		return nil, errs.Invalid(op, "timeRange", fmt.Sprintf("a simulation covers at most %d buckets; this range has %d at grain %s", MaxSimulationBuckets, len(buckets), in.Grain))
	}
	out := &Simulation{Entries: []HistoryEntry{}, Events: []*EventPayload{}, FiredBuckets: []time.Time{}}
	if len(buckets) == 0 {
		return out, nil
	}
	rule := &Rule{ID: "simulation", Tenant: scope.Tenant(), Input: in}
	from, to := buckets[0], in.Grain.Next(buckets[len(buckets)-1])
	byBucket, err := s.observe(ctx, rule, from, to)
	if err != nil {
		return nil, err
	}
	states := map[string]*storedState{}
	for _, b := range buckets {
		next, hist, events := step(rule, states, byBucket[b], nil, b, in.Grain.Next(b))
		for _, st := range next {
			states[st.Key] = st
		}
		out.Entries = append(out.Entries, hist...)
		out.Events = append(out.Events, events...)
		for _, e := range events {
			if e.Event == EventTriggered {
				out.FiredBuckets = append(out.FiredBuckets, b)
				break
			}
		}
	}
	return out, nil
}
