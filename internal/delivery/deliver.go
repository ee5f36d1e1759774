package delivery

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

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
}

// deliver sends what can go now and queues the rest: every vendor when the caller asked for
// an asynchronous answer, a vendor that still has an earlier update queued (sending this
// one first would let the older one overwrite it later), a vendor whose keys are still to
// be resolved, and a vendor whose delivery failed retryably. Without a queue it only sends.
// An error means the store could not be read and nothing was sent.
func (s *Service) deliver(ctx context.Context, d delivery) (model.UpdateResult, error) {
	if !s.canQueue() {
		return s.fanout.Deliver(ctx, d.u, d.plans), nil
	}
	waiting, err := s.queue.Waiting(ctx, d.u.CustomerID)
	if err != nil {
		return model.UpdateResult{}, err
	}
	held := s.held(d, waiting)
	now := slices.Clone(d.plans)
	for i, p := range now {
		if _, ok := held[p.Vendor]; ok {
			now[i].Request = nil
		}
	}
	// A delivery the queue takes over is counted in the metrics as queued, not failed.
	ctx, settle := fanout.Defer(ctx)
	res := s.fanout.Deliver(ctx, d.u, now)
	defer func() { settle(res.Results) }()

	// The request's deadline may be spent on vendors that did not answer; queueing gets
	// its own.
	qctx, cancel := detached(ctx)
	defer cancel()
	var items []QueueItem
	whys := map[model.Vendor]string{}
	for _, p := range d.plans {
		if why, ok := held[p.Vendor]; ok {
			res.Results[p.Vendor] = model.VendorResult{Status: model.StatusFailed, Warnings: res.Results[p.Vendor].Warnings}
			items, whys[p.Vendor] = append(items, QueueItem{Vendor: p.Vendor, At: time.Now()}), why
			continue
		}
		if r := res.Results[p.Vendor]; r.Status == model.StatusFailed {
			items, whys[p.Vendor] = append(items, QueueItem{Vendor: p.Vendor, At: s.queue.FirstRetry()}), r.Reason
		}
	}
	s.enqueue(qctx, d, items, whys, res.Results)
	res.Outcome = model.Summarize(res.Results)
	return res, nil
}

// held answers the planned vendors that are queued instead of sent now, with why.
func (s *Service) held(d delivery, waiting []model.Vendor) map[model.Vendor]string {
	held := map[model.Vendor]string{}
	for _, p := range d.plans {
		switch {
		case p.Request == nil:
		case d.deferred[p.Vendor] != nil:
			held[p.Vendor] = s.deferredReason(p.Vendor, d.deferred[p.Vendor])
		case slices.Contains(waiting, p.Vendor):
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

// enqueue queues the update's fields for every vendor of items in one transaction, and
// sets each one's result: queued, keeping what the request's own attempts found; skipped
// when a newer update already delivered every field; or, when the store fails, as it was
// (failed, so the caller retries).
func (s *Service) enqueue(ctx context.Context, d delivery, items []QueueItem, whys map[model.Vendor]string, results map[model.Vendor]model.VendorResult) {
	if len(items) == 0 {
		return
	}
	until, err := s.queue.EnqueueAll(ctx, d.u.CustomerID, items, d.fields, d.origin)
	for _, it := range items {
		r := results[it.Vendor]
		switch t, ok := until[it.Vendor]; {
		case err != nil:
			zerolog.Ctx(ctx).Error().Err(err).Str("vendor", string(it.Vendor)).Msg("queue delivery")
			if r.Reason == "" && r.Error == nil {
				r.Reason = "not sent: the delivery could not be queued"
			}
		case !ok:
			r.Status, r.Reason = model.StatusSkipped, "a newer update already delivered every field of this one"
		default:
			r.Status, r.QueuedUntil = model.StatusQueued, &t
			r.Reason = "the gateway keeps trying in the background until " + t.Format(time.RFC3339)
			if why := whys[it.Vendor]; why != "" {
				r.Reason = why + "; " + r.Reason
			}
		}
		results[it.Vendor] = r
	}
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
