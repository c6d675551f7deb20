package alerts_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/alerts"
	"github.com/learnhub/analytics-service/api"
	"github.com/learnhub/analytics-service/demo"
	"github.com/learnhub/analytics-service/demo/demotest"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/monitors"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/kv/kvtest"
	"github.com/learnhub/analytics-service/platform/queue"
	"github.com/learnhub/analytics-service/reports"
	"github.com/learnhub/analytics-service/resolvers"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
	"github.com/learnhub/analytics-service/timerange"
)

// The planted drop: demo data of a year ending demoEnd, the default rule of
// the key metric course_completions (ANOMALY on monitor
// key:course_completions, confidence > 0.5 — the buckets the monitor flags
// — notifying the admins).
var demoEnd = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

const (
	dropRule   = alerts.DefaultRulePrefix + "course_completions"
	dropSecret = "demo-admins-secret-0123"
)

// monitorAnomalies is the monitors service as the rules' AnomalySource, as
// the composition root wires it (cmd/analyticsd monitorScores).
type monitorAnomalies struct{ m *monitors.Service }

func (ma monitorAnomalies) Scores(ctx context.Context, tenant, id string, from, to time.Time) ([]alerts.AnomalyPoint, error) {
	scores, err := ma.m.Scores(ctx, tenant, id, from, to)
	out := make([]alerts.AnomalyPoint, len(scores))
	for i, s := range scores {
		out[i] = alerts.AnomalyPoint{Bucket: s.Bucket, Series: s.Series, Value: s.Value, Expected: s.Expected, Lower: s.Lower,
			Upper: s.Upper, Score: s.Score, Confidence: s.AnomalyConfidence(), Detector: s.Detector, Query: s.Query}
	}
	return out, err
}

// taskLog is the real queue client, keeping a copy of every task enqueued
// (to replay one as Asynq's retry would).
type taskLog struct {
	*queue.Client
	mu    sync.Mutex
	tasks []jobs.Task
}

func (l *taskLog) Enqueue(ctx context.Context, t jobs.Task) (jobs.Receipt, error) {
	l.mu.Lock()
	l.tasks = append(l.tasks, t)
	l.mu.Unlock()
	return l.Client.Enqueue(ctx, t)
}

func (l *taskLog) notifications() []jobs.Task {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []jobs.Task
	for _, t := range l.tasks {
		if t.Kind == alerts.KindNotify {
			out = append(out, t)
		}
	}
	return out
}

// replica is one service instance of the test: its monitors and alerts
// services, Asynq worker and scheduler, on the shared engine, NATS and Redis.
type replica struct {
	monitors *monitors.Service
	alerts   *alerts.Service
	sched    *queue.Scheduler
	queue    *taskLog
}

// TestPlantedDropFiresOnceEndToEnd is the acceptance test of issue 20 on the
// demo data: the key monitor of course_completions (DAY, detector counts)
// and the default ANOMALY rule fire for the planted drop of tenant demo —
// and not on the day before the drop month, nor on acme-corp. The
// triggered event reaches a JetStream consumer once; the admins' email
// (real SMTP) and signed webhook (httptest) are delivered once by a real
// Asynq worker; alertEvents pushes it to a graphql-transport-ws client;
// then the same tick fired by the second replica, a tick run again, the
// monitors re-evaluated by the second replica and the notification task
// retried send nothing twice.
func TestPlantedDropFiresOnceEndToEnd(t *testing.T) {
	ctx := t.Context()
	db := storetest.Embedded(t)
	_, err := store.Migrate(ctx, db, store.MigrateOptions{})
	require.NoError(t, err)
	opts := demo.Options{End: demoEnd, Days: 365} // the data TestPlantedDemoDrop measures
	demotest.Seed(t, db, opts)
	h := &harness{db: db, clock: &clock{}}
	h.bus, err = bus.Open(ctx, bus.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.bus.Close() })
	h.startSinks(t)
	rc := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
	t.Cleanup(func() { _ = rc.Close() })

	newReplica := func() *replica {
		reg := metrics.NewRegistry(db, metrics.Config{Now: h.clock.Now})
		q := metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: h.clock.Now})
		r := &replica{monitors: monitors.NewService(db, reg, q, monitors.Config{Now: h.clock.Now}),
			queue: &taskLog{Client: queue.NewClient(rc, queue.ClientConfig{})}}
		r.alerts, err = alerts.NewService(alerts.Deps{DB: db, Jobs: r.queue, Bus: h.bus, Metrics: q, Anomalies: monitorAnomalies{r.monitors},
			Mailer:   &reports.SMTPMailer{Addr: h.smtpAddr, From: "alerts@analytics.test"},
			Webhooks: &reports.Webhooks{AllowPrivate: true, Now: h.clock.Now}}, alerts.Config{Now: h.clock.Now})
		require.NoError(t, err)
		srv, err := queue.NewServer(rc, queue.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ShutdownTimeout: 5 * time.Second})
		require.NoError(t, err)
		r.sched = queue.NewScheduler(r.queue.Client, queue.SchedulerConfig{Now: h.clock.Now})
		for _, reg := range r.alerts.Jobs() {
			srv.Handle(reg.Kind, reg.Handler)
			if reg.Schedule != nil {
				require.NoError(t, r.sched.Register(*reg.Schedule))
			}
		}
		require.NoError(t, srv.Start(context.Background()))
		t.Cleanup(srv.Shutdown)
		return r
	}
	a, b := newReplica(), newReplica()

	// The day the rule must fire: the first of the drop month the monitor
	// flags (read on the fly, nothing stored).
	month := demo.AnomalyMonth(opts)
	h.clock.Set(month.AddDate(0, 1, 0).Add(time.Hour))
	sc, err := a.monitors.Anomalies(as("demo"), monitors.AnomalyRequest{Series: monitors.Series{MetricKey: "course_completions"},
		Detector: "counts", TimeRange: timeRange(month, month.AddDate(0, 1, 0))})
	require.NoError(t, err)
	var fireDay time.Time
	for _, s := range sc {
		if s.AnomalyConfidence() > alerts.DefaultThreshold {
			fireDay = s.Bucket
			break
		}
	}
	require.False(t, fireDay.IsZero(), "no day of %s scores above %v", month.Format("2006-01"), alerts.DefaultThreshold)
	t.Logf("the default rule fires on %s", fireDay.Format(time.DateOnly))

	_, err = a.alerts.SetChannels(as("demo"), []string{"admins@demo.test"}, h.hook.srv.URL+"/demo", dropSecret)
	require.NoError(t, err)
	triggered := consume(t, h.bus, alerts.SubjectTriggered)
	ws := subscribeAlertEvents(t, a.alerts, h.bus, "demo")

	// tick runs one scheduled round as production does: the day tick of
	// the monitors (its first run backfills the year), then the alert tick
	// fired by replica r's scheduler and run by whichever worker takes it.
	tick := func(r *replica, at time.Time) jobs.Receipt {
		t.Helper()
		h.clock.Set(at)
		for _, tenant := range []string{"demo", "acme-corp"} {
			_, err := r.monitors.Evaluate(ctx, tenant, monitors.GrainDay, at)
			require.NoError(t, err)
		}
		rcpt, err := r.sched.Trigger(ctx, alerts.KindTick, at)
		require.NoError(t, err)
		waitIdle(t, rc)
		return rcpt
	}

	t.Run("nothing fires the day before the drop month", func(t *testing.T) {
		tick(a, month.Add(5*time.Minute))
		assert.Equal(t, alerts.StateNormal, lastState(t, a.alerts, "demo", month.AddDate(0, 0, -1)))
		assert.Empty(t, triggered.of("demo", dropRule))
	})

	at := fireDay.AddDate(0, 0, 1).Add(5 * time.Minute)
	tick(a, at)
	t.Run("the planted drop fires the default rule of demo only", func(t *testing.T) {
		assert.Equal(t, alerts.StateFiring, lastState(t, a.alerts, "demo", fireDay))
		assert.Equal(t, alerts.StateNormal, lastState(t, a.alerts, "acme-corp", fireDay), "acme-corp's completions did not drop")
		require.Eventually(t, func() bool { return len(triggered.of("demo", dropRule)) == 1 }, waitFor, 20*time.Millisecond)
		e := triggered.of("demo", dropRule)[0]
		assert.Equal(t, fireDay, e.Bucket.UTC())
		assert.Equal(t, "key:course_completions", e.MonitorID)
		assert.Equal(t, "course_completions", e.MetricKey)
		assert.Equal(t, "counts", e.Detector)
		require.NotNil(t, e.Value)
		require.NotNil(t, e.Expected)
		assert.Less(t, *e.Value, *e.Expected, "a drop: fewer completions than the baseline's daily rate")
		assert.Greater(t, *e.Confidence, alerts.DefaultThreshold)
		assert.Contains(t, e.Query, `"metricKey":"course_completions"`)
	})

	t.Run("the admins get one email and one signed webhook", func(t *testing.T) {
		require.Eventually(t, func() bool { return len(dropMails(h)) == 1 && len(dropHooks(t, h)) == 1 }, waitFor, 20*time.Millisecond)
		m := dropMails(h)[0]
		assert.Equal(t, []string{"admins@demo.test"}, m.To)
		assert.Contains(t, string(m.Data), "triggered")
		req := dropHooks(t, h)[0]
		require.NoError(t, reports.VerifySignature(dropSecret, req.Header.Get(reports.HeaderSignature), req.Body, h.clock.Now(), time.Minute))
		assert.Equal(t, alerts.SubjectTriggered, req.Header.Get(reports.HeaderEvent))
	})

	t.Run("the same tick, the second replica and a retried task send nothing twice", func(t *testing.T) {
		rcpt := tick(b, at) // replica B's scheduler fires the same slot after re-evaluating the monitors
		assert.True(t, rcpt.Duplicate, "one tick task per slot, whichever replica fires it")
		require.NoError(t, b.alerts.Tick(ctx), "a tick run again on replica B")
		require.NoError(t, a.alerts.Tick(ctx), "and on replica A")
		notes := append(a.queue.notifications(), b.queue.notifications()...) // whichever worker ran the tick enqueued them
		require.NotEmpty(t, notes)
		for _, task := range notes { // Asynq's retry of every notification, on the other replica's handler
			id, params, err := jobs.TaskID(task)
			require.NoError(t, err)
			require.NoError(t, b.alerts.Notifier().ProcessJob(ctx, jobs.Job{ID: id, Kind: task.Kind, Tenant: task.Tenant,
				Params: params, Retried: 1, MaxRetry: 6}))
		}
		waitIdle(t, rc)
		assert.Len(t, dropMails(h), 1)
		assert.Len(t, dropHooks(t, h), 1)
		assert.Len(t, triggered.of("demo", dropRule), 1)
	})

	t.Run("alertEvents pushes the event once to the demo viewer's socket", func(t *testing.T) {
		// A sentinel rule fires after everything above: every event for
		// the drop rule, duplicates included, arrives before it.
		sentinel, err := a.alerts.Create(as("demo"), thresholdRule(-1))
		require.NoError(t, err)
		require.NoError(t, a.alerts.Tick(ctx))
		var drop []json.RawMessage
		for {
			e := ws.next(t)
			var got struct{ RuleID, Event, MetricKey string }
			require.NoError(t, json.Unmarshal(e, &got))
			if got.RuleID == sentinel.ID {
				break
			}
			if got.RuleID == dropRule && got.Event == "TRIGGERED" {
				drop = append(drop, e)
			}
		}
		require.Len(t, drop, 1, "one push for the drop")
		assert.Contains(t, string(drop[0]), `"metricKey":"course_completions"`)
		assert.Contains(t, string(drop[0]), `"state":"FIRING"`)
	})
}

// timeRange is the spec of [from, to).
func timeRange(from, to time.Time) timerange.Spec { return timerange.Spec{From: &from, To: &to} }

// lastState is the state the rule dropRule of tenant took in bucket.
func lastState(t *testing.T, svc *alerts.Service, tenant string, bucket time.Time) alerts.State {
	t.Helper()
	hist, err := svc.History(as(tenant), alerts.HistoryFilter{RuleID: dropRule, From: bucket, To: bucket.AddDate(0, 0, 1)})
	require.NoError(t, err)
	require.Len(t, hist, 1, "%s: one evaluation of %s on %s", tenant, dropRule, bucket.Format(time.DateOnly))
	return hist[0].State
}

// dropMails are the emails of the drop rule.
func dropMails(h *harness) []mail {
	var out []mail
	for _, m := range h.mail.received() {
		if strings.Contains(string(m.Data), "Anomaly in Course completions") {
			out = append(out, m)
		}
	}
	return out
}

// dropHooks are the webhook posts of the drop rule.
func dropHooks(t *testing.T, h *harness) []hookReq {
	t.Helper()
	var out []hookReq
	for _, r := range h.hook.received() {
		var n alerts.Notification
		require.NoError(t, json.Unmarshal(r.Body, &n))
		if n.Tenant == "demo" && n.RuleID == dropRule {
			out = append(out, r)
		}
	}
	return out
}

// waitIdle waits until the Asynq queue has no pending or active task.
func waitIdle(t *testing.T, rc *redis.Client) {
	t.Helper()
	require.Eventually(t, func() bool {
		n, err := rc.LLen(context.Background(), "asynq:{default}:pending").Result()
		m, err2 := rc.LLen(context.Background(), "asynq:{default}:active").Result()
		return err == nil && err2 == nil && n == 0 && m == 0
	}, waitFor, 20*time.Millisecond)
}

// eventLog is a JetStream consumer of one subject that keeps what it reads.
type eventLog struct {
	mu  sync.Mutex
	got []*alerts.EventPayload
}

func (l *eventLog) of(tenant, rule string) []*alerts.EventPayload {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*alerts.EventPayload
	for _, e := range l.got {
		if e.Tenant == tenant && e.RuleID == rule {
			out = append(out, e)
		}
	}
	return out
}

// consume starts an ordered JetStream consumer of subject on the outgoing
// stream, as a downstream service reads the events.
func consume(t *testing.T, b *bus.Bus, subject string) *eventLog {
	t.Helper()
	c, err := b.JetStream().OrderedConsumer(t.Context(), b.Stream(), jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	require.NoError(t, err)
	l := &eventLog{}
	cc, err := c.Consume(func(m jetstream.Msg) {
		var e alerts.EventPayload
		if json.Unmarshal(m.Data(), &e) == nil {
			l.mu.Lock()
			l.got = append(l.got, &e)
			l.mu.Unlock()
		}
	})
	require.NoError(t, err)
	t.Cleanup(cc.Stop)
	return l
}

// alertSocket is a graphql-transport-ws client subscribed to alertEvents.
type alertSocket struct {
	c *websocket.Conn
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// subscribeAlertEvents serves the GraphQL API (alerts only) over httptest
// and subscribes a viewer of tenant to alertEvents over a real WebSocket.
func subscribeAlertEvents(t *testing.T, svc *alerts.Service, b *bus.Bus, tenant string) *alertSocket {
	t.Helper()
	const secret = "e2e-test-secret-0123456789-abcdefghij"
	verifier, err := auth.NewHMACVerifier([]byte(secret), auth.VerifyOptions{})
	require.NoError(t, err)
	signer, err := auth.NewHMACSigner([]byte(secret))
	require.NoError(t, err)
	feed := alerts.NewFeed(b.JetStream(), b.Stream(), nil)
	t.Cleanup(feed.Close)
	r := &resolvers.Resolver{AlertService: svc, AlertFeed: feed}
	srv := httptest.NewServer(api.NewGraphQLHandler(api.GraphQLConfig{Schema: r.Config(), Verifier: verifier}))
	t.Cleanup(srv.Close)
	tok, err := signer.Sign(auth.Principal{Subject: "viewer", Tenant: tenant, Roles: []auth.Role{auth.RoleViewer}}, time.Hour)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 2*waitFor)
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	init, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + tok})
	require.NoError(t, wsjson.Write(ctx, c, wsMsg{Type: "connection_init", Payload: init}))
	s := &alertSocket{c: c}
	require.Equal(t, "connection_ack", s.read(t, ctx).Type)
	sub, _ := json.Marshal(map[string]any{"query": `subscription { alertEvents { event ruleId metricKey state value expected confidence query } }`})
	require.NoError(t, wsjson.Write(ctx, c, wsMsg{ID: "1", Type: "subscribe", Payload: sub}))
	require.Eventually(t, func() bool { return feed.Subscribers() == 1 }, waitFor, 10*time.Millisecond)
	return s
}

func (s *alertSocket) read(t *testing.T, ctx context.Context) wsMsg {
	t.Helper()
	for {
		var m wsMsg
		require.NoError(t, wsjson.Read(ctx, s.c, &m))
		if m.Type != "ping" && m.Type != "pong" {
			return m
		}
	}
}

// next is the alertEvents object of the next pushed event.
func (s *alertSocket) next(t *testing.T) json.RawMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	m := s.read(t, ctx)
	require.Equal(t, "next", m.Type, "%s", m.Payload)
	var p struct {
		Data struct {
			AlertEvents json.RawMessage `json:"alertEvents"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(m.Payload, &p))
	return p.Data.AlertEvents
}
