package queue

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/store"
)

// batchArgs is a River job that sends every delivery it owns (store.Pending's BatchJob):
// those due at once that one group-committed batch of updates made, which would otherwise
// each be a job of their own, inserted, fetched and completed one by one. The job holds no
// data: the rows name it. A delivery it cannot send is handed to a job of its own
// (deliverArgs), which has its retries; the job completes once it owns nothing.
type batchArgs struct{}

func (batchArgs) Kind() string { return "vendor_delivery_batch" }

// batchRead bounds the deliveries a batch's job reads at once: a batch holds at most 64
// updates (store's maxBatch), each queued at one row per vendor.
const batchRead = 256

type batchWorker struct {
	river.WorkerDefaults[batchArgs]
	q *Queue
}

// NextRetry spaces the runs of a batch's job that failed (the store did not answer) by the
// queue's backoff, as for any delivery's job.
func (w *batchWorker) NextRetry(job *river.Job[batchArgs]) time.Time {
	return w.q.now().Add(w.q.retryDelay(len(job.Errors) + 1))
}

// batchBudget is how long one run of a batch's job starts attempts (Queue's batchBudget,
// which tests shorten); the rest of what it owns is sent by its next run, at once.
const batchBudget = 10 * time.Second

// Timeout is a run's limit: it starts attempts for batchBudget, and the last ones started
// take up to SendTimeout more. It stays below River's RescueStuckJobsAfter (SendTimeout +
// 30 s), past which a running job counts as one whose process died.
func (w *batchWorker) Timeout(*river.Job[batchArgs]) time.Duration {
	return w.q.cfg.SendTimeout + w.q.batchBudget + 5*time.Second
}

// Work sends the deliveries the job owns, a few at once (sendOwned), until it owns none and
// completes, or its time to start attempts is out (batchBudget): then it runs again at
// once, so that no run outlasts its timeout, nor the time after which River takes a
// running job for one whose process died and hands it to another.
func (w *batchWorker) Work(ctx context.Context, job *river.Job[batchArgs]) error {
	q := w.q
	log := q.log.With().Int64("job", job.ID).Logger()
	budget := time.Now().Add(q.batchBudget) // wall time, as River's limits are
	for {
		ps, err := q.store.BatchDeliveries(ctx, job.ID, batchRead)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			waiting, err := q.store.FinishBatch(ctx, job.ID, func(tx *sql.Tx) error { return completeJob(ctx, tx, job) })
			if err != nil || !waiting {
				return err
			}
			continue
		}
		if err := q.sendOwned(ctx, log, job.ID, ps, budget); err != nil {
			return err
		}
		if !time.Now().Before(budget) {
			return river.JobSnooze(0)
		}
	}
}

// attemptsPerSend is how many attempts the batches' jobs of a process run at once for each
// delivery it sends at once (Workers), while no update is being written. An attempt is a
// read, the send and a finishing commit: while some wait for their commit others send, and
// the committer takes every finish waiting in one commit, so a backlog drains faster and
// for less CPU a delivery, with no more calls at a vendor at once. 16, not 4: with 4 the
// writer's batches were small and the drain waited on them (make bench: 1,037-1,095
// updates/s drained and 1,310-1,377 CPU-us an update with its deliveries, against
// 1,199-1,256 and 1,162-1,243 at 16; 32 drained no faster).
const attemptsPerSend = 16

// updatesBeingWritten is how recent a request's write of an update must be for the batches'
// jobs to run only one attempt for each send slot: during a burst of requests their
// finishing commits would take the writer from the requests, which come first.
const updatesBeingWritten = 100 * time.Millisecond

// sendOwned attempts each of ps, owned by the batch job job, a few at once (attemptSlot),
// starting none but the first after budget (each run gets on), and answers when all it
// started have ended.
func (q *Queue) sendOwned(ctx context.Context, log zerolog.Logger, job int64, ps []store.Pending, budget time.Time) error {
	var wg sync.WaitGroup
	errs := make([]error, len(ps))
	for i, p := range ps {
		if i > 0 && !time.Now().Before(budget) {
			break
		}
		release, err := q.attemptSlot(ctx)
		if err != nil {
			errs[i] = err
			break
		}
		wg.Go(func() {
			defer release()
			plog := log.With().Str("customer_id", loggedCustomerID(p.CustomerID)).Logger()
			errs[i] = q.attemptOwned(plog.WithContext(ctx), job, p)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// attemptOwned attempts p, owned by the batch job job; a failure the queue retries hands
// p to a job of its own, first run after the backoff, in the transaction that counts the
// attempt.
func (q *Queue) attemptOwned(ctx context.Context, job int64, p store.Pending) error {
	a, err := q.attempt(ctx, p, nil)
	if err != nil || a.ended || a.again {
		return err // again: it is still the job's, read and sent once more
	}
	_, err = q.store.GiveToOwnJob(ctx, p.CustomerID, p.Vendor, job, p.Version, a.reason, func(tx *sql.Tx) error {
		return q.insertJobs(ctx, tx, []store.Job{{CustomerID: p.CustomerID, Vendor: p.Vendor, At: q.now().Add(a.retryIn)}})
	})
	return err
}

// insertBatch inserts, in tx, a batch's job, and answers its id.
func (q *Queue) insertBatch(ctx context.Context, tx *sql.Tx) (int64, error) {
	res, err := q.client.InsertTx(ctx, tx, batchArgs{}, &river.InsertOpts{MaxAttempts: maxAttempts})
	if err != nil {
		return 0, err
	}
	return res.Job.ID, nil
}

// sendSlot waits for one of the Workers deliveries a process sends at once, and answers
// the function that gives it back.
func (q *Queue) sendSlot(ctx context.Context) (func(), error) { return take(ctx, q.sends) }

// attemptSlot waits until a batch's job may start one more attempt: attemptsPerSend for
// each send slot, or one while requests are writing updates (busy), and answers the
// function that gives it back.
func (q *Queue) attemptSlot(ctx context.Context) (func(), error) {
	busyDone := func() {}
	if q.busy() {
		var err error
		if busyDone, err = take(ctx, q.busyAttempts); err != nil {
			return nil, err
		}
	}
	done, err := take(ctx, q.attempts)
	if err != nil {
		busyDone()
		return nil, err
	}
	return func() { done(); busyDone() }, nil
}

// take waits for a token of sem, and answers the function that gives it back.
func take(ctx context.Context, sem chan struct{}) (func(), error) {
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
