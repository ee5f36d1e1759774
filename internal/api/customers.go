package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/adapters/fanout"
	"github.com/customergateway/gateway/internal/model"
)

// handleUpdateCustomer serves PUT /customers/{customer_id}: decode, apply the model's
// rules, plan every vendor (a 422 here means nothing was sent), then deliver or dry-run.
func handleUpdateCustomer(f *fanout.Fanout, mem *memory, region string, deadline time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received := time.Now()
		id := chi.URLParam(r, "customer_id")
		body, err := decodeUpdate(r)
		if err != nil {
			badRequest(w, r, "malformed JSON body", model.FieldErrors{{Field: "body", Message: err.Error()}})
			return
		}
		dry, _ := strconv.ParseBool(r.URL.Query().Get("dry_run"))
		sent := newSent(body) // what the caller sent, before the store fills in refs
		u, err := model.Prepare(id, body, region)
		if !answerModelError(w, r, err) {
			if !dry {
				mem.refused(r.Context(), id, sent.fields, err)
			}
			return
		}
		if err := mem.recall(r.Context(), u); err != nil {
			zerolog.Ctx(r.Context()).Error().Err(err).Msg("recall vendor refs")
			internalError(w, r)
			return
		}
		plans, err := mem.plan(r.Context(), f, u, dry, &sent)
		var unresolved *euidError
		if errors.As(err, &unresolved) {
			// A vendor failure, not the caller's data: 502, so an Idempotency-Key is
			// released and a retry asks again.
			writeProblem(w, r, Problem{Type: "vendor-unavailable", Title: "EngageLab could not resolve the customer's euid", Status: http.StatusBadGateway,
				Detail: unresolved.Error(), Errors: model.FieldErrors{{Field: "vendor_refs.engagelab.euid", Vendor: model.EngageLab, Message: "EngageLab's register call failed; nothing was delivered"}}})
			return
		}
		if !answerModelError(w, r, err) {
			if !dry {
				mem.refused(r.Context(), id, sent.fields, err)
			}
			return
		}
		if dry {
			writeJSON(w, r, http.StatusOK, f.DryRun(u, plans))
			return
		}
		changedRefs, err := mem.remember(r.Context(), u.CustomerID, sent.refs)
		if err != nil {
			zerolog.Ctx(r.Context()).Error().Err(err).Msg("remember vendor refs")
			internalError(w, r)
			return
		}
		// A caller that hangs up must not cut deliveries off half-sent: the fan-out keeps
		// the request's values (logger, id) but not its cancellation.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), deadline)
		defer cancel()
		d := delivery{u: u, plans: plans, async: mem.canQueue() && prefersAsync(r),
			requestID: requestIDFrom(r.Context()), euidDeferred: sent.euidDeferred}
		if mem.canQueue() {
			if d.fields, err = model.QueuedFields(body, received.UnixNano()); err != nil {
				zerolog.Ctx(r.Context()).Error().Err(err).Msg("split update for the queue")
				internalError(w, r)
				return
			}
		}
		res, err := mem.deliver(ctx, f, d)
		if err != nil {
			zerolog.Ctx(r.Context()).Error().Err(err).Msg("read queued deliveries")
			internalError(w, r)
			return
		}
		if d.async && res.Outcome == model.OutcomeQueued {
			w.Header().Set("Preference-Applied", "respond-async")
		}
		logOutcome(r.Context(), res)
		mem.record(r.Context(), u.CustomerID, sent.fields, d.fields, res, changedRefs)
		writeJSON(w, r, res.Outcome.HTTPStatus(), res)
	})
}

// decodeUpdate reads a body the contract already accepted; DisallowUnknownFields keeps the
// struct and the document from drifting apart unnoticed.
func decodeUpdate(r *http.Request) (model.CustomerUpdate, error) {
	var u model.CustomerUpdate
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r.Body); err != nil {
		return u, err
	}
	dec := json.NewDecoder(&buf)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&u); err != nil {
		return u, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return u, errors.New("data after the JSON object")
	}
	return u, nil
}

// customerRules applies the model's 400 rules (dates that do not exist, calendar without
// a birthday) to a body the contract refused, decoded leniently, so the caller sees them
// in the same answer.
func customerRules(region string) BodyRules {
	return func(r *http.Request, body []byte) model.FieldErrors {
		var u model.CustomerUpdate
		// A field of the wrong type is skipped and the rest still decoded.
		var typeErr *json.UnmarshalTypeError
		if err := json.Unmarshal(body, &u); err != nil && !errors.As(err, &typeErr) {
			return nil
		}
		_, err := model.Prepare(chi.URLParam(r, "customer_id"), u, region)
		var bad *model.BadRequest
		if errors.As(err, &bad) {
			return bad.Errors
		}
		return nil
	}
}

// answerModelError answers a model or planning error and reports whether to go on.
func answerModelError(w http.ResponseWriter, r *http.Request, err error) bool {
	if err == nil {
		return true
	}
	var bad *model.BadRequest
	var undeliverableErrs model.FieldErrors
	switch {
	case errors.As(err, &bad):
		badRequest(w, r, summarize(bad.Errors), bad.Errors)
	case errors.As(err, &undeliverableErrs):
		undeliverable(w, r, undeliverableErrs)
	default:
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("plan update")
		internalError(w, r)
	}
	return false
}

// logOutcome logs each vendor's status: never a field value, so no phone or email.
func logOutcome(ctx context.Context, res model.UpdateResult) {
	ev := zerolog.Ctx(ctx).Info().Str("outcome", string(res.Outcome))
	for v, vr := range res.Results {
		ev = ev.Str(string(v), string(vr.Status))
	}
	ev.Msg("customer update")
}
