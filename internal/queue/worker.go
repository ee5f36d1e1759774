package queue

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"

	"github.com/customergateway/gateway/internal/delivery"
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
		r = q.sender.DeliverQueued(ctx, queued(p, fields))
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
		r.Status, r.Reason = model.StatusFailed, "time limit passed; last failure: "+r.Why()
		return q.giveUp(ctx, job, p, r)
	}
	if err := q.store.NoteAttempt(ctx, c, v, r.Why()); err != nil {
		log.Error().Err(err).Msg("note delivery attempt")
	}
	delay := q.retryDelay(p.Attempts)
	log.Warn().Str("status", string(r.Status)).Int("attempts", p.Attempts).Dur("retry_in", delay).Msg("queued delivery failed; will retry")
	return river.JobSnooze(delay)
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
	return q.store.RecordEventTx(ctx, tx, q.sender.QueuedEvent(queued(p, p.Fields), r, q.now()))
}

// completeJob marks the running job completed in tx, the store's transaction.
func completeJob(ctx context.Context, tx *sql.Tx, job *river.Job[deliverArgs]) error {
	_, err := river.JobCompleteTx[riverdriver.Driver[*sql.Tx]](ctx, tx, job)
	return err
}

// queued is the pending delivery p as the sender takes it, with fields left to send.
func queued(p store.Pending, fields model.PendingFields) delivery.Queued {
	return delivery.Queued{CustomerID: p.CustomerID, Vendor: p.Vendor, Fields: fields,
		RequestIDs: p.RequestIDs, Attempts: p.Attempts, QueuedAt: p.QueuedAt}
}
