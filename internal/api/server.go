// Package api is the gateway's HTTP surface and nothing else: the chi routes, contract
// validation, decoding, one call to a service, encoding, and problem answers.
package api

import (
	"context"
	"net/http"
	"time"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/customergateway/gateway/internal/delivery"
	"github.com/customergateway/gateway/internal/metrics"
)

// Updater is the customer update use case (internal/delivery).
type Updater interface {
	Update(ctx context.Context, req delivery.Request) (delivery.Answer, error)
}

// Deps is everything the HTTP surface needs; cmd/gateway builds it once.
type Deps struct {
	Logger   zerolog.Logger
	Contract *Contract
	Document []byte
	Updates  Updater
	// Follow answers GET /updates and GET /customers; nil: nothing is kept (404).
	Follow Follower
	// Deliveries lists and acts on queued deliveries; nil: there is no queue.
	Deliveries Deliveries
	// Auth authenticates callers; nil (GATEWAY_AUTH=none): every request is the anonymous
	// caller's, with every scope.
	Auth Authenticator
	// MetricsPublic serves /metrics to anyone, without metrics:read.
	MetricsPublic bool
	Audit         AuditQuerier
	// Replies keeps Idempotency-Key replies; nil: the header is ignored.
	Replies Replies
	// Ping tells /readyz whether the store answers; nil: there is no store.
	Ping      func(context.Context) error
	Metrics   *metrics.Metrics
	Readiness *Readiness
	// AuditTimeout bounds one audit query, every source and window together.
	AuditTimeout  time.Duration
	DefaultRegion string
	MaxBodyBytes  int64

	// MaxInFlight bounds the requests answered at once and MaxBodyBytesInFlight their
	// bodies' bytes: past either a request is answered 503 with Retry-After (probes
	// excepted). 0: no bound.
	MaxInFlight          int
	MaxBodyBytesInFlight int64
	// RateLimit is each caller's request budget: 429 with Retry-After past it. A zero
	// Rate: no limit.
	RateLimit RateLimit
	// Tracing makes each request a span (internal/tracing set up the provider).
	Tracing bool
}

// NewServer returns the gateway's handler. With Tracing, every request is a server span
// continuing the caller's traceparent (otelhttp); without it nothing is wrapped.
func NewServer(d Deps) http.Handler {
	h := routes(d)
	if d.Tracing {
		h = otelhttp.NewHandler(h, "gateway", otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }))
	}
	return h
}
