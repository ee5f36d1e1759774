package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/store"
)

// worker sends one customer's pending delivery to one vendor.
type worker struct {
	river.WorkerDefaults[deliverArgs]
	q *Queue
}

// NextRetry spaces the retries of a job that failed for another reason than the vendor (the
// store did not answer) by the queue's backoff: River's default grows without a cap.
func (w *worker) NextRetry(job *river.Job[deliverArgs]) time.Time {
	return w.q.now().Add(w.q.retryDelay(len(job.Errors) + 1))
}

// Work sends what waits for one customer at one vendor. Failed attempts are snoozed by the
// queue's own backoff rather than returned as errors: River does not count a snooze as an
// attempt, so its attempt limit never ends a delivery; the time limit does.
func (w *worker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	q := w.q
	c, v := job.Args.CustomerID, job.Args.Vendor
	log := q.log.With().Str("vendor", string(v)).Int64("job", job.ID).Logger()
	ctx = log.WithContext(ctx)

	p, ok, err := q.store.PendingDelivery(ctx, c, v)
	if err != nil {
		return err
	}
	if !ok {
		// Nothing waits (another path finished it). Complete in a transaction that still
		// finds nothing: a delivery queued while this job ran must keep a live job.
		waiting, err := q.store.FinishIfNothingPending(ctx, c, v, func(tx *sql.Tx) error {
			return completeJob(ctx, tx, job)
		})
		if err != nil {
			return err
		}
		if waiting {
			return river.JobSnooze(0)
		}
		return nil
	}
	// A newer update may have reached the vendor directly since these were queued.
	delivered, err := q.store.Delivered(ctx, c, v)
	if err != nil {
		return err
	}
	fields := p.Fields.Since(delivered)
	r := model.VendorResult{Status: model.StatusSkipped, Reason: "a newer update already delivered every field"}
	if len(fields) > 0 {
		r = q.send(ctx, p, fields)
		p.Attempts++
	}
	switch r.Status {
	case model.StatusOK, model.StatusSkipped:
		done, err := q.store.FinishDelivery(ctx, c, v, p.Version, fields, func(tx *sql.Tx) error {
			return q.completeTx(ctx, tx, job, p, r)
		})
		if err != nil {
			return err
		}
		if !done {
			// An update was merged in while this one was on its way: send again, now.
			return river.JobSnooze(0)
		}
		return nil
	case model.StatusRejected:
		return q.giveUp(ctx, job, p, r)
	}
	// The time limit is checked after an attempt, so a delivery that waited out a
	// gateway outage still gets its chance.
	if q.now().After(p.ExpiresAt) {
		r.Status, r.Reason = model.StatusFailed, "time limit passed; last failure: "+reason(r)
		return q.giveUp(ctx, job, p, r)
	}
	if err := q.store.NoteAttempt(ctx, c, v, reason(r)); err != nil {
		log.Error().Err(err).Msg("note delivery attempt")
	}
	delay := q.retryDelay(p.Attempts)
	log.Warn().Str("status", string(r.Status)).Int("attempts", p.Attempts).Dur("retry_in", delay).Msg("queued delivery failed; will retry")
	return river.JobSnooze(delay)
}

// send rebuilds the canonical update from what waits, lays the customer's current refs
// under it and delivers it to the one vendor, with the same retries, breaker and deadline
// as a request.
func (q *Queue) send(ctx context.Context, p store.Pending, fields model.PendingFields) model.VendorResult {
	body, err := fields.Update()
	if err != nil {
		return failedPlan(err)
	}
	body.Vendors = []model.Vendor{p.Vendor}
	u, err := model.Prepare(p.CustomerID, body, q.cfg.Region)
	if err != nil {
		return failedPlan(err)
	}
	refs, _, err := q.store.Refs(ctx, p.CustomerID)
	if err != nil {
		return model.VendorResult{Status: model.StatusFailed, Reason: "read vendor refs: " + err.Error()}
	}
	if p.Vendor == model.EngageLab && (refs.EngageLab == nil || refs.EngageLab.EUID == 0) {
		if refs, err = q.resolveEUID(ctx, p.CustomerID); err != nil {
			return euidFailure(err)
		}
	}
	u.Fields.VendorRefs = &refs
	plans, err := q.fanout.Plan(u)
	if err != nil {
		return failedPlan(err)
	}
	ctx, cancel := context.WithTimeout(ctx, q.cfg.SendTimeout)
	defer cancel()
	res := q.fanout.Deliver(ctx, u, plans)
	return res.Results[p.Vendor]
}

// resolveEUID asks EngageLab for the customer's euid, which the request could not get, and
// stores it: the identity user_id is the canonical customer id, as in a request.
func (q *Queue) resolveEUID(ctx context.Context, customerID string) (model.VendorRefs, error) {
	if q.euids == nil {
		return model.VendorRefs{}, errors.New("no euid is known and none can be resolved")
	}
	euid, err := q.euids.Register(ctx, customerID)
	if err != nil {
		return model.VendorRefs{}, err
	}
	refs, _, err := q.store.MergeRefs(ctx, customerID, model.VendorRefs{EngageLab: &model.EngageLabRef{EUID: euid}})
	return refs, err
}

// euidFailure is the result of a register call that failed: retried when EngageLab may
// answer later, given up when it refused.
func euidFailure(err error) model.VendorResult {
	r := model.VendorResult{Status: model.StatusFailed, Reason: "resolve EngageLab euid: " + err.Error()}
	if !model.IsRetryable(err) {
		r.Status = model.StatusRejected
	}
	return r
}

// failedPlan is an update that can no longer be planned (the vendor's keys were removed,
// its credentials unset): sending again would not help.
func failedPlan(err error) model.VendorResult {
	return model.VendorResult{Status: model.StatusRejected, Reason: "cannot be planned any more: " + err.Error()}
}

// giveUp removes the delivery tried (tried.Version), completes its job and records why, all
// in one transaction. When an update was merged in meanwhile, nothing is removed and the
// newer data is tried at once, with its own time limit.
func (q *Queue) giveUp(ctx context.Context, job *river.Job[deliverArgs], tried store.Pending, r model.VendorResult) error {
	_, _, err := q.store.DropDelivery(ctx, job.Args.CustomerID, job.Args.Vendor, tried.Version, func(tx *sql.Tx, _ store.Pending, found bool) error {
		if !found {
			return completeJob(ctx, tx, job)
		}
		return q.completeTx(ctx, tx, job, tried, r)
	})
	if errors.Is(err, store.ErrVersionMoved) {
		return river.JobSnooze(0)
	}
	return err
}

// completeTx completes the running job and records the delivery's outcome in tx, the
// transaction that removes its pending row: the row, the job and the audit trail change
// together.
func (q *Queue) completeTx(ctx context.Context, tx *sql.Tx, job *river.Job[deliverArgs], p store.Pending, r model.VendorResult) error {
	if err := completeJob(ctx, tx, job); err != nil {
		return err
	}
	return q.store.RecordEventTx(ctx, tx, q.deliveryEvent(p, r))
}

// completeJob marks the running job completed in tx, the store's transaction.
func completeJob(ctx context.Context, tx *sql.Tx, job *river.Job[deliverArgs]) error {
	_, err := river.JobCompleteTx[riverdriver.Driver[*sql.Tx]](ctx, tx, job)
	return err
}

// deliveryEvent is a delivery's outcome for the gateway's audit trail: field names, never values.
func (q *Queue) deliveryEvent(p store.Pending, r model.VendorResult) model.AuditEvent {
	details := map[string]any{
		"vendor":      string(p.Vendor),
		"status":      string(r.Status),
		"fields":      p.Fields.Names(),
		"request_ids": p.RequestIDs,
		"attempts":    p.Attempts,
		"queued_at":   p.QueuedAt.Format(time.RFC3339Nano),
	}
	if why := reason(r); why != "" {
		details["reason"] = why
	}
	return model.AuditEvent{
		Source:     model.SourceGateway,
		OccurredAt: q.now().UTC(),
		Type:       model.TypeAutomatic,
		Kind:       model.KindVendorDelivery,
		CustomerID: p.CustomerID,
		Summary:    fmt.Sprintf("queued delivery to %s: %s", p.Vendor.DisplayName(), outcomeWords[r.Status]),
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

// reason is what went wrong, in the words the answer to a request would use.
func reason(r model.VendorResult) string {
	parts := []string{}
	if r.Reason != "" {
		parts = append(parts, r.Reason)
	}
	if r.Error != nil {
		parts = append(parts, r.Error.Error())
	}
	return strings.Join(slices.Compact(parts), ": ")
}
