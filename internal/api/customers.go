package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	jsonv2 "github.com/go-json-experiment/json"

	"github.com/customergateway/gateway/internal/delivery"
	"github.com/customergateway/gateway/internal/model"
)

// handleUpdateCustomer serves PUT /customers/{customer_id}: decode, one call to the update
// service, encode its answer or its error.
func handleUpdateCustomer(updates Updater) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received := time.Now()
		body, err := decodeUpdate(r)
		if err != nil {
			badRequest(w, r, "malformed JSON body", model.FieldErrors{{Field: "body", Message: err.Error()}})
			return
		}
		dry, _ := strconv.ParseBool(r.URL.Query().Get("dry_run"))
		ans, err := updates.Update(r.Context(), delivery.Request{
			CustomerID: chi.URLParam(r, "customer_id"),
			Body:       body,
			DryRun:     dry,
			Async:      prefersAsync(r),
			RequestID:  requestIDFrom(r.Context()),
			Caller:     callerFrom(r.Context()).Name,
			Received:   received,
		})
		if id := ans.Result.UpdateID; id != "" {
			w.Header().Set("Location", updateLocation(id))
		}
		if err != nil {
			p := problemOf(r, err)
			p.UpdateID = ans.Result.UpdateID
			writeProblem(w, r, p)
			return
		}
		if ans.AsyncApplied {
			w.Header().Set("Preference-Applied", "respond-async")
		}
		writeJSON(w, r, ans.Result.Outcome.HTTPStatus(), ans.Result)
	})
}

// decodeUpdate reads a body the contract already accepted. Unknown members are refused so
// that the struct and the document cannot drift apart unnoticed; so is anything after the
// value. It decodes with encoding/json/v2's reference implementation (go-json-experiment):
// half the time and allocations of encoding/json for this struct. What v2 reads more
// strictly than v1 (names matched by case, duplicate names, invalid UTF-8) never reaches
// it: the contract and the text rules have refused such a body already.
func decodeUpdate(r *http.Request) (model.CustomerUpdate, error) {
	var u model.CustomerUpdate
	err := jsonv2.UnmarshalRead(r.Body, &u, jsonv2.RejectUnknownMembers(true))
	return u, err
}

// prefersAsync reports whether the caller sent Prefer: respond-async (RFC 7240): answer at
// once with every delivery queued.
func prefersAsync(r *http.Request) bool {
	for _, h := range r.Header.Values("Prefer") {
		for pref := range strings.SplitSeq(h, ",") {
			token, _, _ := strings.Cut(pref, ";")
			token, _, _ = strings.Cut(token, "=")
			if strings.EqualFold(strings.TrimSpace(token), "respond-async") {
				return true
			}
		}
	}
	return false
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
		var undeliverable model.FieldErrors
		switch {
		case errors.As(err, &bad):
			return bad.Errors
		case errors.As(err, &undeliverable):
			return undeliverable // a phone that does not parse, named in the same 400
		}
		return nil
	}
}
