package demo_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/demo"
	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/platform/bus"
)

var end = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func TestGenerateIsDeterministicAndValid(t *testing.T) {
	opts := demo.Options{Learners: 400, Days: 120, End: end}
	a, b := demo.Generate(opts), demo.Generate(opts)
	require.NotEmpty(t, a)
	require.Equal(t, a, b, "same options, same events")
	other := demo.Generate(demo.Options{Learners: 400, Days: 120, End: end, Seed: 7})
	assert.NotEqual(t, a[0].ID+a[len(a)-1].ID, other[0].ID+other[len(other)-1].ID)

	dec := ingest.NewDecoder(ingest.DecoderConfig{})
	ids := map[string]bool{}
	tenants := map[string]bool{}
	for _, ev := range a {
		data, err := json.Marshal(ev)
		require.NoError(t, err)
		_, rej := dec.DecodeMessage(ev.Subject(), data, end)
		require.Nil(t, rej, "%s", data)
		assert.False(t, ids[ev.MsgID()], "duplicate id %s", ev.ID)
		ids[ev.MsgID()] = true
		tenants[ev.TenantID] = true
		assert.True(t, ev.OccurredAt.Before(end) && !ev.OccurredAt.Before(end.AddDate(0, 0, -120)))
	}
	assert.Equal(t, map[string]bool{"demo": true, "acme-corp": true, "northwind-school": true}, tenants)
}

func TestGenerateShape(t *testing.T) {
	opts := demo.Options{Learners: 6000, Days: 240, End: end}
	events := demo.Generate(opts)
	byType := map[string]int{}
	var weekday, weekend int
	var scoreSum float64
	var scores int
	for _, ev := range events {
		byType[ev.Type]++
		switch ev.OccurredAt.Weekday() {
		case time.Saturday, time.Sunday:
			weekend++
		default:
			weekday++
		}
		if ev.Type == ingest.TypeQuizSubmitted {
			var p struct{ Score float64 }
			require.NoError(t, json.Unmarshal(ev.Properties, &p))
			scoreSum += p.Score
			scores++
		}
	}
	t.Logf("%d events: %v", len(events), byType)
	for _, typ := range ingest.KnownTypes() {
		assert.Positive(t, byType[typ], typ)
	}
	assert.Greater(t, float64(weekday)/5, 1.8*float64(weekend)/2, "weekdays are busier per day than weekends")
	assert.Greater(t, byType[ingest.TypeCourseEnrolled], byType[ingest.TypeCourseCompleted], "funnel drops off")
	assert.Greater(t, byType[ingest.TypeCourseCompleted], byType[ingest.TypeCertificateIssued])
	assert.Greater(t, byType[ingest.TypeLessonStarted], byType[ingest.TypeQuizSubmitted])
	assert.InDelta(t, 72, scoreSum/float64(scores), 3, "quiz scores centre around 72")

	// The planted anomaly: demo's completions drop ~60 % in AnomalyMonth,
	// compared with the months around it; another tenant's do not.
	month := demo.AnomalyMonth(opts)
	require.Equal(t, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), month)
	completions := func(tenant string, from time.Time) float64 {
		to := from.AddDate(0, 1, 0)
		n := 0
		for _, ev := range events {
			if ev.TenantID == tenant && ev.Type == ingest.TypeCourseCompleted && !ev.OccurredAt.Before(from) && ev.OccurredAt.Before(to) {
				n++
			}
		}
		return float64(n) / to.Sub(from).Hours()
	}
	for _, tc := range []struct {
		tenant   string
		min, max float64
	}{{"demo", 0.2, 0.6}, {"acme-corp", 0.75, 1.3}} {
		around := (completions(tc.tenant, month.AddDate(0, -1, 0)) + completions(tc.tenant, month.AddDate(0, 1, 0))) / 2
		ratio := completions(tc.tenant, month) / around
		t.Logf("%s: completions in the anomaly month at %.2f of the neighbouring months", tc.tenant, ratio)
		assert.True(t, ratio >= tc.min && ratio <= tc.max, "%s ratio %.2f outside [%.2f, %.2f]", tc.tenant, ratio, tc.min, tc.max)
	}
}

func TestPublish(t *testing.T) {
	ctx := context.Background()
	b, err := bus.Open(ctx, bus.Config{DataDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	s, err := ingest.EnsureStream(ctx, b.JetStream(), ingest.StreamConfig{})
	require.NoError(t, err)
	opts := demo.Options{Learners: 150, Days: 60, End: time.Now().UTC().Truncate(24 * time.Hour)}
	var calls [][2]int
	n, err := demo.Publish(ctx, b.JetStream(), opts, func(done, total int) { calls = append(calls, [2]int{done, total}) })
	require.NoError(t, err)
	require.Positive(t, n)
	assert.Equal(t, [2]int{0, n}, calls[0])
	assert.Equal(t, [2]int{n, n}, calls[len(calls)-1])
	info, err := s.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(n), info.State.Msgs)

	// Newest first, so the first queries show data while the rest loads.
	occurred := func(seq uint64) time.Time {
		m, err := s.GetMsg(ctx, seq)
		require.NoError(t, err)
		var ev struct {
			OccurredAt time.Time `json:"occurred_at"`
		}
		require.NoError(t, json.Unmarshal(m.Data, &ev))
		return ev.OccurredAt
	}
	first, last := occurred(info.State.FirstSeq), occurred(info.State.LastSeq)
	assert.True(t, first.After(opts.End.AddDate(0, 0, -2)), "the first event published is from the last days: %s", first)
	assert.True(t, last.Before(opts.End.AddDate(0, 0, -opts.Days+2)), "the last one from the first days: %s", last)

	_, err = demo.Publish(ctx, b.JetStream(), opts, nil)
	require.NoError(t, err)
	info, err = s.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(n), info.State.Msgs, "seeding twice stores nothing twice")
}
