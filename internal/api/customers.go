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
		dry, _ := strconv.ParseBool(r.URL.Query().Get("dry_run"))
		u, plans, sent, ok := planUpdate(w, r, f, mem, region, dry)
		if !ok {
			return
		}
		if dry {
			writeJSON(w, r, http.StatusOK, f.DryRun(u, plans))
			return
		}
		sendUpdate(w, r, f, mem, deadline, delivery{u: u, plans: plans, received: received}, sent)
	})
}

// planUpdate decodes the body, applies the model's rules, lays the stored refs under it and
// plans every vendor. When it answers false it has written the answer (400, 422, 502, 500);
// a refused update that was not a dry run is recorded.
func planUpdate(w http.ResponseWriter, r *http.Request, f *fanout.Fanout, mem *memory, region string, dry bool) (*model.Update, fanout.Plans, sent, bool) {
	id := chi.URLParam(r, "customer_id")
	body, err := decodeUpdate(r)
	if err != nil {
		badRequest(w, r, "malformed JSON body", model.FieldErrors{{Field: "body", Message: err.Error()}})
		return nil, nil, sent{}, false
	}
	s := newSent(body) // what the caller sent, before the store fills in refs
	refuse := func(err error) (*model.Update, fanout.Plans, sent, bool) {
		if !answerModelError(w, r, err) && !dry {
			mem.refused(r.Context(), id, s.fields, err)
		}
		return nil, nil, s, false
	}
	u, err := model.Prepare(id, body, region)
	if err != nil {
		return refuse(err)
	}
	if err := mem.recall(r.Context(), u); err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("recall vendor refs")
		internalError(w, r)
		return nil, nil, s, false
	}
	plans, err := mem.plan(r.Context(), f, u, dry, &s)
	var unresolved *euidError
	if errors.As(err, &unresolved) {
		// A vendor failure, not the caller's data: 502, so an Idempotency-Key is
		// released and a retry asks again.
		writeProblem(w, r, Problem{Type: "vendor-unavailable", Title: "EngageLab could not resolve the customer's euid", Status: http.StatusBadGateway,
			Detail: unresolved.Error(), Errors: model.FieldErrors{{Field: "vendor_refs.engagelab.euid", Vendor: model.EngageLab, Message: "EngageLab's register call failed; nothing was delivered"}}})
		return nil, nil, s, false
	}
	if err != nil {
		return refuse(err)
	}
	return u, plans, s, true
}

// sendUpdate remembers the refs the caller sent, delivers (and, with the queue, queues)
// the planned update, records it and answers with each vendor's result.
func sendUpdate(w http.ResponseWriter, r *http.Request, f *fanout.Fanout, mem *memory, deadline time.Duration, d delivery, s sent) {
	changedRefs, err := mem.remember(r.Context(), d.u.CustomerID, s.refs)
	if err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("remember vendor refs")
		internalError(w, r)
		return
	}
	d.async = mem.canQueue() && prefersAsync(r)
	d.requestID, d.euidDeferred = requestIDFrom(r.Context()), s.euidDeferred
	if mem.canQueue() {
		if d.fields, err = model.QueuedFields(s.body, d.received.UnixNano()); err != nil {
			zerolog.Ctx(r.Context()).Error().Err(err).Msg("split update for the queue")
			internalError(w, r)
			return
		}
	}
	// A caller that hangs up must not cut deliveries off half-sent: the fan-out keeps
	// the request's values (logger, id) but not its cancellation.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), deadline)
	defer cancel()
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
	mem.record(r.Context(), d.u.CustomerID, s.fields, d.fields, res, changedRefs)
	writeJSON(w, r, res.Outcome.HTTPStatus(), res)
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
