package delivery

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

// Queued is one delivery the durable queue kept for a customer and a vendor: what it
// needs to send it and to record how it ended.
type Queued struct {
	CustomerID string
	Vendor     model.Vendor
	// Fields are what is left to send: the queued leaves a newer delivery did not cover.
	Fields model.PendingFields
	// Refs are the customer's refs as stored, read just before the send.
	Refs       model.VendorRefs
	RequestIDs []string
	Attempts   int
	QueuedAt   time.Time
}

// DeliverQueued sends what waits for one customer at one vendor, as a request would: the
// canonical update rebuilt from the queued fields, the customer's current refs (q.Refs)
// laid under it, the vendor's keys resolved when they are still unknown, and one delivery
// with the same retries, breaker and deadline as a request.
func (s *Service) DeliverQueued(ctx context.Context, q Queued) model.VendorResult {
	body, err := q.Fields.Update()
	if err != nil {
		return cannotPlan(err)
	}
	body.Vendors = []model.Vendor{q.Vendor}
	u, err := model.Prepare(q.CustomerID, body, s.region)
	if err != nil {
		return cannotPlan(err)
	}
	u.Fields.VendorRefs = q.Refs
	if err := s.resolveQueued(ctx, q, u); err != nil {
		return keysFailure(s.vendor(q.Vendor), err)
	}
	plans, err := s.fanout.Plan(u)
	if err != nil {
		return cannotPlan(err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.deadline)
	defer cancel()
	return s.fanout.Deliver(ctx, u, plans).Results[q.Vendor]
}

// resolveQueued resolves and stores the vendor's keys into u when the vendor can resolve
// them and they are still unknown (the request could not get them).
func (s *Service) resolveQueued(ctx context.Context, q Queued, u *model.Update) error {
	r, ok := resolver(s.vendor(q.Vendor))
	if !ok || !r.NeedsKeys(u) {
		return nil
	}
	keys, err := r.ResolveKeys(ctx, s.fanout.Call(q.Vendor), q.CustomerID)
	if err != nil {
		return err
	}
	u.Fields.VendorRefs, _, err = s.store.MergeRefs(ctx, q.CustomerID, model.VendorRefs{q.Vendor: keys})
	return err
}

// keysFailure is the result of keys that could not be read or resolved: retried when the
// vendor may answer later, given up when it refused.
func keysFailure(v vendors.Vendor, err error) model.VendorResult {
	what := "vendor keys"
	if r, ok := resolver(v); ok {
		what = v.DisplayName() + " " + strings.Join(sortedKeys(r.PlaceholderKeys()), ", ")
	}
	res := model.VendorResult{Status: model.StatusFailed, Reason: "resolve " + what + ": " + vendorhttp.Describe(err)}
	if !model.IsRetryable(err) {
		res.Status = model.StatusRejected
	}
	return res
}

// cannotPlan is a queued update that can no longer be planned (the vendor's keys were
// removed, its credentials unset): sending again would not help.
func cannotPlan(err error) model.VendorResult {
	return model.VendorResult{Status: model.StatusRejected, Reason: "cannot be planned any more: " + err.Error()}
}

// QueuedEvent is a queued delivery's outcome r for the gateway's audit trail, at at: field
// names, never values.
func (s *Service) QueuedEvent(q Queued, r model.VendorResult, at time.Time) model.AuditEvent {
	details := map[string]any{
		"vendor":      string(q.Vendor),
		"status":      string(r.Status),
		"fields":      q.Fields.Names(),
		"request_ids": q.RequestIDs,
		"attempts":    q.Attempts,
		"queued_at":   q.QueuedAt.Format(time.RFC3339Nano),
	}
	if why := r.Why(); why != "" {
		details["reason"] = why
	}
	return model.AuditEvent{
		Source:     model.SourceGateway,
		OccurredAt: at.UTC(),
		Type:       model.TypeAutomatic,
		Kind:       model.KindVendorDelivery,
		CustomerID: q.CustomerID,
		Summary:    fmt.Sprintf("queued delivery to %s: %s", displayName(s.vendor(q.Vendor), q.Vendor), outcomeWords[r.Status]),
		Result:     string(r.Status),
		Details:    details,
	}
}

// outcomeWords says how a queued delivery ended, for the audit event's summary.
var outcomeWords = map[model.Status]string{
	model.StatusOK:       "delivered",
	model.StatusSkipped:  "nothing left to send",
	model.StatusRejected: "rejected by the vendor",
	model.StatusFailed:   "given up",
}

// vendor is the plug-in registered as name, nil when there is none.
func (s *Service) vendor(name model.Vendor) vendors.Vendor {
	for _, v := range s.fanout.Vendors() {
		if v.Name() == name {
			return v
		}
	}
	return nil
}

// resolver is v as a KeyResolver, when it is one.
func resolver(v vendors.Vendor) (vendors.KeyResolver, bool) {
	r, ok := v.(vendors.KeyResolver)
	return r, ok && v != nil
}

// displayName is v's own spelling of its name, or name when no such vendor is registered.
func displayName(v vendors.Vendor, name model.Vendor) string {
	if v == nil {
		return string(name)
	}
	return v.DisplayName()
}

// sortedKeys are the names of refs' keys, sorted.
func sortedKeys(refs model.Refs) []string { return slices.Sorted(maps.Keys(refs)) }
