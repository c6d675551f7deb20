package alerts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// systemActor is the subject evaluations read metrics as.
const systemActor = "alerts@system"

// observation is what one series showed in one bucket.
type observation struct {
	Key        string
	Labels     map[string]string
	Bucket     time.Time
	Outcome    Outcome
	Value      *float64
	Expected   *float64
	Lower      *float64
	Upper      *float64
	Score      *float64
	Confidence *float64
	Change     *float64 // percent change (RELATIVE_CHANGE)
	Detector   string
	Query      string
	Err        string
	// Explanation and ReviewedBy come from a monitor's LLM review.
	Explanation, ReviewedBy string
}

// Evaluation is what one rule's evaluation of one bucket did.
type Evaluation struct {
	RuleID string
	Bucket time.Time
	// Skipped is true when the bucket had been evaluated before.
	Skipped bool
	History []HistoryEntry
	Events  []*EventPayload
	// Err is the evaluation's failure (recorded as ERROR for the rule's
	// series), nil when the data was read.
	Err error
}

// LatestBucket is the last completed bucket of grain g at now: [from, to).
func LatestBucket(g metrics.Grain, now time.Time) (from, to time.Time) {
	to = g.Truncate(now.UTC(), time.UTC)
	return g.Truncate(to.Add(-time.Nanosecond), time.UTC), to
}

// ruleRequest is the metric request of a rule over its latest bucket at now.
func ruleRequest(in *Input, now time.Time) metrics.Request {
	from, to := LatestBucket(in.Grain, now)
	return bucketRequest(in, from, to)
}

// bucketRequest is the metric request of a THRESHOLD or RELATIVE_CHANGE
// rule over [from, to), bucketed by the rule's grain.
func bucketRequest(in *Input, from, to time.Time) metrics.Request {
	req := metrics.Request{MetricKey: in.MetricKey, Dimensions: in.Dimensions, Filters: in.Filters, Grain: in.Grain,
		TimeRange: timerange.Spec{From: &from, To: &to}}
	if in.Kind == KindRelativeChange {
		req.CompareTo = metrics.ComparePreviousPeriod
	}
	return req
}

// queryText is the reproducible description of a metric request in events.
func queryText(req metrics.Request) string {
	b, _ := json.Marshal(map[string]any{"metricKey": req.MetricKey, "filters": req.Filters, "dimensions": req.Dimensions,
		"grain": req.Grain, "from": req.TimeRange.From, "to": req.TimeRange.To, "compareTo": req.CompareTo})
	return string(b)
}

// seriesKey is the canonical key of a series' labels.
func seriesKey(labels map[string]string) string {
	b, _ := json.Marshal(nonNilMap(labels))
	return string(b)
}

// observe reads what every series of rule showed in each bucket of
// [from, to), by bucket start. The context must carry the tenant's
// principal (see tenantContext).
func (s *Service) observe(ctx context.Context, rule *Rule, from, to time.Time) (map[time.Time][]observation, error) {
	const op = "alerts.observe"
	out := map[time.Time][]observation{}
	if rule.Kind == KindAnomaly {
		if s.deps.Anomalies == nil {
			return nil, errs.E(op, errs.KindUnavailable, "anomaly scores are not available on this server")
		}
		points, err := s.deps.Anomalies.Scores(ctx, rule.Tenant, rule.MonitorID, from, to)
		if err != nil {
			return nil, err
		}
		// A monitor finer than the rule (hourly scores, daily rule) gives
		// several points per rule bucket: the most anomalous one counts.
		best := map[[2]string]float64{}
		at := map[[2]string]int{}
		for _, p := range points {
			if p.Bucket.Before(from) || !p.Bucket.Before(to) {
				continue
			}
			b := rule.Grain.Truncate(p.Bucket.UTC(), time.UTC)
			o := observation{Key: seriesKey(p.Series), Labels: p.Series, Bucket: b, Detector: p.Detector, Query: p.Query,
				Value: fp(p.Value), Expected: fp(p.Expected), Lower: fp(p.Lower), Upper: fp(p.Upper), Score: fp(p.Score), Confidence: fp(p.Confidence),
				Explanation: p.Explanation, ReviewedBy: p.ReviewedBy}
			v := p.Confidence
			if rule.ScoreField == FieldScore {
				v = p.Score
			}
			o.Outcome = compare(Above, v, rule.Threshold)
			k := [2]string{b.Format(time.RFC3339Nano), o.Key}
			if i, ok := at[k]; ok {
				if v > best[k] {
					out[b][i], best[k] = o, v
				}
				continue
			}
			at[k], best[k] = len(out[b]), v
			out[b] = append(out[b], o)
		}
		return out, nil
	}
	if s.deps.Metrics == nil {
		return nil, errs.E(op, errs.KindUnavailable, "metric queries are not available on this server")
	}
	req := bucketRequest(&rule.Input, from, to)
	res, err := s.deps.Metrics.Query(ctx, req)
	if err != nil {
		return nil, err
	}
	for _, ser := range res.Series {
		labels := map[string]string{}
		for i, d := range res.Dimensions {
			if i < len(ser.Values) {
				labels[d] = ser.Values[i]
			}
		}
		for _, pt := range ser.Points {
			b := pt.Bucket.UTC()
			bEnd := rule.Grain.Next(b)
			q := req
			q.TimeRange = timerange.Spec{From: &b, To: &bEnd}
			o := observation{Key: seriesKey(labels), Labels: labels, Bucket: b, Value: pt.Value, Query: queryText(q), Detector: string(rule.Kind)}
			test := pt.Value
			if rule.Kind == KindRelativeChange {
				o.Expected, o.Change, test = pt.CompareValue, pt.DeltaPercent, pt.DeltaPercent
			}
			if test == nil {
				o.Outcome = OutcomeNoData
			} else {
				o.Outcome = compare(rule.Comparator, *test, rule.Threshold)
			}
			out[b] = append(out[b], o)
		}
	}
	return out, nil
}

func compare(c Comparator, v, threshold float64) Outcome {
	if (c == Below && v < threshold) || (c != Below && v > threshold) {
		return OutcomeBreach
	}
	return OutcomeOK
}

// tenantContext is ctx with the tenant's system principal (viewer): the
// metric layer scopes every read to it.
func tenantContext(ctx context.Context, tenant string) context.Context {
	return auth.WithPrincipal(ctx, auth.Principal{Subject: systemActor, Tenant: tenant, Roles: []auth.Role{auth.RoleViewer}})
}

// step runs the state machine over one bucket's observations: every known
// series that has none gets NO_DATA (or ERROR when the read failed), and a
// rule with no series at all gets one total series.
func step(rule *Rule, states map[string]*storedState, obs []observation, readErr error, bucket, at time.Time) ([]*storedState, []HistoryEntry, []*EventPayload) {
	seen := map[string]bool{}
	for _, o := range obs {
		seen[o.Key] = true
	}
	keys := make([]string, 0, len(states))
	for k := range states {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !seen[k] {
			obs = append(obs, observation{Key: k, Labels: states[k].Labels, Bucket: bucket, Outcome: OutcomeNoData})
		}
	}
	if len(obs) == 0 {
		obs = append(obs, observation{Key: seriesKey(nil), Labels: map[string]string{}, Bucket: bucket, Outcome: OutcomeNoData})
	}
	if readErr != nil {
		msg := errs.PublicMessage(readErr)
		for i := range obs {
			obs[i].Outcome, obs[i].Err, obs[i].Value = OutcomeError, msg, nil
		}
	}
	policy := Policy{For: rule.For, KeepFiringFor: rule.KeepFiringFor, NoData: rule.NoData, OnError: rule.OnError}
	var next []*storedState
	var hist []HistoryEntry
	var events []*EventPayload
	for _, o := range obs {
		prev := states[o.Key]
		if prev == nil {
			prev = &storedState{Key: o.Key, Labels: o.Labels}
		}
		base := prev.SeriesState
		if prev.LastBucket.Equal(bucket) {
			base = prev.Before // this bucket again: start where it started
		}
		ns, tr := Step(policy, base, o.Outcome, bucket, at)
		cur := &storedState{SeriesState: ns, Before: base, RuleID: rule.ID, Key: o.Key, Labels: nonNilMap(o.Labels), LastBucket: bucket,
			LastValue: o.Value, Version: prev.Version}
		next = append(next, cur)
		hist = append(hist, HistoryEntry{Tenant: rule.Tenant, RuleID: rule.ID, SeriesKey: o.Key, Series: cur.Labels, Bucket: bucket,
			From: tr.From, State: tr.To, Value: o.Value, Expected: o.Expected, Error: o.Err, At: at})
		if tr.Event != EventNone {
			fired := ns.FiredBucket
			if tr.Event == EventResolved {
				fired = base.FiredBucket
			}
			events = append(events, newEvent(rule, o, tr, bucket, fired, at))
		}
	}
	return next, hist, events
}

// record is what one rule's evaluation writes.
type record struct {
	history []HistoryEntry
	states  []*storedState
	status  *ruleStatus
}

// evaluate evaluates one rule on the bucket [from, to) unless its status
// says it was: reads the data, steps every series, publishes the events
// and enqueues the notifications, and returns what to record. A failed
// read is recorded as ERROR for the rule's series (Evaluation.Err); only a
// failure to publish or enqueue is an error. Evaluation time is the
// bucket's end and a re-evaluated bucket starts from the states before it,
// so a retry derives the same transitions and keys.
func (s *Service) evaluate(ctx context.Context, rule *Rule, from, to time.Time, status *ruleStatus, states map[string]*storedState) (*Evaluation, *record, error) {
	ev := &Evaluation{RuleID: rule.ID, Bucket: from}
	if !status.LastBucket.IsZero() && !status.LastBucket.Before(from) {
		ev.Skipped = true
		return ev, nil, nil
	}
	if s.awaitingScores(ctx, rule, to) {
		ev.Skipped = true // not recorded: the next tick evaluates the bucket
		return ev, nil, nil
	}
	byBucket, readErr := s.observe(tenantContext(ctx, rule.Tenant), rule, from, to)
	ev.Err = readErr
	next, hist, events := step(rule, states, byBucket[from], readErr, from, to)
	ev.History, ev.Events = hist, events
	for _, e := range events {
		if err := s.publish(ctx, e); err != nil {
			return nil, nil, err
		}
	}
	if err := s.notify(ctx, rule, status, next, events, from, to); err != nil {
		return nil, nil, err
	}
	status.RuleID, status.LastBucket, status.LastError = rule.ID, from, ""
	if readErr != nil {
		status.LastError = errs.PublicMessage(readErr)
	}
	return ev, &record{history: hist, states: next, status: status}, nil
}

// awaitingScores reports whether an ANOMALY rule's monitor has not yet
// been evaluated for the bucket ending at to, less than half a bucket after
// its end (past that, missing scores are NO_DATA: a monitor that never
// comes does not freeze the rule). A failed check does not hold the rule
// back.
func (s *Service) awaitingScores(ctx context.Context, rule *Rule, to time.Time) bool {
	r, ok := s.deps.Anomalies.(AnomalyReadiness)
	if rule.Kind != KindAnomaly || !ok || !s.cfg.Now().Before(to.Add(rule.Grain.Next(to).Sub(to)/2)) {
		return false
	}
	done, err := r.Evaluated(ctx, rule.Tenant, rule.MonitorID, to)
	return err == nil && !done
}

// EvaluateTenant evaluates every enabled rule of tenant (its defaults
// included) on the latest completed bucket of each rule's grain at now,
// then records them together: history, states, and last the statuses that
// mark the buckets done. A rule whose data cannot be read is recorded as
// ERROR and never stops the others; a rule that cannot publish or enqueue
// is not recorded (the retried tick evaluates it again) and is named in the
// returned error.
func (s *Service) EvaluateTenant(ctx context.Context, tenant string, now time.Time) ([]*Evaluation, error) {
	scope, err := store.DangerousScopeForTenant(tenant)
	if err != nil {
		return nil, err
	}
	rules, err := s.rulesOf(ctx, scope)
	if err != nil {
		return nil, err
	}
	statuses, err := s.repo.statuses(ctx, scope)
	if err != nil {
		return nil, err
	}
	states, err := s.repo.states(ctx, scope)
	if err != nil {
		return nil, err
	}
	var out []*Evaluation
	var failures []string
	var hist []HistoryEntry
	var nextStates []*storedState
	var nextStatus []*ruleStatus
	for _, r := range rules {
		if !r.Enabled || (r.Virtual && s.deps.Anomalies == nil) {
			continue
		}
		from, to := LatestBucket(r.Grain, now)
		status := statuses[r.ID]
		if status == nil {
			status = &ruleStatus{RuleID: r.ID}
		}
		ev, rec, err := s.evaluate(ctx, r, from, to, status, states[r.ID])
		if err != nil {
			failures = append(failures, r.ID+": "+errs.PublicMessage(err))
			s.cfg.Logger.Error("alert rule evaluation not recorded", "tenant", tenant, "rule", r.ID, "err", err)
			continue
		}
		out = append(out, ev)
		if rec != nil {
			hist, nextStates, nextStatus = append(hist, rec.history...), append(nextStates, rec.states...), append(nextStatus, rec.status)
		}
	}
	if err := s.repo.saveHistory(ctx, hist); err != nil {
		return nil, err
	}
	if err := s.repo.saveStates(ctx, tenant, nextStates); err != nil {
		return nil, err
	}
	if err := s.repo.saveStatuses(ctx, tenant, nextStatus); err != nil {
		return nil, err
	}
	if len(failures) > 0 {
		return out, errs.E("alerts.EvaluateTenant", errs.KindUnavailable, "some rules could not be evaluated: "+strings.Join(failures, "; "))
	}
	return out, nil
}

// idempotencyKey derives the key of a transition from (tenant, rule,
// series, transition bucket, event): the Nats-Msg-Id of its event and the
// root of its notification keys.
func idempotencyKey(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x1f")))
	return hex.EncodeToString(h[:16])
}

func fp(v float64) *float64 { return &v }
