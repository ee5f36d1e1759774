// Package delivery is the use case of a customer update, in one place: apply the canonical
// rules, recall the refs the gateway knows, resolve missing keys, plan every vendor, dry-run
// or deliver now, queue what cannot go now, remember refs and record what happened. The
// HTTP handlers and the durable queue's worker both call it, so there is one copy of the
// pipeline.
package delivery

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/fanout"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/tracing"
)

// Store is what the gateway remembers between updates (internal/store implements it).
type Store interface {
	// Recall answers the refs known for the customer and the vendors with a delivery
	// queued for it, in one read.
	Recall(ctx context.Context, customerID string) (model.VendorRefs, []model.Vendor, error)
	MergeRefs(ctx context.Context, customerID string, refs model.VendorRefs) (model.VendorRefs, []string, error)
	// RecordUpdate writes the update's audit event, the update as answered (for GET
	// /updates) and, per vendor, the fields delivered, together.
	RecordUpdate(ctx context.Context, e model.AuditEvent, u model.UpdateRecord, delivered map[model.Vendor]model.PendingFields) error
	Writer
}

// Writer writes everything one update leaves in one transaction (model.UpdateWrites).
type Writer interface {
	WriteUpdate(ctx context.Context, w model.UpdateWrites) (model.UpdateWritten, error)
}

// Queue is the durable delivery queue (internal/queue implements it). Its Writer also
// queues the deliveries the writes name, with their jobs.
type Queue interface {
	Writer
	// FirstRetry is when a delivery that just failed is tried again.
	FirstRetry() time.Time
}

// Config is what the service is built from; Store and Queue may be nil.
type Config struct {
	Fanout *fanout.Fanout
	// Store remembers refs and records events; nil: nothing is kept.
	Store Store
	// Queue retries failed deliveries in the background; used only with Store.
	Queue Queue
	// Region is the default phone region (GATEWAY_DEFAULT_REGION).
	Region string
	// Deadline bounds the deliveries of one update, a queued one too.
	Deadline time.Duration
}

// Service is the customer update use case. It is safe for concurrent use.
type Service struct {
	fanout   *fanout.Fanout
	store    Store
	queue    Queue
	region   string
	deadline time.Duration
}

// New builds the service.
func New(cfg Config) *Service {
	s := &Service{fanout: cfg.Fanout, store: cfg.Store, region: cfg.Region, deadline: cfg.Deadline}
	if cfg.Store != nil {
		s.queue = cfg.Queue
	}
	return s
}

// Request is one customer update as the caller sent it.
type Request struct {
	CustomerID string
	Body       model.CustomerUpdate
	// DryRun translates and answers what would be sent, sending nothing.
	DryRun bool
	// Async asks for every delivery to be queued and the answer given at once.
	Async bool
	// RequestID names the request in logs, events and queued deliveries.
	RequestID string
	// Caller is who sent it (an API key's name, a token's subject), for the audit trail.
	Caller string
	// Received is when the gateway received it: the update's sequence among others.
	Received time.Time
	// UpdateID names the update (a UUIDv7); Update gives it one when empty.
	UpdateID string
}

// Answer is what the update came to.
type Answer struct {
	// Result is the answer; its UpdateID is set for every update that was recorded, a
	// refused one too (then Result holds nothing else).
	Result model.UpdateResult
	// AsyncApplied is true when the caller's wish for an asynchronous answer was honoured.
	AsyncApplied bool
}

// Update validates, plans and delivers one update. Its errors carry a model error code:
// *model.BadRequest (invalid), model.FieldErrors (undeliverable; nothing was sent),
// *model.Error (unavailable: a vendor could not resolve the customer's keys), anything
// else internal. A refused update that was not a dry run is recorded.
func (s *Service) Update(ctx context.Context, req Request) (Answer, error) {
	if req.UpdateID == "" && !req.DryRun {
		id, err := uuid.NewV7()
		if err != nil {
			return Answer{}, &model.Error{Code: model.EInternal, Err: err}
		}
		req.UpdateID = id.String()
	}
	sent := s.newSent(req.Body)
	u, err := model.Prepare(req.CustomerID, req.Body, s.region)
	var undeliverable model.FieldErrors
	if err != nil && (u == nil || !errors.As(err, &undeliverable)) {
		return s.refuse(ctx, req, sent, err)
	}
	if undeliverable != nil {
		// A 422 names every offending field at once: what the vendors would refuse too.
		return s.refuse(ctx, req, sent, s.withVendorRefusals(u, undeliverable))
	}
	known, err := s.recall(ctx, u)
	if err != nil {
		return Answer{}, &model.Error{Code: model.EInternal, Err: err}
	}
	// Resolving keys and delivering share one deadline, and a caller that hangs up must not
	// cut them off half-sent: they keep the request's values (logger, id) but not its
	// cancellation.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.deadline)
	defer cancel()
	plans, err := s.plan(dctx, u, req.DryRun, &sent)
	if err != nil {
		return s.refuse(ctx, req, sent, err)
	}
	if req.DryRun {
		return Answer{Result: s.fanout.DryRun(u, plans)}, nil
	}
	return s.send(dctx, req, u, plans, sent, known)
}

// withVendorRefusals adds to errs what the vendors' plans refuse in u (the fields errs does
// not name yet), planned without the fields errs names and asking no vendor anything.
func (s *Service) withVendorRefusals(u *model.Update, errs model.FieldErrors) model.FieldErrors {
	if slices.ContainsFunc(errs, func(e model.FieldError) bool { return e.Field == "phone" }) {
		u.Fields.Phone = nil // it did not parse: a vendor's plan would only repeat that
	}
	var refusal *fanout.Refusal
	if _, err := s.fanout.Plan(u); errors.As(err, &refusal) && (refusal.Refused || len(refusal.NoKeys) > 0) {
		for _, e := range refusal.Errors {
			if !slices.ContainsFunc(errs, func(n model.FieldError) bool { return n.Field == e.Field && n.Vendor == e.Vendor }) {
				errs = append(errs, e)
			}
		}
	}
	slices.SortStableFunc(errs, func(a, b model.FieldError) int { return strings.Compare(a.Field, b.Field) })
	return errs
}

// refuse records a refused update (unless a dry run) and answers err, with the update's id
// when it was recorded.
func (s *Service) refuse(ctx context.Context, req Request, sent sent, err error) (Answer, error) {
	if req.DryRun || !s.refused(ctx, req, sent.fields, err) {
		return Answer{}, err
	}
	return Answer{Result: model.UpdateResult{UpdateID: req.UpdateID, CustomerID: req.CustomerID}}, err
}

// send delivers (and, with the queue, queues) the planned update and writes what it
// leaves; ctx bounds the deliveries.
func (s *Service) send(ctx context.Context, req Request, u *model.Update, plans fanout.Plans, sent sent, known recalled) (Answer, error) {
	d := delivery{u: u, plans: plans, received: req.Received, waiting: known.waiting, deferred: sent.deferred,
		origin: model.Origin{RequestID: req.RequestID, UpdateID: req.UpdateID, TraceParent: tracing.TraceParent(ctx)}}
	d.async = s.canQueue() && req.Async
	if s.canQueue() {
		var err error
		if d.fields, err = model.QueuedFields(sent.body, req.Received.UnixNano()); err != nil {
			return Answer{}, &model.Error{Code: model.EInternal, Err: err}
		}
	}
	// A delivery the queue takes over is counted in the metrics as queued, not failed.
	ctx, settle := fanout.Defer(ctx)
	out := s.deliver(ctx, d)
	out.res.UpdateID = req.UpdateID
	res := s.write(ctx, req, d, sent, known.refs, out)
	settle(res.Results)
	logOutcome(ctx, res)
	return Answer{Result: res, AsyncApplied: d.async && res.Outcome == model.OutcomeQueued}, nil
}

// recalled is what the store knew of the customer before the update.
type recalled struct {
	refs    model.VendorRefs
	waiting []model.Vendor
}

// recall lays the refs stored for u's customer under the ones the update carries (a ref
// sent now wins, one sent before fills the gap) and answers what it read.
func (s *Service) recall(ctx context.Context, u *model.Update) (recalled, error) {
	if s.store == nil {
		return recalled{}, nil
	}
	refs, waiting, err := s.store.Recall(ctx, u.CustomerID)
	if err != nil {
		return recalled{}, err
	}
	if len(refs) > 0 {
		u.Fields.VendorRefs, _ = refs.Merge(u.Fields.VendorRefs)
	}
	return recalled{refs: refs, waiting: waiting}, nil
}

// canQueue reports whether a durable queue is there to take deliveries.
func (s *Service) canQueue() bool { return s.queue != nil }

// logOutcome logs each vendor's status: never a field value, so no phone or email.
func logOutcome(ctx context.Context, res model.UpdateResult) {
	ev := zerolog.Ctx(ctx).Info().Str("outcome", string(res.Outcome))
	for v, vr := range res.Results {
		ev = ev.Str(string(v), string(vr.Status))
	}
	ev.Msg("customer update")
}

// sent is what the caller's update itself carried, kept before the store fills in refs: only
// these refs (and a key the gateway resolved) are stored, so a concurrent update's newer ref
// is never overwritten by the older one this request recalled.
type sent struct {
	// body is the update as sent: what the queue keeps.
	body model.CustomerUpdate
	refs model.VendorRefs
	// fields are the names of the top-level fields it carried, for the audit trail: only
	// with a store, which keeps it.
	fields []string
	// deferred are the vendors whose keys could not be resolved yet, with why: their
	// deliveries are queued and the keys resolved in the background.
	deferred map[model.Vendor]error
}

func (s *Service) newSent(body model.CustomerUpdate) sent {
	out := sent{body: body, refs: body.VendorRefs.Clone()}
	if s.store != nil {
		out.fields = fieldNames(body)
	}
	return out
}
