package queue

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/customergateway/gateway/internal/store"
	"github.com/customergateway/gateway/internal/tracing"
)

// startDeliverySpan starts the span of one background attempt of p: a trace of its own,
// linked to the spans of the requests that queued it (each update merged in is one link),
// whose vendor attempts are its children. With tracing off it answers ctx and a span that
// records nothing.
func startDeliverySpan(ctx context.Context, p store.Pending) (context.Context, trace.Span) {
	if !tracing.Enabled() {
		return ctx, trace.SpanFromContext(context.Background())
	}
	return tracing.Tracer().Start(ctx, "queued delivery "+string(p.Vendor), trace.WithNewRoot(),
		trace.WithLinks(tracing.Links(p.TraceParents)...),
		trace.WithAttributes(attribute.String("vendor", string(p.Vendor)), attribute.String("delivery_id", p.DeliveryID),
			attribute.Int("attempts", p.Attempts)))
}
