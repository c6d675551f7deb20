package blob

import (
	"context"
	"io"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Traced wraps s so that writes, reads and deletes are spans of tr, with
// the object key as an attribute (keys name tenants and job ids, never
// content).
func Traced(s Store, tr trace.Tracer) Store { return traced{s: s, tr: tr} }

type traced struct {
	s  Store
	tr trace.Tracer
}

func (t traced) span(ctx context.Context, op, key string) (context.Context, func(error)) {
	ctx, sp := t.tr.Start(ctx, "blob "+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("analytics.blob.key", key)))
	return ctx, func(err error) {
		if err != nil {
			sp.RecordError(err)
			sp.SetStatus(codes.Error, op+" failed")
		}
		sp.End()
	}
}

func (t traced) Put(ctx context.Context, key string, r io.Reader) error {
	ctx, end := t.span(ctx, "put", key)
	err := t.s.Put(ctx, key, r)
	end(err)
	return err
}

func (t traced) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	ctx, end := t.span(ctx, "open", key)
	rc, err := t.s.Open(ctx, key)
	end(err)
	return rc, err
}

func (t traced) Delete(ctx context.Context, key string) error {
	ctx, end := t.span(ctx, "delete", key)
	err := t.s.Delete(ctx, key)
	end(err)
	return err
}

func (t traced) List(ctx context.Context, prefix string) ([]Object, error) {
	return t.s.List(ctx, prefix)
}

func (t traced) SignedURL(ctx context.Context, key string, expires time.Time) (string, error) {
	return t.s.SignedURL(ctx, key, expires)
}
