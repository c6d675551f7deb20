package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"sort"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// Notification reasons.
const (
	// ReasonTransitions is the notification of an evaluation with
	// transitions (to FIRING or resolved).
	ReasonTransitions = "TRANSITIONS"
	// ReasonRepeat reminds that series are still FIRING after the rule's
	// repeat interval.
	ReasonRepeat = "REPEAT"
)

// Notification is one grouped message about one rule and bucket: all its
// series' transitions in one, however many series there are. It is the
// body of webhook deliveries.
type Notification struct {
	// Key is the notification's idempotency key (tenant, rule, bucket, reason).
	Key       string          `json:"key"`
	Reason    string          `json:"reason"`
	Tenant    string          `json:"tenant_id"`
	RuleID    string          `json:"rule_id"`
	RuleName  string          `json:"rule_name"`
	MetricKey string          `json:"metric_key"`
	Bucket    time.Time       `json:"bucket"`
	Events    []*EventPayload `json:"events"`
	// Firing are the labels of every series FIRING (or RECOVERING) after
	// the evaluation.
	Firing []map[string]string `json:"firing"`
}

// notifyParams is the payload of a KindNotify task: one notification to one
// channel, named by its identity (the channel's secret stays in the DB).
type notifyParams struct {
	Notification Notification `json:"notification"`
	Channel      string       `json:"channel"`
}

// identity names a channel without its secret.
func (c Channel) identity() string {
	if c.Kind == ChannelEmail {
		return "EMAIL:" + strings.Join(c.To, ",")
	}
	return "WEBHOOK:" + c.URL
}

// targets are the channels a rule notifies: its own, then the tenant's
// admin channels when NotifyAdmins.
func (s *Service) targets(ctx context.Context, scope store.Scope, rule *Rule) ([]Channel, error) {
	out := append([]Channel(nil), rule.Channels...)
	if !rule.NotifyAdmins {
		return out, nil
	}
	cs, err := s.repo.channels(ctx, scope)
	if err != nil {
		return nil, err
	}
	if len(cs.Emails) > 0 {
		out = append(out, Channel{Kind: ChannelEmail, To: cs.Emails})
	}
	if cs.WebhookURL != "" {
		out = append(out, Channel{Kind: ChannelWebhook, URL: cs.WebhookURL, Secret: cs.WebhookSecret})
	}
	return out, nil
}

// notify enqueues the notification of one evaluation, one task per
// channel: the transitions grouped into one message, or a reminder when
// series stayed FIRING for the repeat interval. The TaskID and the delivery
// key derive from the notification key, so a retried evaluation enqueues
// and sends nothing twice. A snoozed rule notifies no one.
func (s *Service) notify(ctx context.Context, rule *Rule, status *ruleStatus, next []*storedState, events []*EventPayload, bucket, at time.Time) error {
	if rule.Muted(at) || s.deps.Jobs == nil {
		return nil
	}
	var firing []map[string]string
	for _, st := range next {
		if st.State == StateFiring || st.State == StateRecovering {
			firing = append(firing, st.Labels)
		}
	}
	sort.Slice(firing, func(i, j int) bool { return seriesKey(firing[i]) < seriesKey(firing[j]) })
	repeat := rule.RepeatInterval
	if repeat == 0 {
		repeat = DefaultRepeatInterval
	}
	reason := ""
	switch {
	case len(events) > 0:
		reason = ReasonTransitions
	case len(firing) > 0 && at.Sub(status.LastNotifiedAt) >= repeat:
		reason = ReasonRepeat
	default:
		return nil
	}
	scope, err := store.DangerousScopeForTenant(rule.Tenant)
	if err != nil {
		return err
	}
	chans, err := s.targets(ctx, scope, rule)
	if err != nil || len(chans) == 0 {
		return err
	}
	n := Notification{Key: idempotencyKey(rule.Tenant, rule.ID, bucket.UTC().Format(time.RFC3339Nano), reason), Reason: reason,
		Tenant: rule.Tenant, RuleID: rule.ID, RuleName: rule.Name, MetricKey: rule.MetricKey, Bucket: bucket, Events: events, Firing: firing}
	if n.Events == nil {
		n.Events = []*EventPayload{}
	}
	for _, c := range chans {
		t := jobs.Task{Kind: KindNotify, Tenant: rule.Tenant, Queue: s.cfg.Queue, MaxRetry: s.cfg.NotifyMaxRetry, Timeout: DefaultNotifyTimeout,
			Params: notifyParams{Notification: n, Channel: c.identity()}}
		if _, err := s.deps.Jobs.Enqueue(ctx, t); err != nil {
			return err
		}
	}
	if len(firing) > 0 {
		status.LastNotifiedAt = at
	}
	return nil
}

// Notifier returns the jobs.Handler of KindNotify: it sends one
// notification to one channel once. The delivery log (alert_deliveries,
// keyed by notification key and channel) is read first: a notification
// already SENT (or FAILED for good) is not sent again, however often the
// task runs.
func (s *Service) Notifier() jobs.Handler { return jobs.HandlerFunc(s.deliver) }

func (s *Service) deliver(ctx context.Context, j jobs.Job) error {
	const op = "alerts.deliver"
	var p notifyParams
	if err := j.Decode(&p); err != nil {
		return err
	}
	scope, err := store.DangerousScopeForTenant(j.Tenant)
	if err != nil || p.Notification.Tenant != j.Tenant {
		return errs.E(op, errs.KindInvalid, "notification task has no or a foreign tenant")
	}
	key := idempotencyKey(p.Notification.Key, p.Channel)
	d, _, err := s.repo.delivery(ctx, scope, key)
	if err != nil {
		return err
	}
	if d.Status == deliverySent || d.Status == deliveryFailed {
		return nil
	}
	d.RuleID, d.Channel = p.Notification.RuleID, p.Channel
	sendErr := s.send(ctx, scope, p, key)
	ctx = context.WithoutCancel(ctx)
	d.Attempts = j.Retried + 1
	switch {
	case sendErr == nil:
		d.Status, d.Error = deliverySent, ""
	case errs.Is(sendErr, errs.KindInvalid) || j.Retried >= j.MaxRetry:
		d.Status, d.Error = deliveryFailed, errs.PublicMessage(sendErr)
	default:
		d.Status, d.Error = deliveryRetrying, errs.PublicMessage(sendErr)
	}
	if err := s.repo.saveDelivery(ctx, j.Tenant, d); err != nil {
		return errors.Join(sendErr, err)
	}
	return sendErr
}

// send delivers p to its channel as the rule's targets name it now.
func (s *Service) send(ctx context.Context, scope store.Scope, p notifyParams, key string) error {
	const op = "alerts.send"
	rules, err := s.rulesOf(ctx, scope)
	if err != nil {
		return err
	}
	var rule *Rule
	for _, r := range rules {
		if r.ID == p.Notification.RuleID {
			rule = r
		}
	}
	if rule == nil {
		return errs.E(op, errs.KindInvalid, "the rule was deleted before its notification was sent")
	}
	chans, err := s.targets(ctx, scope, rule)
	if err != nil {
		return err
	}
	for _, c := range chans {
		if c.identity() != p.Channel {
			continue
		}
		if c.Kind == ChannelEmail {
			if s.deps.Mailer == nil {
				return errs.E(op, errs.KindInvalid, "email is not configured on this server")
			}
			return s.deps.Mailer.Send(ctx, c.To, emailMessage(c.To, &p.Notification, key))
		}
		if s.deps.Webhooks == nil {
			return errs.E(op, errs.KindInvalid, "webhooks are not configured on this server")
		}
		body, err := json.Marshal(p.Notification)
		if err != nil {
			return errs.Wrap(op, errs.KindInternal, err, "")
		}
		return s.deps.Webhooks.Post(ctx, c.URL, c.Secret, p.Notification.subject(), key, body)
	}
	return errs.E(op, errs.KindInvalid, "the channel was removed from the rule before the notification was sent")
}

// subject is the event a webhook delivery announces (header X-Analytics-Event).
func (n *Notification) subject() string {
	for _, e := range n.Events {
		if e.Event == EventTriggered {
			return SubjectTriggered
		}
	}
	if n.Reason == ReasonRepeat {
		return SubjectTriggered
	}
	return SubjectResolved
}

// emailMessage is a plain-text message listing the transitions (or the
// series still firing); its Message-ID is the delivery key.
func emailMessage(to []string, n *Notification, key string) []byte {
	var b bytes.Buffer
	triggered, resolved := 0, 0
	for _, e := range n.Events {
		if e.Event == EventTriggered {
			triggered++
		} else {
			resolved++
		}
	}
	subject := fmt.Sprintf("[ALERT] %s: %d firing", n.RuleName, len(n.Firing))
	if n.Reason == ReasonTransitions {
		subject = fmt.Sprintf("[ALERT] %s: %d triggered, %d resolved", n.RuleName, triggered, resolved)
	}
	fmt.Fprintf(&b, "To: %s\r\nSubject: %s\r\nMessage-ID: <%s@alerts.analyticsd>\r\nMIME-Version: 1.0\r\n", strings.Join(to, ", "),
		mime.QEncoding.Encode("utf-8", subject), key)
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	fmt.Fprintf(&b, "Alert rule %q on metric %s, bucket %s.\r\n\r\n", n.RuleName, n.MetricKey, n.Bucket.UTC().Format(time.RFC3339))
	for _, e := range n.Events {
		fmt.Fprintf(&b, "%s %s: %s -> %s, value %s, expected %s\r\n", strings.ToUpper(string(e.Event)), seriesKey(e.Series),
			e.PreviousState, e.State, num(e.Value), num(e.Expected))
	}
	if len(n.Firing) > 0 {
		fmt.Fprintf(&b, "\r\nStill firing (%d series):\r\n", len(n.Firing))
		for _, f := range n.Firing {
			fmt.Fprintf(&b, "  %s\r\n", seriesKey(f))
		}
	}
	return b.Bytes()
}

func num(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.4g", *v)
}
