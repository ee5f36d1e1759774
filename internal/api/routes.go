package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/customergateway/gateway/internal/auth"
)

// routes is the whole API surface in one place.
func routes(d Deps) http.Handler {
	r := chi.NewRouter()
	r.Use(withRequestID(d.Logger), accessLog(d.Metrics.ObserveRequest), recoverer)
	// Limits and HTTP manners (limits.go, middleware.go), on every route.
	r.Use(securityHeaders, limitBody(d.MaxBodyBytes), shedLoad(d.MaxInFlight, d.MaxBodyBytesInFlight, d.MaxBodyBytes, isProbe))
	r.Use(headAsGet)
	// Who may do what (auth.go): the caller is authenticated and its scope checked before
	// anything of its request is read, then rate-limited as itself; one limiter for every
	// route, so a caller's rate is its own across them.
	limit := rateLimited(d.RateLimit, rateKey, isProbe)
	as := func(scope string) chi.Middlewares { return chi.Middlewares{authorized(d.Auth, scope), limit} }

	r.With(as(auth.ScopeCustomersWrite)...).With(d.Contract.validated(customerRules(d.DefaultRegion)), idempotent(d.Replies, callerKeyOf)).
		Method(http.MethodPut, "/customers/{customer_id}", handleUpdateCustomer(d.Updates))
	r.With(as(auth.ScopeCustomersRead)...).With(d.Contract.validated(nil)).
		Method(http.MethodGet, "/customers/{customer_id}", handleGetCustomer(d.Follow))
	r.With(as(auth.ScopeCustomersRead)...).With(d.Contract.validated(nil)).
		Method(http.MethodGet, "/updates/{update_id}", handleGetUpdate(d.Follow))
	deliveries := r.With(as(auth.ScopeDeliveriesManage)...).With(d.Contract.validated(nil))
	deliveries.Method(http.MethodGet, "/deliveries", handleListDeliveries(d.Deliveries))
	deliveries.Method(http.MethodPost, "/deliveries/{delivery_id}/retry", handleRetryDelivery(d.Deliveries))
	deliveries.Method(http.MethodDelete, "/deliveries/{delivery_id}", handleCancelDelivery(d.Deliveries))
	r.With(as(auth.ScopeAuditRead)...).With(d.Contract.validated(nil)).
		Method(http.MethodGet, "/audit-history", handleAuditHistory(d.Audit, d.AuditTimeout))
	metrics := r.With()
	if !d.MetricsPublic {
		metrics = r.With(as(auth.ScopeMetricsRead)...)
	}
	metrics.Method(http.MethodGet, "/metrics", d.Metrics.Handler())

	r.Method(http.MethodGet, "/healthz", handleHealthz())
	r.Method(http.MethodGet, "/readyz", handleReadyz(d.Readiness, d.Ping))
	// The open documents are limited per client address: their caller is nobody's.
	r.With(limit).Method(http.MethodGet, "/openapi.yaml", handleOpenAPI(d.Document))
	r.With(limit).Handle("/docs", http.RedirectHandler("/docs/", http.StatusMovedPermanently))
	r.With(limit).Handle("/docs/*", handleDocs())

	r.NotFound(notFound)
	r.MethodNotAllowed(methodNotAllowed)
	return r
}
