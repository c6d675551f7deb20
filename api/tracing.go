package api

import (
	"context"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/reqid"
	"github.com/learnhub/analytics-service/platform/telemetry"
)

// complexityStat is where limits leaves an operation's complexity for its span.
const complexityStat = "analytics.complexity"

// traceHTTP starts a server span per HTTP request, continuing the caller's
// W3C trace context (traceparent). Probes, scrapes and WebSocket upgrades
// (one connection, many operations: each operation gets its own span) are
// not traced. A nil tracing traces nothing.
func traceHTTP(t *telemetry.Tracing, mux *http.ServeMux, next http.Handler) http.Handler {
	if t == nil {
		return next
	}
	tr := t.Tracer("analytics/http")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, route := mux.Handler(r)
		if route == "GET /metrics" || route == "GET /healthz" || route == "GET /readyz" || r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		if route == "" {
			route = "unmatched"
		}
		ctx := t.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, sp := tr.Start(ctx, "HTTP "+route, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
			attribute.String("http.request.method", r.Method),
			attribute.String("http.route", route),
			attribute.String("analytics.request_id", reqid.From(ctx)),
		))
		defer sp.End()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(ctx))
		sp.SetAttributes(attribute.Int("http.response.status_code", rec.code))
		if rec.code >= 500 {
			sp.SetStatus(codes.Error, http.StatusText(rec.code))
		}
	})
}

// operationTracer is the gqlgen extension that gives every GraphQL operation
// its span: operation type and name, tenant, complexity, and its errors'
// codes. A subscription's span lasts until its stream ends.
type operationTracer struct{ tr trace.Tracer }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = operationTracer{}

func (operationTracer) ExtensionName() string                   { return "Tracing" }
func (operationTracer) Validate(graphql.ExecutableSchema) error { return nil }

func (o operationTracer) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	typ := "query"
	if op := oc.Doc.Operations.ForName(oc.OperationName); op != nil {
		typ = string(op.Operation)
	}
	name := oc.OperationName
	attrs := []attribute.KeyValue{
		attribute.String("graphql.operation.type", typ),
		attribute.String("graphql.operation.name", name),
	}
	if c, ok := oc.Stats.GetExtension(complexityStat).(int); ok {
		attrs = append(attrs, attribute.Int("analytics.graphql.complexity", c))
	}
	if p, ok := auth.PrincipalFrom(ctx); ok {
		attrs = append(attrs, attribute.String("analytics.tenant", p.Tenant))
	}
	if name == "" {
		name = "anonymous"
	}
	ctx, sp := o.tr.Start(ctx, "graphql "+typ+" "+name, trace.WithAttributes(attrs...))
	rh := next(ctx)
	ended := false
	return func(ctx context.Context) *graphql.Response {
		resp := rh(ctx)
		if ended {
			return resp
		}
		if resp != nil && len(resp.Errors) > 0 {
			codesSeen := make([]string, 0, len(resp.Errors))
			for _, e := range resp.Errors {
				if c, ok := e.Extensions["code"].(string); ok {
					codesSeen = append(codesSeen, c)
				}
			}
			sp.SetAttributes(attribute.StringSlice("analytics.graphql.error_codes", codesSeen))
			sp.SetStatus(codes.Error, resp.Errors[0].Message)
		}
		if resp == nil || typ != "subscription" {
			sp.End()
			ended = true
		}
		return resp
	}
}
