package queue

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/delivery"
	"github.com/customergateway/gateway/internal/fanout"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/store"
	"github.com/customergateway/gateway/internal/tracing"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
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
	p, ok, err := q.store.PendingDelivery(ctx, c, v)
	if err != nil {
		return err
	}
	if !ok || !p.OwnJobSends() {
		// Nothing waits for this job (another path finished it, or a batch's job owns what
		// waits). Complete in a transaction that still finds nothing: a delivery queued
		// while this job ran must keep a live job.
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
	// Not the vendor: the lines of the pipeline below (fanout's "vendor delivery") name it
	// themselves, and a key twice in one JSON line is read differently by every reader.
	log := q.log.With().Int64("job", job.ID).Str("customer_id", loggedCustomerID(c)).Logger()
	a, err := q.attempt(log.WithContext(ctx), p, func(tx *sql.Tx) error { return completeJob(ctx, tx, job) })
	switch {
	case err != nil:
		return err
	case a.again:
		return river.JobSnooze(0)
	case a.ended:
		return nil
	}
	if err := q.store.NoteAttempt(ctx, c, v, a.reason); err != nil {
		log.Error().Err(err).Str("vendor", string(v)).Msg("note delivery attempt")
	}
	return river.JobSnooze(a.retryIn)
}

// attempted is how one attempt of a queued delivery left it.
type attempted struct {
	ended   bool          // sent, skipped or given up, and recorded: nothing waits
	again   bool          // an update was merged in meanwhile: send again, now
	retryIn time.Duration // otherwise it failed for reason: try again after retryIn
	reason  string
}

// attempt sends p once (the fields the vendor did not receive since) and, when that ends
// the delivery, removes its row and records it in one transaction, which also runs
// complete (a job of its own completes itself there; nil: a batch's job, which completes
// once it owns nothing). ctx carries the job's logger.
//
// Only the send takes one of the Workers slots (sendSlot): the read before it and the
// finishing transaction after it do not call the vendor, and attempts that wait for their
// commit while others send let the committer take many finishes in one commit.
func (q *Queue) attempt(ctx context.Context, p store.Pending, complete store.TxFunc) (attempted, error) {
	c, v := p.CustomerID, p.Vendor
	// The delivery's lines and its calls to the vendor (X-Request-Id) carry the request id
	// of the newest update merged into it; its lines carry every one's.
	id := newestRequestID(p.RequestIDs)
	log := zerolog.Ctx(ctx).With().Str("request_id", id).Strs("request_ids", p.RequestIDs).Logger()
	ctx = vendorhttp.WithRequestID(log.WithContext(ctx), id)
	ctx, span := startDeliverySpan(ctx, p)
	defer span.End()
	if trace := tracing.TraceID(ctx); trace != "" {
		log = log.With().Str("trace_id", trace).Logger()
		ctx = log.WithContext(ctx)
	}
	// A newer update may have reached the vendor directly since these were queued.
	delivered, refs, err := q.store.BeforeSend(ctx, c, v)
	if err != nil {
		return attempted{}, err
	}
	fields := p.Fields.Since(delivered)
	r := model.VendorResult{Status: model.StatusSkipped, Reason: "a newer update already delivered every field"}
	expired := false
	if len(fields) > 0 {
		// The attempt's calls are counted in the metrics as what the delivery comes to:
		// queued while the queue keeps trying, failed once it gives up.
		release, err := q.sendSlot(ctx)
		if err != nil {
			return attempted{}, err
		}
		sctx, settle := fanout.Defer(ctx)
		r = q.sender.DeliverQueued(sctx, queued(p, fields, refs))
		release()
		p.Attempts++
		// The time limit is checked after an attempt, so a delivery that waited out a
		// gateway outage still gets its chance.
		expired = q.now().After(p.ExpiresAt)
		settle(map[model.Vendor]model.VendorResult{v: {Status: attemptStatus(r.Status, expired)}})
	}
	switch r.Status {
	case model.StatusOK, model.StatusSkipped:
		done, err := q.store.FinishDelivery(ctx, c, v, p.Version, fields, func(tx *sql.Tx) error {
			return q.completeTx(ctx, tx, complete, p, r)
		})
		// Not done: an update was merged in while this one was on its way.
		return attempted{ended: done, again: !done}, err
	case model.StatusRejected:
		outcome(log.Warn(), v, p, r).Msg("queued delivery rejected; given up")
		return q.giveUp(ctx, complete, p, r)
	}
	if expired {
		r.Status, r.Reason = model.StatusFailed, "time limit passed; last failure: "+r.Why()
		outcome(log.Warn(), v, p, r).Msg("queued delivery failed past its time limit; given up")
		return q.giveUp(ctx, complete, p, r)
	}
	delay := q.retryDelay(p.Attempts)
	outcome(log.Warn(), v, p, r).Dur("retry_in", delay).Msg("queued delivery failed; will retry")
	return attempted{retryIn: delay, reason: r.Why()}, nil
}

// outcome adds to ev what one attempt of a queued delivery to vendor v came to: its status,
// the delivery's attempts, and, from the vendor, its code and message, else the gateway's
// reason. Never a field value.
func outcome(ev *zerolog.Event, v model.Vendor, p store.Pending, r model.VendorResult) *zerolog.Event {
	ev = ev.Str("vendor", string(v)).Str("status", string(r.Status)).Int("attempts", p.Attempts)
	if r.Error != nil {
		ev = ev.Int("vendor_code", r.Error.Code).Str("vendor_message", r.Error.Message)
	}
	if r.Reason != "" {
		ev = ev.Str("reason", r.Reason)
	}
	return ev
}

// attemptStatus is what one background attempt that ended with status counts as in the
// metrics: a failure the queue retries is still queued.
func attemptStatus(status model.Status, expired bool) model.Status {
	if status == model.StatusFailed && !expired {
		return model.StatusQueued
	}
	return status
}

// newestRequestID is the id of the newest request merged into a delivery (ids are kept
// oldest first), "" when none was noted.
func newestRequestID(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return ids[len(ids)-1]
}

// loggedCustomerID is a customer id as a log line may hold it: an id that may be an email
// address (it holds an @) keeps only its first character before the @, since no log line
// holds an email.
func loggedCustomerID(id string) string {
	local, domain, ok := strings.Cut(id, "@")
	if !ok {
		return id
	}
	_, n := utf8.DecodeRuneInString(local)
	local = local[:n]
	return local + "***@" + domain
}

// giveUp removes the delivery tried (tried.Version) and records why, running complete in
// the same transaction. When an update was merged in meanwhile, nothing is removed and the
// newer data is tried at once, with its own time limit.
func (q *Queue) giveUp(ctx context.Context, complete store.TxFunc, tried store.Pending, r model.VendorResult) (attempted, error) {
	_, _, err := q.store.DropDelivery(ctx, tried.CustomerID, tried.Vendor, tried.Version, func(tx *sql.Tx, _ store.Pending, found bool) error {
		if !found {
			return runTx(tx, complete)
		}
		return q.completeTx(ctx, tx, complete, tried, r)
	})
	if errors.Is(err, store.ErrVersionMoved) {
		return attempted{again: true}, nil
	}
	return attempted{ended: true}, err
}

// completeTx runs complete and records the delivery's outcome in tx, the transaction that
// removes its pending row: the row, the job and the audit trail change together.
func (q *Queue) completeTx(ctx context.Context, tx *sql.Tx, complete store.TxFunc, p store.Pending, r model.VendorResult) error {
	if err := runTx(tx, complete); err != nil {
		return err
	}
	if err := q.store.EndDeliveryTx(ctx, tx, p, r, q.now()); err != nil {
		return err
	}
	return q.store.RecordEventTx(ctx, tx, q.sender.QueuedEvent(queued(p, p.Fields, nil), r, q.now()))
}

// runTx runs fn in tx; a nil fn runs nothing.
func runTx(tx *sql.Tx, fn store.TxFunc) error {
	if fn == nil {
		return nil
	}
	return fn(tx)
}

// completeJob marks the running job completed in tx, the store's transaction.
func completeJob[A river.JobArgs](ctx context.Context, tx *sql.Tx, job *river.Job[A]) error {
	_, err := river.JobCompleteTx[riverdriver.Driver[*sql.Tx]](ctx, tx, job)
	return err
}

// queued is the pending delivery p as the sender takes it, with fields left to send.
func queued(p store.Pending, fields model.PendingFields, refs model.VendorRefs) delivery.Queued {
	return delivery.Queued{CustomerID: p.CustomerID, Vendor: p.Vendor, Fields: fields, Refs: refs,
		RequestIDs: p.RequestIDs, Attempts: p.Attempts, QueuedAt: p.QueuedAt}
}
