package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/model"
)

// write writes what the update leaves, in one transaction: the refs the caller sent (and
// any key resolved for it) when they change what was known, the deliveries to queue, and
// the update as a gateway audit event (the names of the fields it carried, never their
// values, each vendor's status and the refs it changed) and as answered, for GET /updates.
// With the queue, the fields of every vendor that answered ok are recorded as delivered,
// so an older update queued later leaves them out. It has its own short deadline: an
// update whose vendors used up the request's deadline is still written. It answers the
// update's result as written; when the store fails, nothing is queued or recorded.
func (s *Service) write(reqCtx context.Context, req Request, d delivery, sent sent, known model.VendorRefs, out sending) model.UpdateResult {
	if s.store == nil {
		return settled(out, model.UpdateWritten{}, nil)
	}
	ctx, cancel := detached(reqCtx)
	defer cancel()
	w := model.UpdateWrites{CustomerID: d.u.CustomerID, Queue: out.queue, Fields: d.fields, Origin: d.origin}
	if _, changed := known.Merge(sent.refs); len(changed) > 0 {
		// Refs are only ever replaced, never cleared: what changes nothing needs no write
		// (callers send their refs with every update).
		w.Refs = sent.refs
	}
	// The result is settled inside the transaction, once the queue has answered: what is
	// recorded is what the caller is answered.
	var res model.UpdateResult
	w.Record = func(written model.UpdateWritten) (model.AuditEvent, model.UpdateRecord, map[model.Vendor]model.PendingFields) {
		res = settled(out, written, nil)
		return s.recordOf(req, sent.fields, d.fields, res, written.ChangedRefs)
	}
	var writer Writer = s.store
	if s.canQueue() {
		writer = s.queue
	}
	if _, err := writer.WriteUpdate(ctx, w); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("write update")
		return settled(out, model.UpdateWritten{}, err)
	}
	return res
}

// recordOf is what is recorded of an update that came to res: its audit event, the
// update as answered and, per vendor that answered ok, the fields delivered (with the
// queue: queued, the update's fields as queued).
func (s *Service) recordOf(req Request, fields []string, queued model.PendingFields, res model.UpdateResult, changedRefs []string) (model.AuditEvent, model.UpdateRecord, map[model.Vendor]model.PendingFields) {
	if changedRefs == nil {
		changedRefs = []string{}
	}
	statuses := map[string]string{}
	delivered := map[model.Vendor]model.PendingFields{}
	for v, r := range res.Results {
		statuses[string(v)] = string(r.Status)
		if r.Status == model.StatusOK && s.canQueue() {
			delivered[v] = queued
		}
	}
	e := updateEvent(req, string(res.Outcome), map[string]any{
		"fields":       fields,
		"vendors":      statuses,
		"refs_changed": changedRefs,
	})
	return e, model.UpdateRecord{UpdateResult: res, Caller: req.Caller, ReceivedAt: req.Received.UTC()}, delivered
}

// resultUndeliverable is the audit result of an update refused with 422: nothing was sent.
const resultUndeliverable = "undeliverable"

// refused writes an update refused with 422 (nothing sent) to the audit trail and keeps it
// for GET /updates: the fields it carried and the fields and vendors the refusal named,
// never the messages, which may quote a value. It reports whether it was recorded. Other
// errors are malformed requests or the gateway's own failures, not updates.
func (s *Service) refused(reqCtx context.Context, req Request, fields []string, err error) bool {
	var errs model.FieldErrors
	if s.store == nil || model.CodeOf(err) != model.EUndeliverable || !errors.As(err, &errs) {
		return false
	}
	ctx, cancel := detached(reqCtx)
	defer cancel()
	refused := make([]map[string]string, 0, len(errs))
	rec := model.UpdateRecord{
		UpdateResult: model.UpdateResult{UpdateID: req.UpdateID, CustomerID: req.CustomerID, Outcome: model.OutcomeUndeliverable,
			Results: map[model.Vendor]model.VendorResult{}},
		Caller: req.Caller, ReceivedAt: req.Received.UTC(),
	}
	for _, e := range errs {
		refused = append(refused, map[string]string{"field": e.Field, "vendor": string(e.Vendor)})
		rec.Refused = append(rec.Refused, model.RefusedField{Field: e.Field, Vendor: e.Vendor})
	}
	e := updateEvent(req, resultUndeliverable, map[string]any{
		"fields":  fields,
		"refused": refused,
	})
	if err := s.store.RecordUpdate(ctx, e, rec, nil); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("record audit event")
		return false
	}
	return true
}

// updateEvent is a customer_update audit event of the gateway's, naming the request and
// the caller that sent it.
func updateEvent(req Request, result string, details map[string]any) model.AuditEvent {
	details["request_id"] = req.RequestID
	details["update_id"] = req.UpdateID
	details["caller"] = req.Caller
	return model.AuditEvent{
		Source:     model.SourceGateway,
		OccurredAt: time.Now().UTC(),
		Type:       model.TypeAutomatic,
		Kind:       model.KindCustomerUpdate,
		Actor:      req.Caller,
		CustomerID: req.CustomerID,
		Summary:    "customer update: " + result,
		Result:     result,
		Details:    details,
	}
}

// fieldNames lists the top-level canonical fields an update carried.
func fieldNames(f model.CustomerUpdate) []string {
	b, err := json.Marshal(f)
	if err != nil {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
