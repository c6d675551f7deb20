package ingest

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// traceparentHeader carries the W3C trace context with an envelope: a NATS
// header from the producer (canonical HTTP form, as propagation's
// HeaderCarrier writes it), copied into a Kafka header by the bridge.
const traceparentHeader = "Traceparent"

// maxBatchLinks bounds the links of one batch span (a batch may hold 50 000
// events from as many traces).
const maxBatchLinks = 128

// traceBatch starts the batch's span when tracing is on: a child of the
// first event's trace, linked to the next ones, so the trace of an event
// sent through POST /v1/events continues into its insert and the commit
// notice. end records the outcome.
func (s *Sink) traceBatch(ctx context.Context, valid []pending) (context.Context, func(error)) {
	t := s.cfg.Tracing
	if t == nil {
		return ctx, func(error) {}
	}
	parent := ctx
	var links []trace.Link
	for i := range valid {
		tp := valid[i].msg.Trace
		if tp == "" {
			continue
		}
		sc := trace.SpanContextFromContext(t.Extract(context.Background(), propagation.HeaderCarrier(http.Header{traceparentHeader: {tp}})))
		if !sc.IsValid() {
			continue
		}
		if parent == ctx {
			parent = trace.ContextWithRemoteSpanContext(ctx, sc)
			continue
		}
		if len(links) == maxBatchLinks {
			break
		}
		links = append(links, trace.Link{SpanContext: sc})
	}
	ctx, sp := t.Tracer("analytics/ingest").Start(parent, "ingest batch", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithLinks(links...), trace.WithAttributes(attribute.Int("messaging.batch.message_count", len(valid))))
	return ctx, func(err error) {
		if err != nil {
			sp.RecordError(err)
			sp.SetStatus(codes.Error, "batch not stored")
		}
		sp.End()
	}
}
