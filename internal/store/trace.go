package store

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/customergateway/gateway/internal/tracing"
)

// txSpan starts the span of one store transaction, a child of ctx's span (a request's, a
// queued delivery's), and answers the function that ends it with the transaction's error.
// Outside a recorded trace it does nothing.
func (s *Store) txSpan(ctx context.Context) (context.Context, func(error)) {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, func(error) {}
	}
	ctx, span := tracing.Tracer().Start(ctx, "store transaction", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", s.engine)))
	return ctx, func(err error) {
		if err != nil {
			span.SetStatus(codes.Error, "rolled back")
		}
		span.End()
	}
}
