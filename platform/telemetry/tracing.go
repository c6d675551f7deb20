package telemetry

import (
	"context"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Tracing is the process's OpenTelemetry tracer provider and the W3C trace
// context propagator that carries a trace across HTTP, NATS and Kafka
// headers and Asynq payloads. Nothing is set globally: the composition root
// hands it down. The zero value and a nil *Tracing trace nothing.
type Tracing struct {
	provider trace.TracerProvider
	prop     propagation.TextMapPropagator
	shutdown func(context.Context) error
}

// NewTracing exports spans over OTLP/HTTP when the standard OpenTelemetry
// variables ask for it — OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set, and OTEL_TRACES_EXPORTER not
// "none" — and traces nothing otherwise. The exporter reads the other
// OTEL_EXPORTER_OTLP_* variables (headers, timeout, TLS) itself;
// OTEL_SERVICE_NAME (default "analyticsd") and OTEL_RESOURCE_ATTRIBUTES name
// the resource.
func NewTracing(ctx context.Context, getenv func(string) string, version string) (*Tracing, error) {
	if strings.EqualFold(getenv("OTEL_TRACES_EXPORTER"), "none") ||
		(getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "") {
		return nil, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, errs.Wrap("telemetry.NewTracing", errs.KindInvalid, err, "OTEL_EXPORTER_OTLP_* does not describe a usable OTLP/HTTP endpoint")
	}
	name := getenv("OTEL_SERVICE_NAME")
	if name == "" {
		name = "analyticsd"
	}
	return newTracing(sdktrace.WithBatcher(exp), name, version, getenv("OTEL_RESOURCE_ATTRIBUTES")), nil
}

// NewTracingTo sends every span to exp as soon as it ends (tests use an
// in-memory exporter).
func NewTracingTo(exp sdktrace.SpanExporter, service string) *Tracing {
	return newTracing(sdktrace.WithSyncer(exp), service, "test", "")
}

func newTracing(opt sdktrace.TracerProviderOption, service, version, extra string) *Tracing {
	attrs := []attribute.KeyValue{attribute.String("service.name", service), attribute.String("service.version", version)}
	for _, kv := range strings.Split(extra, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k != "" {
			attrs = append(attrs, attribute.String(k, v))
		}
	}
	tp := sdktrace.NewTracerProvider(opt, sdktrace.WithResource(resourceOf(attrs)))
	return &Tracing{
		provider: tp,
		prop:     propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		shutdown: tp.Shutdown,
	}
}

// Tracer returns the named tracer (a no-op one when t is nil).
func (t *Tracing) Tracer(name string) trace.Tracer {
	if t == nil || t.provider == nil {
		return noop.NewTracerProvider().Tracer(name)
	}
	return t.provider.Tracer(name)
}

// Inject writes ctx's trace context into carrier (no-op when t is nil).
func (t *Tracing) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	if t != nil && t.prop != nil {
		t.prop.Inject(ctx, carrier)
	}
}

// Extract returns ctx with the trace context carried in carrier.
func (t *Tracing) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	if t == nil || t.prop == nil {
		return ctx
	}
	return t.prop.Extract(ctx, carrier)
}

// Shutdown flushes and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.shutdown == nil {
		return nil
	}
	return t.shutdown(ctx)
}

// traceHandler adds trace_id and span_id to every record logged with a
// context that carries a span, so a log line leads to its trace.
type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(as)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.Handler.WithGroup(name)}
}
