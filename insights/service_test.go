package insights_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/learnhub/analytics-service/insights"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/jobs/jobstest"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/errs"
)

// run processes every recorded answer task through the service's handler.
func run(t *testing.T, svc *insights.Service, q *jobstest.Recorder) {
	t.Helper()
	handler := svc.Jobs()[0].Handler
	for _, task := range q.Take(insights.KindAnswer) {
		assert.Equal(t, insights.QueueInsights, task.Queue)
		id, params, err := jobs.TaskID(task)
		require.NoError(t, err)
		require.NoError(t, handler.ProcessJob(context.Background(), jobs.Job{ID: id, Kind: task.Kind, Tenant: task.Tenant, Params: params, MaxRetry: 2}))
	}
}

// flakyPublisher fails its next publish when failNext is set.
type flakyPublisher struct {
	insights.Publisher
	failNext atomic.Bool
}

func (f *flakyPublisher) Publish(ctx context.Context, subject string, v any, msgID string) error {
	if f.failNext.CompareAndSwap(true, false) {
		return errs.E("test.Publish", errs.KindUnavailable, "the bus is down")
	}
	return f.Publisher.Publish(ctx, subject, v, msgID)
}

// completedMsgs counts the analytics.insight.completed.v1 messages stored.
func completedMsgs(t *testing.T, h *harness) uint64 {
	t.Helper()
	s, err := h.bus.JetStream().Stream(context.Background(), bus.DefaultStream)
	require.NoError(t, err)
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(insights.SubjectCompleted))
	require.NoError(t, err)
	return info.State.Subjects[insights.SubjectCompleted]
}

// lastCompleted decodes the last completed event into ev.
func lastCompleted(t *testing.T, h *harness, ev *insights.Completed) {
	t.Helper()
	s, err := h.bus.JetStream().Stream(context.Background(), bus.DefaultStream)
	require.NoError(t, err)
	raw, err := s.GetLastMsgForSubject(context.Background(), insights.SubjectCompleted)
	require.NoError(t, err)
	*ev = insights.Completed{}
	require.NoError(t, json.Unmarshal(raw.Data, ev))
}

// TestService runs insights through the task handler as the asking user
// and checks every query, mutation and tool for tenant isolation and roles.
func TestService(t *testing.T) {
	h := newHarness(t)
	q := &jobstest.Recorder{}
	flaky := &flakyPublisher{Publisher: h.bus}
	svc := insights.NewService(h.db, h.tools, q, insights.Config{Now: func() time.Time { return time.Now() }, Bus: flaky})
	demoViewer, acmeViewer := as("demo", auth.RoleViewer), as("acme-corp", auth.RoleViewer)

	asked, err := svc.Ask(demoViewer, "Why did course completions drop in March?", insights.Context{}, "")
	require.NoError(t, err)
	assert.Equal(t, insights.StatusQueued, asked.Status)
	run(t, svc, q)
	got, err := svc.Get(demoViewer, asked.ID)
	require.NoError(t, err)
	require.Equal(t, insights.StatusSucceeded, got.Status, got.Error)
	require.NotNil(t, got.Answer)
	assert.Equal(t, insights.Grounded, got.Answer.Grounding.Status)
	var kinds []string
	for _, s := range got.Steps {
		kinds = append(kinds, s.Kind)
	}
	assert.Equal(t, []string{"interpretation", "tool_call", "tool_result", "text", "done"}, kinds)

	t.Run("a rerun of the task changes nothing", func(t *testing.T) {
		_, err := q.Enqueue(context.Background(), jobs.Task{Kind: insights.KindAnswer, Tenant: "demo", Queue: insights.QueueInsights,
			Params: map[string]any{"id": asked.ID, "subject": "viewer@demo", "roles": []string{"viewer"}}})
		require.NoError(t, err)
		run(t, svc, q)
		again, err := svc.Get(demoViewer, asked.ID)
		require.NoError(t, err)
		assert.Equal(t, got.Version, again.Version)
	})

	t.Run("completed is published once, with the verdicts", func(t *testing.T) {
		assert.Equal(t, uint64(1), completedMsgs(t, h), "the first run and the rerun announce it once")
		var ev insights.Completed
		lastCompleted(t, h, &ev)
		assert.Equal(t, insights.Completed{Tenant: "demo", InsightID: asked.ID, Status: insights.StatusSucceeded, Engine: insights.EngineBuiltin,
			PromptVersion: insights.PromptVersion, Kind: insights.KindWhyChanged, MetricKey: "course_completions", Grounding: insights.Grounded,
			Confidence: got.Answer.Confidence.Score, Level: got.Answer.Confidence.Level, ToolCalls: got.Answer.Provenance.ToolCalls,
			LatencyMs: got.Answer.Provenance.LatencyMs, AskedBy: "viewer@demo", CompletedAt: *got.FinishedAt}, ev)

		// The bus fails right after the final save: the task fails, its
		// retry finds the insight final and announces it — once.
		flaky.failNext.Store(true)
		a, err := svc.Ask(demoViewer, "How many enrolments in May?", insights.Context{}, "")
		require.NoError(t, err)
		handler := svc.Jobs()[0].Handler
		tasks := q.Take(insights.KindAnswer)
		require.Len(t, tasks, 1)
		id, params, err := jobs.TaskID(tasks[0])
		require.NoError(t, err)
		job := jobs.Job{ID: id, Kind: tasks[0].Kind, Tenant: tasks[0].Tenant, Params: params, MaxRetry: 2}
		require.Error(t, handler.ProcessJob(context.Background(), job), "the publish failure goes back to Asynq")
		done, err := svc.Get(demoViewer, a.ID)
		require.NoError(t, err)
		require.Equal(t, insights.StatusSucceeded, done.Status)
		assert.Equal(t, uint64(1), completedMsgs(t, h))
		for retry := 1; retry <= 2; retry++ {
			job.Retried = retry
			require.NoError(t, handler.ProcessJob(context.Background(), job))
		}
		assert.Equal(t, uint64(2), completedMsgs(t, h), "announced once after the failed publish, whatever the retries")
		lastCompleted(t, h, &ev)
		assert.Equal(t, a.ID, ev.InsightID)
	})

	t.Run("another tenant sees nothing of it", func(t *testing.T) {
		_, err := svc.Get(acmeViewer, asked.ID)
		assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
		_, err = svc.Rate(acmeViewer, asked.ID, true, "")
		assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
		_, err = svc.Watch(acmeViewer, asked.ID)
		assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
		page, err := svc.List(acmeViewer, 20, "")
		require.NoError(t, err)
		assert.Empty(t, page.Insights)
		page, err = svc.List(demoViewer, 20, "")
		require.NoError(t, err)
		require.Len(t, page.Insights, 2, "demo's two questions")
	})

	t.Run("the same question answers from the asking tenant's data", func(t *testing.T) {
		a, err := svc.Ask(acmeViewer, "How many course completions in March?", insights.Context{}, "")
		require.NoError(t, err)
		run(t, svc, q)
		got, err := svc.Get(acmeViewer, a.ID)
		require.NoError(t, err)
		require.Equal(t, insights.StatusSucceeded, got.Status, got.Error)
		march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		want := countCompleted(t, h, "acme-corp", march, march.AddDate(0, 1, 0))
		assert.NotEqual(t, want, countCompleted(t, h, "demo", march, march.AddDate(0, 1, 0)), "the tenants differ")
		assert.Contains(t, got.Answer.Explanation, "**"+itoa(want)+"**")
	})

	t.Run("rating and the eval set", func(t *testing.T) {
		_, err := svc.Rate(demoViewer, asked.ID, true, "spot on")
		require.NoError(t, err)
		_, err = svc.Rate(as("demo", auth.RoleAdmin), asked.ID, false, "")
		require.NoError(t, err)
		set, err := svc.EvalSet(as("demo", auth.RoleAdmin))
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(set), "\n")
		require.Len(t, lines, 2)
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[0]), &rec))
		assert.Equal(t, "Why did course completions drop in March?", rec["question"])
		assert.Equal(t, insights.PromptVersion, rec["promptVersion"])
		other, err := svc.EvalSet(as("acme-corp", auth.RoleAdmin))
		require.NoError(t, err)
		assert.Empty(t, other, "acme-corp rated nothing")
		_, err = svc.Rate(demoViewer, asked.ID, true, strings.Repeat("x", insights.MaxCommentLength+1))
		assert.True(t, errs.Is(err, errs.KindInvalid))
	})

	t.Run("bad input and the gateway", func(t *testing.T) {
		for _, tc := range []struct {
			question, engine string
			kind             errs.Kind
			msg              string
		}{
			{"", "", errs.KindInvalid, "question is empty"},
			{strings.Repeat("why ", 200), "", errs.KindInvalid, "at most 500"},
			{"Why did completions drop?", insights.EngineNameGateway, errs.KindUnavailable, "AI gateway is not available"},
			{"Why did completions drop?", "GPT", errs.KindInvalid, "unknown"},
		} {
			_, err := svc.Ask(demoViewer, tc.question, insights.Context{}, tc.engine)
			assert.True(t, errs.Is(err, tc.kind), "%q: %v", tc.question, err)
			assert.ErrorContains(t, err, tc.msg)
		}
		_, err := svc.Ask(context.Background(), "How many enrolments?", insights.Context{}, "")
		assert.True(t, errs.Is(err, errs.KindUnauthenticated), "%v", err)
	})

	t.Run("driver contributions add up to the change, by every breakdown", func(t *testing.T) {
		mar, apr, may := insights.Period{From: day(2026, 3, 1), To: day(2026, 4, 1), Label: "March"},
			insights.Period{From: day(2026, 4, 1), To: day(2026, 5, 1), Label: "April"}, insights.Period{From: day(2026, 5, 1), To: day(2026, 6, 1), Label: "May"}
		for _, tc := range []struct {
			key       string
			cur, prev insights.Period
		}{{"enrolments", may, apr}, {"course_completion_rate", mar, apr}, {"lesson_completions", apr, mar}} {
			s := h.tools.NewSession(nil)
			rep, err := s.ComparePeriods(demoViewer, tc.key, tc.cur, tc.prev, nil)
			require.NoError(t, err, tc.key)
			assert.Contains(t, rep.Dimensions, insights.CohortPrefix+finishers, "%s splits by cohort membership", tc.key)
			// The drivers keep the top few; the stats evidence holds them.
			// Recompute the full decomposition from the per-dimension sums.
			sums, segs := map[string]float64{}, map[string]int{}
			for _, d := range rep.Drivers {
				sums[d.Dimension] += d.Contribution
				segs[d.Dimension]++
			}
			cohortDim := insights.CohortPrefix + finishers
			if tc.key == "enrolments" {
				require.Equal(t, 2, segs[cohortDim], "both membership segments drive enrolments: %+v", rep.Drivers)
			}
			if segs[cohortDim] == 2 {
				assert.InDelta(t, rep.Change, sums[cohortDim], 1e-9, "%s: in + not in cohort = the change", tc.key)
			}
			for _, d := range rep.Drivers {
				if tc.key == "course_completion_rate" {
					assert.InDelta(t, d.Contribution, d.MixEffect+d.RateEffect, 1e-12)
				}
			}
		}
	})

	t.Run("means: Welch's t test on the engine's moments", func(t *testing.T) {
		apr, may := insights.Period{From: day(2026, 4, 1), To: day(2026, 5, 1), Label: "April"}, insights.Period{From: day(2026, 5, 1), To: day(2026, 6, 1), Label: "May"}
		var changes []float64
		for _, tenant := range []string{"demo", "acme-corp"} {
			s := h.tools.NewSession(nil)
			rep, err := s.ComparePeriods(as(tenant, auth.RoleViewer), "avg_quiz_score", may, apr, nil)
			require.NoError(t, err)
			assert.Equal(t, insights.TestWelch, rep.Test)
			// Welch's t from moments written by hand over the tenant's rows.
			moments := func(p insights.Period) (n, mean, v float64) {
				var c uint64
				var s, ss float64
				require.NoError(t, h.db.QueryRow(context.Background(), []any{&c, &s, &ss}, `
					SELECT count(), sum(toFloat64(properties.score)), sum(pow(toFloat64(properties.score), 2)) FROM events FINAL
					WHERE tenant_id = ? AND type = 'quiz.submitted' AND properties.score IS NOT NULL AND occurred_at >= ? AND occurred_at < ?`, tenant, p.From, p.To))
				n = float64(c)
				return n, s / n, (ss - s*s/n) / (n - 1)
			}
			n1, m1, v1 := moments(may)
			n0, m0, v0 := moments(apr)
			assert.InDelta(t, m1, rep.CurrentValue, 1e-9)
			assert.InDelta(t, m0, rep.PreviousValue, 1e-9)
			se := math.Sqrt(v1/n1 + v0/n0)
			df := math.Pow(v1/n1+v0/n0, 2) / (math.Pow(v1/n1, 2)/(n1-1) + math.Pow(v0/n0, 2)/(n0-1))
			want := 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(math.Abs(m1-m0)/se)
			assert.InDelta(t, want, rep.PValue, 1e-9, "%s: p-value", tenant)
			require.NotEmpty(t, rep.Drivers)
			for _, d := range rep.Drivers {
				assert.InDelta(t, d.Contribution, d.MixEffect+d.RateEffect, 1e-12)
				assert.False(t, math.IsNaN(d.PValue), "every segment is tested")
			}
			// The moments evidence carries the bound SQL with the tenant guard.
			sqlEvidence := 0
			for _, ev := range s.Evidence() {
				if ev.SQL != "" {
					sqlEvidence++
					assert.Contains(t, ev.SQL, "tenant_id")
				}
			}
			assert.Positive(t, sqlEvidence)
			changes = append(changes, rep.Change)
		}
		assert.NotEqual(t, changes[0], changes[1], "each tenant's own rows")

		// Through the analyst: the test is named and every number grounded.
		ans, err := insights.NewAnalyst(h.tools).Answer(demoViewer, "Why did the average quiz score change in May?", insights.Context{}, nil)
		require.NoError(t, err)
		assert.Equal(t, insights.KindWhyChanged, ans.Interpretation.Kind)
		assert.Equal(t, "avg_quiz_score", ans.Interpretation.MetricKey)
		assert.Contains(t, ans.Explanation, insights.TestWelch+" test")
		assert.Equal(t, insights.Grounded, ans.Grounding.Status, "ungrounded %v in:\n%s", ans.Grounding.Ungrounded, ans.Explanation)
	})

	t.Run("tools run as the caller", func(t *testing.T) {
		s := h.tools.NewSession(nil)
		_, _, err := s.RunSQL(demoViewer, "SELECT count() FROM events")
		assert.True(t, errs.Is(err, errs.KindForbidden), "run_sql needs analyst: %v", err)
		res, id, err := s.RunSQL(as("acme-corp", auth.RoleAnalyst), "SELECT count() AS n FROM events WHERE type = 'course.completed'")
		require.NoError(t, err)
		var want uint64
		require.NoError(t, h.db.QueryRow(context.Background(), []any{&want}, "SELECT count() FROM events FINAL WHERE tenant_id = 'acme-corp' AND type = 'course.completed'"))
		assert.EqualValues(t, want, res.Rows[0][0], "only the caller's rows")
		assert.Equal(t, "E1", id)
		for _, sql := range []string{"SELECT * FROM system.tables", "SELECT count() FROM file('/etc/passwd')", "SELECT count() FROM events WHERE tenant_id = 'demo'"} {
			res, _, err := s.RunSQL(as("acme-corp", auth.RoleAnalyst), sql)
			if err == nil {
				assert.EqualValues(t, 0, res.Rows[0][0], "%s reads nothing of demo", sql)
				continue
			}
			assert.True(t, errs.Is(err, errs.KindInvalid), "%s: %v", sql, err)
		}
		_, _, _, err = s.CohortSize(acmeViewer, finishers)
		assert.True(t, errs.Is(err, errs.KindNotFound), "demo's cohort is not acme-corp's: %v", err)
		_, _, _, err = s.CohortSize(demoViewer, finishers)
		assert.NoError(t, err)
		_, err = s.ComparePeriods(context.Background(), "course_completions", insights.Period{}, insights.Period{}, nil)
		assert.True(t, errs.Is(err, errs.KindUnauthenticated), "%v", err)
		_, _, err = s.QueryMetric(context.Background(), metrics.Request{MetricKey: "enrolments"})
		assert.True(t, errs.Is(err, errs.KindUnauthenticated), "%v", err)
	})
}
