// Package tracing sets up OpenTelemetry tracing from the standard OTEL_* variables and
// holds the few helpers the gateway's packages share: one tracer, the W3C trace context
// written into and read from what is stored, and the trace id for logs and problems.
//
// With no OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
// nothing is set up: the global tracer is OpenTelemetry's no-op one and the propagator
// writes nothing, so the instrumented code costs a few calls and no allocation.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// Name is the instrumentation scope of the gateway's own spans.
const Name = "github.com/customergateway/gateway"

// Tracer is the gateway's tracer, from the global provider Setup sets (no-op until then).
func Tracer() trace.Tracer { return otel.Tracer(Name) }

// enabled is true once Setup installed an exporting provider.
var enabled atomic.Bool

// Enabled reports whether spans are exported: work done only for a span (parsing links,
// building attributes) is skipped when not.
func Enabled() bool { return enabled.Load() }

// Setup reads the OTEL_* variables through getenv and, when an OTLP endpoint is named,
// installs a tracer provider exporting over OTLP/HTTP and the W3C trace context
// propagator. It answers whether tracing is on and a shutdown that flushes what is
// buffered. The variables read here: OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER (otlp or
// none), OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/traces),
// OTEL_SERVICE_NAME and OTEL_BSP_SCHEDULE_DELAY; the exporter reads the others it knows
// (headers, timeout, compression) from the process environment itself.
func Setup(ctx context.Context, getenv func(string) string, version string) (bool, func(context.Context) error, error) {
	none := func(context.Context) error { return nil }
	endpoint, err := tracesEndpoint(getenv)
	if err != nil || endpoint == "" {
		return false, none, err
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return false, none, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
	}
	delay := 5 * time.Second // the specification's default
	if v := getenv("OTEL_BSP_SCHEDULE_DELAY"); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms <= 0 {
			return false, none, errors.New("OTEL_BSP_SCHEDULE_DELAY: a positive number of milliseconds")
		}
		delay = time.Duration(ms) * time.Millisecond
	}
	name := getenv("OTEL_SERVICE_NAME")
	if name == "" {
		name = "customer-gateway"
	}
	res := resource.NewSchemaless(semconv.ServiceName(name), semconv.ServiceVersion(version))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(delay)), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	enabled.Store(true)
	return true, tp.Shutdown, nil
}

// tracesEndpoint is the OTLP/HTTP traces URL the variables name, "" for none.
func tracesEndpoint(getenv func(string) string) (string, error) {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return "", nil
	}
	switch exp := getenv("OTEL_TRACES_EXPORTER"); exp {
	case "", "otlp":
	case "none":
		return "", nil
	default:
		return "", fmt.Errorf("OTEL_TRACES_EXPORTER: %q is not supported (otlp or none)", exp)
	}
	endpoint := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if endpoint == "" {
		base := getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
		if base == "" {
			return "", nil
		}
		endpoint = strings.TrimSuffix(base, "/") + "/v1/traces"
	}
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("OTEL_EXPORTER_OTLP_ENDPOINT: an absolute http or https URL")
	}
	return endpoint, nil
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
