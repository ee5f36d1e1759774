package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// Recall answers, in one read, what an update needs to know before it is sent: the refs
// known for the customer and the vendors with a delivery waiting for it (a new update for
// one of those joins the queue instead of overtaking what waits).
func (s *Store) Recall(ctx context.Context, customerID string) (model.VendorRefs, []model.Vendor, error) {
	var refs model.VendorRefs
	var waiting []model.Vendor
	err := eachRow(ctx, s.r, `
		SELECT 0, vendor, ref_key, value FROM customer_refs WHERE customer_id = $1
		UNION ALL
		SELECT 1, vendor, '', '' FROM pending_deliveries WHERE customer_id = $1`, []any{customerID}, func(rows *sql.Rows) error {
		var pending int
		var v, key, value string
		if err := rows.Scan(&pending, &v, &key, &value); err != nil {
			return err
		}
		if pending == 1 {
			waiting = append(waiting, model.Vendor(v))
			return nil
		}
		refs = addRef(refs, v, key, value)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: recall the customer: %w", err)
	}
	return refs, waiting, nil
}

// Jobs is how a queue makes sure of its jobs for the deliveries it queued, inside the
// store's transaction, and the time limit of a queued delivery. A queue keeps one: the
// jobs of the writes committed together are inserted together, by queue.
type Jobs struct {
	// Insert makes sure, in tx, of a job for each of jobs (one per customer and vendor).
	Insert func(ctx context.Context, tx *sql.Tx, jobs []Job) error
	// InsertBatch inserts, in tx, one job that sends every delivery it owns (Pending's
	// BatchJob), and answers its id. The deliveries due at once that a batch of updates
	// makes are all owned by one such job; nil: each gets a job of its own.
	InsertBatch func(ctx context.Context, tx *sql.Tx) (int64, error)
	// MaxAge is a queued delivery's time limit, counted from its newest update.
	MaxAge time.Duration
	Now    func() time.Time
}

// Job is a job a queue makes sure of: one that sends what waits for the customer at the
// vendor, first at At.
type Job struct {
	CustomerID string
	Vendor     model.Vendor
	At         time.Time
}

// errNoQueue is WriteUpdate's answer to writes that queue a delivery: only a queue can.
var errNoQueue = errors.New("store: deliveries to queue, but no queue")

// WriteUpdate writes what one update leaves, with nothing to queue, in one transaction
// shared with other updates' (group commit).
func (s *Store) WriteUpdate(ctx context.Context, w model.UpdateWrites) (model.UpdateWritten, error) {
	return s.WriteQueuedUpdate(ctx, w, nil)
}

// WriteQueuedUpdate writes what one update leaves in one transaction shared with other
// updates' (group commit): the refs merged, the deliveries of w.Queue merged into what
// waits for the customer with their jobs (jobs.Insert), then what w.Record builds from
// that: the event, the update as answered and the fields delivered.
func (s *Store) WriteQueuedUpdate(ctx context.Context, w model.UpdateWrites, jobs *Jobs) (model.UpdateWritten, error) {
	s.noteUpdateWrite()
	var written model.UpdateWritten
	err := s.inGroupTx(ctx, w.CustomerID, func(ctx context.Context, b *batch) error {
		var err error
		written, err = s.writeUpdateTx(ctx, b, w, jobs)
		return err
	})
	if err != nil {
		return model.UpdateWritten{}, fmt.Errorf("store: write update: %w", err)
	}
	return written, nil
}

func (s *Store) writeUpdateTx(ctx context.Context, b *batch, w model.UpdateWrites, jobs *Jobs) (model.UpdateWritten, error) {
	var written model.UpdateWritten
	tx := b.tx
	if !w.Refs.Empty() {
		var err error
		if _, written.ChangedRefs, err = s.mergeRefsTx(ctx, tx, w.CustomerID, w.Refs); err != nil {
			return written, err
		}
	}
	if len(w.Queue) > 0 {
		queued, err := s.queueItemsTx(ctx, b, w, jobs)
		if err != nil {
			return written, err
		}
		written.Queued = queued
	}
	// No notice, and no lock to take turns with the transactions that end its deliveries:
	// every delivery of this update was queued in this transaction, so none can have ended
	// yet, and the one that ends last notices (EndDeliveryTx).
	e, u, delivered := w.Record(written)
	_, err := s.recordUpdateTx(ctx, tx, e, u, delivered)
	return written, err
}

// queueItemsTx merges w's fields into what waits at each vendor of w.Queue, with a job
// each first tried at its At (inserted with the batch's), and answers until when each
// vendor queued is tried.
func (s *Store) queueItemsTx(ctx context.Context, b *batch, w model.UpdateWrites, jobs *Jobs) (map[model.Vendor]time.Time, error) {
	if jobs == nil {
		return nil, errNoQueue
	}
	vendors := make([]model.Vendor, len(w.Queue))
	at := make(map[model.Vendor]time.Time, len(w.Queue))
	for i, it := range w.Queue {
		vendors[i], at[it.Vendor] = it.Vendor, it.At
	}
	// Locked in one order, so two such transactions never wait on each other the other way.
	slices.Sort(vendors)
	now := jobs.Now()
	// A delivery made now and due now is owned by the batch's one job; one due later (a
	// first retry) waits for a job of its own, whose retries it then has.
	own := func(v model.Vendor) (int64, error) {
		if jobs.InsertBatch == nil || at[v].After(now) {
			return 0, nil
		}
		return b.batchJob(ctx, jobs)
	}
	queued, err := s.queueManyTx(ctx, b.tx, w.CustomerID, vendors, w.Fields, []model.Origin{w.Origin}, "", now, jobs.MaxAge, own)
	if err != nil {
		return nil, err
	}
	until := make(map[model.Vendor]time.Time, len(queued))
	for _, v := range slices.Sorted(maps.Keys(queued)) {
		if queued[v].OwnJobSends() { // else a batch's job, live while it owns the row, sends it
			b.insertJobs(jobs, Job{CustomerID: w.CustomerID, Vendor: v, At: at[v]})
		}
		until[v] = queued[v].ExpiresAt
	}
	return until, nil
}
