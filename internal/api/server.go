// Package api is the gateway's HTTP surface and nothing else: the chi routes, contract
// validation, decoding, one call to a service, encoding, and problem answers.
package api

import (
	"context"
	"net/http"

	"github.com/rs/zerolog"

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
	Audit    AuditQuerier
	// Replies keeps Idempotency-Key replies; nil: the header is ignored.
	Replies Replies
	// Ping tells /readyz whether the store answers; nil: there is no store.
	Ping          func(context.Context) error
	Metrics       *metrics.Metrics
	Readiness     *Readiness
	DefaultRegion string
	MaxBodyBytes  int64
}

// NewServer returns the gateway's handler.
func NewServer(d Deps) http.Handler {
	return routes(d)
}
