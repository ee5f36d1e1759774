package api

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/adapters/fanout"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/store"
)

// EUIDResolver asks EngageLab for the EUID of a canonical customer id.
type EUIDResolver interface {
	Enabled() bool
	Register(ctx context.Context, userID string) (int64, error)
}

// memory is what the gateway remembers between updates when a store is configured: each
// customer's vendor refs, EngageLab EUIDs it resolved, deliveries still to make (the
// durable queue), and one audit event per update. A nil *memory remembers nothing.
type memory struct {
	store *store.Store
	euids EUIDResolver
	// queue is the durable delivery queue; nil: failed deliveries are not retried later.
	queue Queue
}

// Queue is the durable delivery queue as the API uses it (internal/queue).
type Queue interface {
	Waiting(ctx context.Context, customerID string) ([]model.Vendor, error)
	Enqueue(ctx context.Context, customerID string, vendor model.Vendor, fields model.PendingFields, requestID string, at time.Time) (store.Pending, error)
	FirstRetry() time.Time
}

// recall lays the refs stored for u's customer under the ones the update carries: a ref
// sent now wins, one sent before fills the gap.
func (m *memory) recall(ctx context.Context, u *model.Update) error {
	if m == nil {
		return nil
	}
	stored, ok, err := m.store.Refs(ctx, u.CustomerID)
	if err != nil || !ok {
		return err
	}
	merged, _ := stored.Merge(u.Fields.VendorRefs)
	u.Fields.VendorRefs = &merged
	return nil
}

// needsEUID reports whether EngageLab is in scope, concerned and missing only its EUID.
func (m *memory) needsEUID(u *model.Update) bool {
	if m == nil || m.euids == nil || !m.euids.Enabled() {
		return false
	}
	if u.Targets != nil && !u.Targeted(model.EngageLab) {
		return false
	}
	if u.Fields.Email == nil && u.Fields.Phone == nil {
		return false
	}
	r := u.Fields.VendorRefs
	return r == nil || r.EngageLab == nil || r.EngageLab.EUID == 0
}

// onlyEUIDMissing reports whether a planning error is nothing but EngageLab lacking its
// EUID (named in "vendors", or the only vendor left), which resolving it can cure.
func onlyEUIDMissing(err error) bool {
	var fe model.FieldErrors
	if !errors.As(err, &fe) || len(fe) == 0 {
		return false
	}
	for _, e := range fe {
		if e.Vendor == model.EngageLab && (e.Field == "vendors" || e.Field == "vendor_refs.engagelab") {
			continue
		}
		if e.Field == "vendor_refs.happytalk" || e.Field == "vendor_refs.ladiflow" || e.Field == "body" {
			continue // "nothing to send" lines for the other vendors
		}
		return false
	}
	return true
}

// euidError is EngageLab's register call failing: the vendor's fault, not the caller's.
type euidError struct{ err error }

func (e *euidError) Error() string { return "resolve EngageLab euid: " + e.err.Error() }
func (e *euidError) Unwrap() error { return e.err }

// resolveEUID asks EngageLab for the customer's EUID (identity user_id = the canonical id)
// and puts it in the update and in what is to be stored. It runs only after the update
// planned cleanly but for the missing EUID, so a 422 for another reason never calls
// EngageLab.
func (m *memory) resolveEUID(ctx context.Context, u *model.Update, s *sent) error {
	euid, err := m.euids.Register(ctx, u.CustomerID)
	if err != nil {
		return &euidError{err: err}
	}
	s.refs.EngageLab = &model.EngageLabRef{EUID: euid}
	setEUID(u, euid)
	return nil
}

// setEUID puts euid in u's refs, on a copy: the refs may be shared with what is stored.
func setEUID(u *model.Update, euid int64) {
	refs := model.VendorRefs{}
	if u.Fields.VendorRefs != nil {
		refs = u.Fields.VendorRefs.Clone()
	}
	refs.EngageLab = &model.EngageLabRef{EUID: euid}
	u.Fields.VendorRefs = &refs
}

// sent is what the caller's update itself carried, kept before the store fills in refs: only
// these refs (and an EUID the gateway resolved) are stored, so a concurrent update's newer
// ref is never overwritten by the older one this request recalled.
type sent struct {
	// body is the update as sent: what the queue keeps.
	body   model.CustomerUpdate
	refs   model.VendorRefs
	fields []string
	// euidDeferred is EngageLab's register call failing retryably: EngageLab's delivery is
	// queued and its euid resolved in the background.
	euidDeferred error
}

// unresolvedEUID stands in for an euid EngageLab could not give yet: it lets the update be
// planned (and EngageLab's limits checked) so EngageLab's delivery can be queued. A request
// planned with it is never sent; the queue resolves the real euid first.
const unresolvedEUID = int64(1<<63 - 1)

func newSent(body model.CustomerUpdate) sent {
	s := sent{body: body, fields: fieldNames(body)}
	if body.VendorRefs != nil {
		s.refs = body.VendorRefs.Clone()
	}
	return s
}

// remember stores the refs the caller sent (and any EUID resolved for it) and answers the
// ref paths that changed.
func (m *memory) remember(ctx context.Context, customerID string, refs model.VendorRefs) ([]string, error) {
	if m == nil || (refs.HappyTalk == nil && refs.LadiFlow == nil && refs.EngageLab == nil) {
		return nil, nil
	}
	_, changed, err := m.store.MergeRefs(ctx, customerID, refs)
	return changed, err
}

// record writes the update as a gateway audit event: the names of the fields it carried,
// never their values, each vendor's status and the refs it changed. It has its own short
// deadline: an update whose vendors used up the request's deadline still gets its event.
//
// With the queue, the fields of every vendor that answered ok are recorded as delivered in
// the same transaction, so an older update queued later leaves them out.
func (m *memory) record(reqCtx context.Context, customerID string, fields []string, queued model.PendingFields, res model.UpdateResult, changedRefs []string) {
	if m == nil {
		return
	}
	ctx, cancel := detached(reqCtx)
	defer cancel()
	if changedRefs == nil {
		changedRefs = []string{}
	}
	vendors := map[string]string{}
	delivered := map[model.Vendor]model.PendingFields{}
	for v, r := range res.Results {
		vendors[string(v)] = string(r.Status)
		if r.Status == model.StatusOK && m.canQueue() {
			delivered[v] = queued
		}
	}
	e := updateEvent(customerID, string(res.Outcome), map[string]any{
		"fields":       fields,
		"vendors":      vendors,
		"refs_changed": changedRefs,
		"request_id":   requestIDFrom(ctx),
	})
	if err := m.store.RecordUpdate(ctx, e, customerID, delivered); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("record audit event")
	}
}

// resultUndeliverable is the audit result of an update refused with 422: nothing was sent.
const resultUndeliverable = "undeliverable"

// refused writes an update refused with 422 (nothing sent) to the audit trail: the fields it
// carried and the fields and vendors the refusal named, never the messages, which may quote
// a value. Other errors are malformed requests or the gateway's own failures, not updates.
func (m *memory) refused(reqCtx context.Context, customerID string, fields []string, err error) {
	var errs model.FieldErrors
	if m == nil || !errors.As(err, &errs) {
		return
	}
	ctx, cancel := detached(reqCtx)
	defer cancel()
	refused := make([]map[string]string, 0, len(errs))
	for _, e := range errs {
		refused = append(refused, map[string]string{"field": e.Field, "vendor": string(e.Vendor)})
	}
	e := updateEvent(customerID, resultUndeliverable, map[string]any{
		"fields":     fields,
		"refused":    refused,
		"request_id": requestIDFrom(ctx),
	})
	if err := m.store.RecordEvent(ctx, e); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("record audit event")
	}
}

// storeTimeout bounds the store's work that follows a request's deliveries (queueing,
// recording), which must happen even when the vendors used up the request's deadline or the
// caller hung up.
const storeTimeout = 5 * time.Second

// detached is reqCtx's values (logger, request id) without its deadline or cancellation,
// bounded by storeTimeout.
func detached(reqCtx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(reqCtx), storeTimeout)
}

// updateEvent is a customer_update audit event of the gateway's.
func updateEvent(customerID, result string, details map[string]any) model.AuditEvent {
	return model.AuditEvent{
		Source:     model.SourceGateway,
		OccurredAt: time.Now().UTC(),
		Type:       model.TypeAutomatic,
		Kind:       model.KindCustomerUpdate,
		CustomerID: customerID,
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

// plan plans u, resolving a missing EngageLab EUID when that is all that stands
// in the way (never on a dry run: a dry run sends nothing).
func (m *memory) plan(ctx context.Context, f *fanout.Fanout, u *model.Update, dry bool, s *sent) (fanout.Plans, error) {
	plans, err := f.Plan(u)
	if dry || !m.needsEUID(u) {
		return plans, err
	}
	if err != nil && !onlyEUIDMissing(err) {
		return plans, err
	}
	if err == nil && !engageLabSkippedForKeys(plans) {
		return plans, nil
	}
	if rerr := m.resolveEUID(ctx, u, s); rerr != nil {
		if m.canQueue() && model.IsRetryable(rerr) {
			// EngageLab is down, not the data: plan with a stand-in euid (the others plan,
			// EngageLab's limits are checked) and queue EngageLab, whose worker resolves
			// the euid when EngageLab is back.
			s.euidDeferred = rerr
			setEUID(u, unresolvedEUID)
			return f.Plan(u)
		}
		if err != nil {
			return nil, rerr // EngageLab was named: its failure decides
		}
		// EngageLab was not named: the others go ahead and EngageLab stays skipped.
		zerolog.Ctx(ctx).Warn().Err(rerr).Msg("EngageLab euid not resolved")
		return plans, nil
	}
	return f.Plan(u)
}

func engageLabSkippedForKeys(plans fanout.Plans) bool {
	for _, p := range plans {
		if p.Vendor == model.EngageLab && p.Skip == model.SkipNoKeys {
			return true
		}
	}
	return false
}
