package alerts

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
)

// feedBuffer is how many events a slow in-app subscriber may lag behind
// before newer ones are dropped for it (it still finds them in alertHistory).
const feedBuffer = 64

// Feed serves the in-app alertEvents subscription: one ordered JetStream
// consumer per process reads the stored alert events (so a publish repeated
// by a retry, deduplicated by its Nats-Msg-Id, reaches nobody twice) and
// fans each out to the subscribers of its tenant only. Muted events are not
// pushed. It starts with its first subscriber. Safe for concurrent use.
type Feed struct {
	js     jetstream.JetStream
	stream string
	log    *slog.Logger

	mu      sync.Mutex
	started bool
	stop    func()
	subs    map[string]map[chan *EventPayload]struct{}
}

// NewFeed returns a Feed reading stream (the outgoing-events stream) on js.
func NewFeed(js jetstream.JetStream, stream string, log *slog.Logger) *Feed {
	if log == nil {
		log = slog.Default()
	}
	return &Feed{js: js, stream: stream, log: log, subs: map[string]map[chan *EventPayload]struct{}{}}
}

// Subscribe returns the alert events of the caller's tenant (from the
// verified principal in ctx) published from now on, until ctx ends.
func (f *Feed) Subscribe(ctx context.Context) (<-chan *EventPayload, error) {
	const op = "alerts.Feed.Subscribe"
	tenant, ok := auth.TenantFrom(ctx)
	if !ok || tenant == "" {
		return nil, errs.E(op, errs.KindUnauthenticated, "no tenant in the request")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.started {
		if err := f.start(); err != nil {
			return nil, errs.Wrap(op, errs.KindUnavailable, err, "alert events are unavailable")
		}
	}
	ch := make(chan *EventPayload, feedBuffer)
	if f.subs[tenant] == nil {
		f.subs[tenant] = map[chan *EventPayload]struct{}{}
	}
	f.subs[tenant][ch] = struct{}{}
	context.AfterFunc(ctx, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.subs[tenant], ch)
		if len(f.subs[tenant]) == 0 {
			delete(f.subs, tenant)
		}
		close(ch)
	})
	return ch, nil
}

// Close stops the consumer; subscribers' channels close with their contexts.
func (f *Feed) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stop != nil {
		f.stop()
		f.stop, f.started = nil, false
	}
}

// start creates the ordered consumer; caller holds mu.
func (f *Feed) start() error {
	ctx := context.Background()
	cons, err := f.js.OrderedConsumer(ctx, f.stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{SubjectTriggered, SubjectResolved}, DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		return err
	}
	cc, err := cons.Consume(f.dispatch)
	if err != nil {
		return err
	}
	f.started, f.stop = true, cc.Stop
	return nil
}

// dispatch hands one stored event to its tenant's subscribers.
func (f *Feed) dispatch(msg jetstream.Msg) {
	var ev EventPayload
	if err := json.Unmarshal(msg.Data(), &ev); err != nil {
		f.log.Warn("alert event does not decode", "subject", msg.Subject(), "err", err)
		return
	}
	if ev.Muted || ev.Tenant == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs[ev.Tenant] {
		e := ev
		select {
		case ch <- &e:
		default:
			f.log.Warn("alert event dropped for a slow subscriber", "tenant", ev.Tenant, "rule", ev.RuleID)
		}
	}
}

// Subscribers is the number of open subscriptions (for tests and metrics).
func (f *Feed) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, subs := range f.subs {
		n += len(subs)
	}
	return n
}
