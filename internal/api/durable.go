package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/adapters/fanout"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/store"
)

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

// Why a delivery is queued rather than sent in the request.
const (
	reasonAsync   = "queued as asked (Prefer: respond-async)"
	reasonWaiting = "an earlier update for this vendor is still queued; this one joins it, so it is not overtaken"
)

// canQueue reports whether a durable queue is there to take deliveries.
func (m *memory) canQueue() bool { return m != nil && m.queue != nil }

// delivery is one update on its way: what the handler hands to memory.deliver.
type delivery struct {
	u     *model.Update
	plans fanout.Plans
	// fields are the update as the caller sent it (no recalled refs), split for the queue
	// and stamped with when the gateway received it: what is queued, and what a direct
	// delivery records as delivered.
	fields model.PendingFields
	// received is when the gateway received the request: the update's sequence.
	received  time.Time
	async     bool
	requestID string
	// euidDeferred is set when EngageLab's euid could not be resolved: EngageLab is queued.
	euidDeferred error
}

// deliver sends what can go now and queues the rest: every vendor when the caller asked for
// an asynchronous answer, a vendor that still has an earlier update queued (sending this
// one first would let the older one overwrite it later), and a vendor whose delivery failed
// retryably. Without a queue it only sends. An error means the store could not be read and
// nothing was sent.
func (m *memory) deliver(ctx context.Context, f *fanout.Fanout, d delivery) (model.UpdateResult, error) {
	if !m.canQueue() {
		return f.Deliver(ctx, d.u, d.plans), nil
	}
	held := map[model.Vendor]string{}
	waiting, err := m.queue.Waiting(ctx, d.u.CustomerID)
	if err != nil {
		return model.UpdateResult{}, err
	}
	for _, p := range d.plans {
		switch {
		case p.Request == nil:
		case p.Vendor == model.EngageLab && d.euidDeferred != nil:
			held[p.Vendor] = "EngageLab could not give the customer's euid (" + d.euidDeferred.Error() + "); the gateway resolves it before sending"
		case slices.Contains(waiting, p.Vendor):
			held[p.Vendor] = reasonWaiting
		case d.async:
			held[p.Vendor] = reasonAsync
		}
	}
	now := slices.Clone(d.plans)
	for i, p := range now {
		if _, ok := held[p.Vendor]; ok {
			now[i].Request = nil
		}
	}
	res := f.Deliver(ctx, d.u, now)

	// The request's deadline may be spent on vendors that did not answer; queueing gets
	// its own.
	qctx, cancel := detached(ctx)
	defer cancel()
	for _, p := range d.plans {
		if why, ok := held[p.Vendor]; ok {
			r := model.VendorResult{Status: model.StatusFailed, Warnings: res.Results[p.Vendor].Warnings}
			res.Results[p.Vendor] = m.enqueue(qctx, d, p.Vendor, r, why, time.Now())
			continue
		}
		if r := res.Results[p.Vendor]; r.Status == model.StatusFailed {
			res.Results[p.Vendor] = m.enqueue(qctx, d, p.Vendor, r, r.Reason, m.queue.FirstRetry())
		}
	}
	res.Outcome = model.Summarize(res.Results)
	return res, nil
}

// enqueue queues the update's fields for vendor, first tried at at, and answers the vendor's
// result: queued, keeping what the request's own attempts found; skipped when a newer
// update already delivered every field; or, when the store fails, r as it was (failed, so
// the caller retries).
func (m *memory) enqueue(ctx context.Context, d delivery, vendor model.Vendor, r model.VendorResult, why string, at time.Time) model.VendorResult {
	p, err := m.queue.Enqueue(ctx, d.u.CustomerID, vendor, d.fields, d.requestID, at)
	if errors.Is(err, store.ErrSuperseded) {
		r.Status, r.Reason = model.StatusSkipped, "a newer update already delivered every field of this one"
		return r
	}
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Str("vendor", string(vendor)).Msg("queue delivery")
		if r.Reason == "" && r.Error == nil {
			r.Reason = "not sent: the delivery could not be queued"
		}
		return r
	}
	until := p.ExpiresAt
	r.Status, r.QueuedUntil = model.StatusQueued, &until
	r.Reason = "the gateway keeps trying in the background until " + until.Format(time.RFC3339)
	if why != "" {
		r.Reason = why + "; " + r.Reason
	}
	return r
}
