package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// routes is the whole API surface in one place.
func routes(d Deps) http.Handler {
	r := chi.NewRouter()
	r.Use(withRequestID(d.Logger), accessLog(d.Metrics.ObserveRequest), recoverer)

	r.With(limitBody(d.MaxBodyBytes), d.Contract.validated(customerRules(d.DefaultRegion)), idempotent(d.Replies)).
		Method(http.MethodPut, "/customers/{customer_id}", handleUpdateCustomer(d.Updates))
	r.With(d.Contract.validated(nil)).
		Method(http.MethodGet, "/audit-history", handleAuditHistory(d.Audit))

	r.Method(http.MethodGet, "/healthz", handleHealthz())
	r.Method(http.MethodGet, "/readyz", handleReadyz(d.Readiness, d.Ping))
	r.Method(http.MethodGet, "/metrics", d.Metrics.Handler())
	r.Method(http.MethodGet, "/openapi.yaml", handleOpenAPI(d.Document))
	r.Handle("/docs", http.RedirectHandler("/docs/", http.StatusMovedPermanently))
	r.Handle("/docs/*", handleDocs())

	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, Problem{Type: "not-found", Title: "Not found", Status: http.StatusNotFound, Detail: "no such endpoint; see /docs"})
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, Problem{Type: "method-not-allowed", Title: "Method not allowed", Status: http.StatusMethodNotAllowed})
	})
	return r
}
