// Package tracing holds the few helpers the gateway's packages share for OpenTelemetry
// traces: one tracer, the W3C trace context written into and read from what is stored, and
// the trace id for logs and problems. Setting up an exporter is internal/tracing/otlp's,
// kept apart so that the packages that only make spans do not link OTLP and its gRPC and
// protobuf dependencies.
//
// Until Install is called the global tracer is OpenTelemetry's no-op one and the propagator
// writes nothing, so the instrumented code costs a few calls and no allocation.
package tracing

import (
	"context"
	"fmt"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Name is the instrumentation scope of the gateway's own spans.
const Name = "github.com/customergateway/gateway"

// Tracer is the gateway's tracer, from the global provider Install sets (no-op until then).
func Tracer() trace.Tracer { return otel.Tracer(Name) }

// enabled is true once Install set an exporting provider.
var enabled atomic.Bool

// Enabled reports whether spans are exported: work done only for a span (parsing links,
// building attributes) is skipped when not.
func Enabled() bool { return enabled.Load() }

// Install makes tp the process's tracer provider and the W3C trace context (and baggage)
// its propagator, and turns on the work done only for exported spans.
func Install(tp trace.TracerProvider) {
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	enabled.Store(true)
}

// TraceID is the id of ctx's trace, "" when ctx carries none.
func TraceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		return sc.TraceID().String()
	}
	return ""
}

// TraceParent is ctx's span context as a W3C traceparent, "" when it has none: what a
// queued delivery keeps to link its span to the request that queued it.
func TraceParent(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	return fmt.Sprintf("00-%s-%s-%s", sc.TraceID(), sc.SpanID(), sc.TraceFlags())
}

// Links are the span links to the requests whose traceparents are given (invalid ones
// left out).
func Links(traceparents []string) []trace.Link {
	var links []trace.Link
	for _, tp := range traceparents {
		ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": tp})
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{attribute.String("link.kind", "queued by")}})
		}
	}
	return links
}

// Inject writes ctx's trace context into h (a vendor request's headers); nothing when
// tracing is off.
func Inject(ctx context.Context, h propagation.HeaderCarrier) {
	otel.GetTextMapPropagator().Inject(ctx, h)
}
