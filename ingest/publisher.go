package ingest

import (
	"context"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/propagation"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/telemetry"
)

// publishWindow is how many publishes are in flight before the publisher
// waits for their acknowledgements.
const publishWindow = 2000

// Publisher puts validated events on the firehose: JetStream publishes with
// Nats-Msg-Id = tenant:event id, each awaited, so an acknowledged event is
// stored and a retried publish is stored once.
type Publisher struct {
	tracing *telemetry.Tracing
	js      jetstream.JetStream
}

// NewPublisher publishes through js.
func NewPublisher(js jetstream.JetStream) *Publisher { return &Publisher{js: js} }

// Traced makes p carry the caller's trace context in a traceparent header
// of every envelope, so the consumers' batch spans continue the producer's
// trace.
func (p *Publisher) Traced(t *telemetry.Tracing) *Publisher {
	p.tracing = t
	return p
}

// Publish sends events and waits for every acknowledgement. The result has
// one entry per event: nil when stored, the error otherwise. err is set
// only when ctx ended.
func (p *Publisher) Publish(ctx context.Context, events []Event) (results []error, err error) {
	results = make([]error, len(events))
	for start := 0; start < len(events); start += publishWindow {
		end := min(start+publishWindow, len(events))
		futures := make([]jetstream.PubAckFuture, end-start)
		for i := start; i < end; i++ {
			data, merr := events[i].MarshalJSON()
			if merr != nil {
				results[i] = errs.Wrap("ingest.Publish", errs.KindInternal, merr, "")
				continue
			}
			msg := &nats.Msg{Subject: events[i].Subject(), Data: data}
			if p.tracing != nil {
				msg.Header = nats.Header{}
				p.tracing.Inject(ctx, propagation.HeaderCarrier(msg.Header))
			}
			f, perr := p.js.PublishMsgAsync(msg, jetstream.WithMsgID(events[i].MsgID()))
			if perr != nil {
				results[i] = errs.Wrap("ingest.Publish", errs.KindUnavailable, perr, "the firehose did not take the event; retry")
				continue
			}
			futures[i-start] = f
		}
		for i, f := range futures {
			if f == nil {
				continue
			}
			select {
			case <-f.Ok():
			case ferr := <-f.Err():
				results[start+i] = errs.Wrap("ingest.Publish", errs.KindUnavailable, ferr, "the firehose did not store the event; retry")
			case <-ctx.Done():
				return results, ctx.Err()
			}
		}
	}
	return results, nil
}
