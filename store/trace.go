package store

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/learnhub/analytics-service/platform/reqid"
)

// span starts the statement's span when Options.Tracer is set; end records
// the outcome. Bound values never become attributes.
func (db *DB) span(ctx context.Context, kind, sql, table string) (context.Context, func(error)) {
	if db.opts.Tracer == nil {
		return ctx, func(error) {}
	}
	attrs := []attribute.KeyValue{
		attribute.String("db.system.name", "clickhouse"),
		attribute.String("db.operation.name", kind),
	}
	if sql != "" {
		attrs = append(attrs, attribute.String("db.query.text", sql))
	}
	if table != "" {
		attrs = append(attrs, attribute.String("db.collection.name", table))
	}
	if id := reqid.From(ctx); id != "" {
		attrs = append(attrs, attribute.String("analytics.log_comment", id))
	}
	name := "clickhouse " + kind
	if table != "" {
		name += " " + table
	}
	ctx, sp := db.opts.Tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return ctx, func(err error) {
		if err != nil {
			sp.RecordError(err)
			sp.SetStatus(codes.Error, "statement failed")
		}
		sp.End()
	}
}
