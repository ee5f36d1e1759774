package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/audit"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

// AuditQuerier answers one page of the audit trail.
type AuditQuerier interface {
	Query(ctx context.Context, q audit.Query) (audit.Page, error)
}

// handleAuditHistory serves GET /audit-history. The contract has already checked types and
// enums; the range rules (from < to, at most GATEWAY_AUDIT_MAX_DAYS) and the cursor are the
// audit service's.
//
// timeout bounds the whole query (every window of every source), beside each read's own
// deadline; 0 leaves only the caller's.
func handleAuditHistory(a AuditQuerier, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, errs := auditQuery(r)
		if len(errs) > 0 {
			badRequest(w, r, summarize(errs), errs)
			return
		}
		ctx := r.Context()
		if timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		page, err := a.Query(ctx, q)
		var fieldErrs model.FieldErrors
		var srcErr *audit.SourceError
		switch {
		case err == nil:
			writeJSON(w, r, http.StatusOK, page)
		case errors.As(err, &fieldErrs):
			badRequest(w, r, summarize(fieldErrs), fieldErrs)
		case errors.Is(err, audit.ErrNoSources):
			writeProblem(w, r, Problem{Type: "no-audit-source", Title: "No audit source is configured", Status: http.StatusServiceUnavailable, Detail: err.Error()})
		case errors.As(err, &srcErr):
			zerolog.Ctx(r.Context()).Warn().Str("source", string(srcErr.Source)).Err(srcErr.Err).Msg("audit source failed")
			writeProblem(w, r, Problem{
				Type: "source-unavailable", Title: "An audit source could not be read", Status: http.StatusBadGateway,
				Detail: fmt.Sprintf("%s could not be read for part of the range: %s", srcErr.Source, withoutURL(srcErr.Err)), Source: string(srcErr.Source),
				Window: &ProblemWindow{From: srcErr.Window.From.Format(time.RFC3339), To: srcErr.Window.To.Format(time.RFC3339)},
			})
		default:
			zerolog.Ctx(r.Context()).Error().Err(err).Msg("audit query")
			internalError(w, r)
		}
	})
}

// auditQuery reads the query string the contract has already validated.
func auditQuery(r *http.Request) (audit.Query, model.FieldErrors) {
	v := r.URL.Query()
	var errs model.FieldErrors
	q := audit.Query{
		Type:       model.AuditType(v.Get("type")),
		Kind:       model.AuditKind(v.Get("kind")),
		CustomerID: v.Get("customer_id"),
		Order:      v.Get("order"),
		Cursor:     v.Get("cursor"),
	}
	for _, s := range v["source"] {
		q.Sources = append(q.Sources, model.AuditSource(s))
	}
	var err error
	if q.From, err = time.Parse(time.RFC3339, v.Get("from")); err != nil {
		errs = append(errs, model.FieldError{Field: "from", Message: "not an RFC 3339 date-time"})
	}
	if q.To, err = time.Parse(time.RFC3339, v.Get("to")); err != nil {
		errs = append(errs, model.FieldError{Field: "to", Message: "not an RFC 3339 date-time"})
	}
	if s := v.Get("limit"); s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil {
			errs = append(errs, model.FieldError{Field: "limit", Message: "not an integer"})
		}
	}
	return q, errs
}

// withoutURL names the kind of failure without the upstream address, host or URL it
// carries: a caller needs the kind, not the gateway's network.
func withoutURL(err error) string { return vendorhttp.Describe(err) }
