package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/tracing"
)

// problemBase prefixes every problem type; the types are documented in the README.
const problemBase = "https://customer-gateway.dev/problems/"

// Problem is an RFC 9457 problem details answer.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	// TraceID is the request's trace, when tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT).
	TraceID string             `json:"trace_id,omitempty"`
	Errors  []model.FieldError `json:"errors,omitempty"`
	Source  string             `json:"source,omitempty"`
	Window  *ProblemWindow     `json:"window,omitempty"`
	// UpdateID names a refused update the gateway recorded (GET /updates/{update_id}).
	UpdateID string `json:"update_id,omitempty"`
}

// ProblemWindow is the time window a source could not be read for.
type ProblemWindow struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	p.RequestID = requestIDFrom(r.Context())
	p.TraceID = tracing.TraceID(r.Context())
	if p.Type == "" {
		p.Type = "about:blank"
	} else {
		p.Type = problemBase + p.Type
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	if err := json.NewEncoder(w).Encode(p); err != nil {
		zerolog.Ctx(r.Context()).Warn().Err(err).Msg("write problem")
	}
}

// kinds is the one table from an error's code to its answer: every error a service returns
// is answered through it (writeError), never by reading its message.
var kinds = map[model.ErrorCode]struct {
	status      int
	problemType string
	title       string
	detail      string
}{
	model.EInvalid:       {http.StatusBadRequest, "invalid-request", "The request does not match the contract", ""},
	model.EUndeliverable: {http.StatusUnprocessableEntity, "undeliverable", "The update cannot be delivered as asked", "nothing was sent to any vendor"},
	model.EUnauthorized:  {http.StatusUnauthorized, "unauthorized", "No valid credential", "send Authorization: Bearer <API key or token>"},
	model.EForbidden:     {http.StatusForbidden, "forbidden", "The credential lacks the scope this request needs", ""},
	model.EConflict:      {http.StatusConflict, "conflict", "The request conflicts with another one", ""},
	model.ENotFound:      {http.StatusNotFound, "not-found", "Not found", ""},
	model.EUnavailable:   {http.StatusBadGateway, "vendor-unavailable", "A vendor could not be reached", ""},
	model.EInternal:      {http.StatusInternalServerError, "internal", "Internal error", "the gateway failed; the request id finds it in the logs"},
}

// writeError answers err by its code (kinds). The fields it names are listed; an internal
// error is logged, and its message never reaches the caller.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	writeProblem(w, r, problemOf(r, err))
}

// problemOf is the problem that answers err (writeError).
func problemOf(r *http.Request, err error) Problem {
	code := model.CodeOf(err)
	k, ok := kinds[code]
	if !ok {
		code, k = model.EInternal, kinds[model.EInternal]
	}
	p := Problem{Type: k.problemType, Title: k.title, Status: k.status, Detail: k.detail}
	var bad *model.BadRequest
	var fe model.FieldErrors
	var e *model.Error
	switch {
	case code == model.EInternal:
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("request failed")
	case errors.As(err, &e):
		p.Errors = e.Fields
		if e.Title != "" {
			p.Title = e.Title
		}
		if e.Detail != "" {
			p.Detail = e.Detail
		}
	case errors.As(err, &bad):
		p.Errors, p.Detail = bad.Errors, summarize(bad.Errors)
	case errors.As(err, &fe):
		p.Errors = fe
	}
	return p
}

func badRequest(w http.ResponseWriter, r *http.Request, detail string, errs model.FieldErrors) {
	writeProblem(w, r, Problem{Type: "invalid-request", Title: "The request does not match the contract", Status: http.StatusBadRequest, Detail: detail, Errors: errs})
}

func undeliverable(w http.ResponseWriter, r *http.Request, errs model.FieldErrors) {
	writeProblem(w, r, Problem{Type: "undeliverable", Title: "The update cannot be delivered as asked", Status: http.StatusUnprocessableEntity, Detail: "nothing was sent to any vendor", Errors: errs})
}

func tooLarge(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, Problem{Type: "too-large", Title: "Request body too large", Status: http.StatusRequestEntityTooLarge, Detail: "the body is over GATEWAY_MAX_BODY_BYTES"})
}

func internalError(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, Problem{Type: "internal", Title: "Internal error", Status: http.StatusInternalServerError, Detail: "the gateway failed; the request id finds it in the logs"})
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		zerolog.Ctx(r.Context()).Warn().Err(err).Msg("write answer")
	}
}
