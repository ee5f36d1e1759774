// Package api is the gateway's HTTP surface: the chi router, OpenAPI validation, handlers
// and problem answers.
package api

import (
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/adapters/fanout"
	"github.com/customergateway/gateway/internal/metrics"
	"github.com/customergateway/gateway/internal/store"
)

// Deps is everything the HTTP surface needs; cmd/gateway builds it once.
type Deps struct {
	Logger   zerolog.Logger
	Contract *Contract
	Document []byte
	Fanout   *fanout.Fanout
	Audit    AuditQuerier
	// Store remembers refs, Idempotency-Key replies and audit events; nil: nothing is kept.
	Store *store.Store
	// EUIDs resolves EngageLab EUIDs when a store keeps them.
	EUIDs EUIDResolver
	// Queue retries failed deliveries in the background; used only with Store.
	Queue         Queue
	Metrics       *metrics.Metrics
	Readiness     *Readiness
	DefaultRegion string
	// RequestTimeout bounds the fan-out of one update.
	RequestTimeout time.Duration
	MaxBodyBytes   int64
}

// NewServer returns the gateway's handler.
func NewServer(d Deps) http.Handler {
	return routes(d)
}
