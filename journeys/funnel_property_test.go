package journeys_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/metrics/metricstest"
	"github.com/learnhub/analytics-service/timerange"
)

// funnelCases is how many random event sets the funnel property test runs.
const funnelCases = 60

// TestFunnelMatchesReference is the funnel property test: random funnels
// (every order, exclusions, breakdowns with every attribution, filters,
// steps that share an event type) over random event sets with many equal
// timestamps and re-entries give the same answer from the engine as from
// the reference evaluator.
func TestFunnelMatchesReference(t *testing.T) {
	now := t0.Add(24 * time.Hour)
	db, packed := setup(t, now)
	// Every fourth case keeps the time out of the event key (the layout
	// of ranges too long to pack), so both layouts meet the reference.
	tuples := journeys.WithKeyBits(packed, 8)
	rng := rand.New(rand.NewPCG(22, 1))
	var nontrivial, ties int
	for i := range funnelCases {
		tenant := fmt.Sprintf("f%02d", i)
		evs := randomEvents(rng, 10, 24, t0, time.Minute, 25)
		ties += countTies(evs)
		insert(t, db, tenant, evs)
		req := randomFunnel(rng)
		want, err := journeys.FunnelReference(req, now, evs)
		require.NoError(t, err)
		if last := want.Steps[len(want.Steps)-1].Entered; last > 0 && last < want.Steps[0].Entered {
			nontrivial++
		}
		svc := packed
		if i%4 == 1 {
			svc = tuples
		}
		t.Run(tenant, func(t *testing.T) {
			ctx := metricstest.As(tenant)
			got, err := svc.Funnel(ctx, req)
			require.NoError(t, err)
			assert.Equal(t, want, got, "request %s", describe(req))
			if i%3 != 0 {
				return
			}
			// The side questions on a third of the cases.
			grain := []timerange.Grain{timerange.GrainDay, timerange.GrainWeek}[i%2]
			wantTrend, err := journeys.FunnelTrendReference(req, now, evs, grain)
			require.NoError(t, err)
			gotTrend, err := svc.FunnelTrend(ctx, req, grain)
			require.NoError(t, err)
			assert.Equal(t, wantTrend, gotTrend, "trend of %s", describe(req))
			step := 1 + rng.IntN(len(req.Steps)-1)
			for _, dropped := range []bool{false, true} {
				a := journeys.ActorsRequest{Step: step, Dropped: dropped, First: 2}
				wantActors, err := journeys.FunnelActorsReference(req, now, evs, a)
				require.NoError(t, err)
				assert.Equal(t, wantActors, allActors(t, svc, tenant, req, a), "actors %+v of %s", a, describe(req))
			}
			if req.Order == journeys.Unordered {
				return
			}
			to := 2 + rng.IntN(len(req.Steps)-1)
			from := 1 + rng.IntN(to-1)
			wantBins, err := journeys.FunnelHistogramReference(req, now, evs, from, to, 4)
			require.NoError(t, err)
			gotBins, err := svc.FunnelHistogram(ctx, req, from, to, 4)
			require.NoError(t, err)
			assert.Equal(t, wantBins, gotBins, "histogram %d→%d of %s", from, to, describe(req))
		})
	}
	assert.Greater(t, nontrivial, funnelCases/3, "most cases must convert some users and drop others, or the comparison proves little")
	assert.Greater(t, ties, funnelCases*5, "the event sets must be full of equal timestamps")
}

// allActors pages through every actor of a.
func allActors(t *testing.T, svc *journeys.Service, tenant string, req journeys.FunnelRequest, a journeys.ActorsRequest) []journeys.Actor {
	t.Helper()
	out := []journeys.Actor{}
	for range 100 {
		page, err := svc.FunnelActors(metricstest.As(tenant), req, a)
		require.NoError(t, err)
		out = append(out, page.Actors...)
		if !page.HasNext {
			return out
		}
		a.After = page.EndCursor
	}
	t.Fatal("actors never ended")
	return nil
}

// countTies counts events sharing a user and an instant with another.
func countTies(evs []journeys.Event) int {
	seen := map[string]int{}
	for _, e := range evs {
		seen[e.User+e.At.String()]++
	}
	n := 0
	for _, c := range seen {
		if c > 1 {
			n += c
		}
	}
	return n
}

func randomMatcher(rng *rand.Rand) journeys.Matcher {
	m := journeys.Matcher{EventType: learningTypes[rng.IntN(4)]} // user.login only as an "other" event
	switch rng.IntN(6) {
	case 0:
		m.Filters = []journeys.Filter{{Property: "course", Op: journeys.OpEq, Values: []string{fmt.Sprintf("c%d", 1+rng.IntN(3))}}}
	case 1:
		m.Filters = []journeys.Filter{{Property: "score", Op: journeys.OpGte, Values: []string{fmt.Sprint(rng.IntN(80))}}}
	case 2:
		m.Filters = []journeys.Filter{{Property: "course", Op: journeys.OpIn, Values: []string{"c1", "c2"}}}
	}
	return m
}

func randomFunnel(rng *rand.Rand) journeys.FunnelRequest {
	n := 2 + rng.IntN(3)
	req := journeys.FunnelRequest{
		ConversionWindow: []time.Duration{3 * time.Minute, 8 * time.Minute, 30 * time.Minute}[rng.IntN(3)],
		Order:            []journeys.Order{journeys.Ordered, journeys.Ordered, journeys.Strict, journeys.Unordered}[rng.IntN(4)],
		TimeRange:        timerange.Spec{From: ptr(t0), To: ptr(t0.Add(20 * time.Minute))},
		StepReference:    journeys.RefPrevious,
	}
	for range n {
		req.Steps = append(req.Steps, journeys.Step{Matcher: randomMatcher(rng)})
	}
	if rng.IntN(3) == 0 { // a repeated step: the same event type twice in a row
		k := rng.IntN(n - 1)
		req.Steps[k+1].Matcher = req.Steps[k].Matcher
	}
	if req.Order != journeys.Unordered && rng.IntN(3) == 0 {
		from := 1 + rng.IntN(n-1)
		req.Exclusions = []journeys.Exclusion{{Matcher: journeys.Matcher{EventType: learningTypes[rng.IntN(len(learningTypes))]}, From: from, To: from + 1 + rng.IntN(n-from)}}
	}
	if rng.IntN(2) == 0 {
		b := &journeys.Breakdown{Property: "course", TopN: 1 + rng.IntN(3)}
		if req.Order != journeys.Unordered {
			b.Attribution = []journeys.Attribution{journeys.FirstTouch, journeys.LastTouch, journeys.StepTouch}[rng.IntN(3)]
			b.Step = 1 + rng.IntN(n)
		}
		req.Breakdown = b
	}
	return req
}

func ptr[T any](v T) *T { return &v }

// describe prints a request for failure messages.
func describe(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}
