// Package otlp sets up the gateway's OpenTelemetry trace export from the standard OTEL_*
// variables: an OTLP/HTTP exporter behind a batching tracer provider, installed through
// internal/tracing. With no OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) nothing is set up.
package otlp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"

	"github.com/customergateway/gateway/internal/tracing"
)

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
	tracing.Install(tp)
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
