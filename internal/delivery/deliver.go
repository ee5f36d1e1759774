package delivery

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/customergateway/gateway/internal/fanout"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

// Why a delivery is queued rather than sent in the request.
const (
	reasonAsync   = "queued as asked (Prefer: respond-async)"
	reasonWaiting = "an earlier update for this vendor is still queued; this one joins it, so it is not overtaken"
)

// delivery is one update on its way.
type delivery struct {
	u     *model.Update
	plans fanout.Plans
	// fields are the update as the caller sent it (no recalled refs), split for the queue
	// and stamped with when the gateway received it: what is queued, and what a direct
	// delivery records as delivered.
	fields model.PendingFields
	// received is when the gateway received the request: the update's sequence.
	received time.Time
	async    bool
	origin   model.Origin
	// deferred are the vendors whose keys are still to be resolved: they are queued.
	deferred map[model.Vendor]error
	// waiting are the vendors with an earlier delivery for the customer still queued.
	waiting []model.Vendor
}

// sending is a delivery's outcome before the store has written it: the vendors' answers,
// and the vendors to queue with why.
type sending struct {
	res   model.UpdateResult
	queue []model.QueueItem
	whys  map[model.Vendor]string
}

// deliver sends what can go now and names what is to be queued: every vendor when the
// caller asked for an asynchronous answer, a vendor that still has an earlier update queued
// (sending this one first would let the older one overwrite it later), a vendor whose keys
// are still to be resolved, and a vendor whose delivery failed retryably. Without a queue
// it only sends.
func (s *Service) deliver(ctx context.Context, d delivery) sending {
	if !s.canQueue() {
		return sending{res: s.fanout.Deliver(ctx, d.u, d.plans)}
	}
	held := s.held(d)
	now := slices.Clone(d.plans)
	for i, p := range now {
		if _, ok := held[p.Vendor]; ok {
			now[i].Request = nil
		}
	}
	out := sending{res: s.fanout.Deliver(ctx, d.u, now), whys: map[model.Vendor]string{}}
	for _, p := range d.plans {
		if why, ok := held[p.Vendor]; ok {
			out.res.Results[p.Vendor] = model.VendorResult{Status: model.StatusFailed, Warnings: out.res.Results[p.Vendor].Warnings}
			out.queue, out.whys[p.Vendor] = append(out.queue, model.QueueItem{Vendor: p.Vendor, At: time.Now()}), why
			continue
		}
		if r := out.res.Results[p.Vendor]; r.Status == model.StatusFailed {
			out.queue, out.whys[p.Vendor] = append(out.queue, model.QueueItem{Vendor: p.Vendor, At: s.queue.FirstRetry()}), r.Reason
		}
	}
	return out
}

// held answers the planned vendors that are queued instead of sent now, with why.
func (s *Service) held(d delivery) map[model.Vendor]string {
	held := map[model.Vendor]string{}
	for _, p := range d.plans {
		switch {
		case p.Request == nil:
		case d.deferred[p.Vendor] != nil:
			held[p.Vendor] = s.deferredReason(p.Vendor, d.deferred[p.Vendor])
		case slices.Contains(d.waiting, p.Vendor):
			held[p.Vendor] = reasonWaiting
		case d.async:
			held[p.Vendor] = reasonAsync
		}
	}
	return held
}

// deferredReason says that vendor v's keys could not be resolved in the request.
func (s *Service) deferredReason(v model.Vendor, err error) string {
	plugin := s.vendor(v)
	keys := "keys"
	if r, ok := resolver(plugin); ok {
		keys = strings.Join(sortedKeys(r.PlaceholderKeys()), ", ")
	}
	return fmt.Sprintf("%s could not give the customer's %s (%s); the gateway resolves it before sending", displayName(plugin, v), keys, vendorhttp.Describe(err))
}

// settled is out's answer once the store has written it (written, or failed with err):
// each vendor to queue is queued, keeping what the request's own attempts found; skipped
// when a newer update already delivered every field; or, when the store failed, as it was
// (failed, so the caller retries). out itself is left as it is.
func settled(out sending, written model.UpdateWritten, err error) model.UpdateResult {
	res := out.res
	res.Results = maps.Clone(out.res.Results)
	for _, it := range out.queue {
		r := res.Results[it.Vendor]
		switch t, ok := written.Queued[it.Vendor]; {
		case err != nil:
			if r.Reason == "" && r.Error == nil {
				r.Reason = "not sent: the delivery could not be queued"
			}
		case !ok:
			r.Status, r.Reason = model.StatusSkipped, "a newer update already delivered every field of this one"
		default:
			r.Status, r.QueuedUntil = model.StatusQueued, &t
			r.Reason = "the gateway keeps trying in the background until " + t.Format(time.RFC3339)
			if why := out.whys[it.Vendor]; why != "" {
				r.Reason = why + "; " + r.Reason
			}
		}
		res.Results[it.Vendor] = r
	}
	res.Outcome = model.Summarize(res.Results)
	return res
}

// storeTimeout bounds the store's work that follows a request's deliveries (queueing,
// recording), which must happen even when the vendors used up the request's deadline or the
// caller hung up.
const storeTimeout = 5 * time.Second

// detached is ctx's values (logger, request id) without its deadline or cancellation,
// bounded by storeTimeout.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
}
