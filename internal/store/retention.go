package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Purged counts the rows one Purge deleted, per table.
type Purged struct {
	IdempotencyKeys int64 // replies past IdempotencyTTL
	Events          int64 // gateway_events
	Updates         int64 // updates, with their update_results
	DeliveredFields int64 // delivered_seqs: a customer's record at a vendor whose every leaf is older
	CustomerVendors int64 // customer_vendors
	EndedDeliveries int64 // ended_deliveries whose fields were dropped already
	// Busy is set when another process held the purge lock: it was purging, so this purge
	// left the rest to it.
	Busy bool
}

// Total is how many rows were deleted.
func (p Purged) Total() int64 {
	return p.IdempotencyKeys + p.Events + p.Updates + p.DeliveredFields + p.CustomerVendors + p.EndedDeliveries
}

func (p *Purged) add(q Purged) {
	p.IdempotencyKeys += q.IdempotencyKeys
	p.Events += q.Events
	p.Updates += q.Updates
	p.DeliveredFields += q.DeliveredFields
	p.CustomerVendors += q.CustomerVendors
	p.EndedDeliveries += q.EndedDeliveries
}

// purgeBatch bounds what one purge transaction deletes from each table, so a purge that
// has a backlog (the first one on an old database) never holds the writer long: requests'
// transactions get their turn between batches.
const purgeBatch = 1000

// Purge deletes what the gateway keeps no longer at now: Idempotency-Key replies past
// IdempotencyTTL (PurgeIdempotent's rule), and what is older than keep
// (GATEWAY_EVENT_RETENTION): gateway events, recorded updates with their vendors' results,
// delivered-field records, the customers' last-update records and the records of
// deliveries that ended without success whose fields were dropped already
// (PurgeDeliveryFields). An update still due its webhook (a vendor queued) is kept, and so
// are a customer's delivered-field records for a vendor while a delivery to it may still be
// sent (waiting, or ended with its fields kept for a retry): a late delivery never
// overwrites what a newer update delivered. Vendor refs are kept.
//
// It deletes in batches, each in a transaction of its own. On PostgreSQL each batch first
// takes the schema's purge lock (pg_try_advisory_xact_lock, released with the
// transaction): while another replica holds it, that replica is purging and this one stops
// at once (Purged.Busy), so replicas never purge side by side.
func (s *Store) Purge(ctx context.Context, now time.Time, keep time.Duration) (Purged, error) {
	var total Purged
	cutoff := nanos(now.Add(-keep))
	for {
		var batch Purged
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			if ok, err := s.purgeLock(ctx, tx); err != nil || !ok {
				batch.Busy = !ok
				return err
			}
			var err error
			batch, err = s.purgeBatch(ctx, tx, now, cutoff)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("store: purge: %w", err)
		}
		total.add(batch)
		if batch.Busy {
			total.Busy = true
			return total, nil
		}
		if !batch.full() {
			return total, nil
		}
	}
}

// full reports whether a batch deleted a whole batch from some table: more may be left.
func (p Purged) full() bool {
	for _, n := range []int64{p.IdempotencyKeys, p.Events, p.Updates, p.DeliveredFields, p.CustomerVendors, p.EndedDeliveries} {
		if n >= purgeBatch {
			return true
		}
	}
	return false
}

// purgeLock takes the purge lock of the store's schema for tx on PostgreSQL and reports
// whether it got it; SQLite's single writer already runs one purge at a time.
func (s *Store) purgeLock(ctx context.Context, tx *sql.Tx) (bool, error) {
	if s.engine != EnginePostgres {
		return true, nil
	}
	var ok bool
	err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended('customergateway/retention:' || current_schema(), 0))`).Scan(&ok)
	return ok, err
}

func (s *Store) purgeBatch(ctx context.Context, tx *sql.Tx, now time.Time, cutoff int64) (Purged, error) {
	var p Purged
	var err error
	exec := func(n *int64, query string, args ...any) {
		if err != nil {
			return
		}
		var res sql.Result
		if res, err = tx.ExecContext(ctx, query, args...); err == nil {
			*n, err = res.RowsAffected()
		}
	}
	exec(&p.IdempotencyKeys, `DELETE FROM idempotency_keys WHERE idem_key IN (
		SELECT idem_key FROM idempotency_keys WHERE created_at <= $1 AND (status IS NOT NULL OR `+expiredAt("$2")+`) LIMIT $3`+s.skipLocked()+`)`,
		nanos(now.Add(-IdempotencyTTL)), nanos(now), purgeBatch)
	exec(&p.Events, `DELETE FROM gateway_events WHERE id IN (
		SELECT id FROM gateway_events WHERE occurred_at < $1 LIMIT $2`+s.skipLocked()+`)`, cutoff, purgeBatch)
	exec(&p.DeliveredFields, `DELETE FROM delivered_seqs WHERE (customer_id, vendor) IN (
		SELECT d.customer_id, d.vendor FROM delivered_seqs d WHERE d.newest < $1
		AND NOT EXISTS (SELECT 1 FROM pending_deliveries p WHERE p.customer_id = d.customer_id AND p.vendor = d.vendor)
		AND NOT EXISTS (SELECT 1 FROM ended_deliveries e WHERE e.customer_id = d.customer_id AND e.vendor = d.vendor AND e.fields IS NOT NULL)
		LIMIT $2`+s.skipLocked()+`)`, cutoff, purgeBatch)
	exec(&p.CustomerVendors, `DELETE FROM customer_vendors WHERE (customer_id, vendor) IN (
		SELECT customer_id, vendor FROM customer_vendors WHERE last_delivered_at < $1 LIMIT $2`+s.skipLocked()+`)`, cutoff, purgeBatch)
	exec(&p.EndedDeliveries, `DELETE FROM ended_deliveries WHERE delivery_id IN (
		SELECT delivery_id FROM ended_deliveries WHERE ended_at < $1 AND fields IS NULL LIMIT $2`+s.skipLocked()+`)`, cutoff, purgeBatch)
	if err != nil {
		return p, err
	}
	p.Updates, err = s.purgeUpdates(ctx, tx, cutoff)
	return p, err
}

// purgeUpdates deletes a batch of the updates received before cutoff that are due no
// webhook, with their vendors' results.
func (s *Store) purgeUpdates(ctx context.Context, tx *sql.Tx, cutoff int64) (int64, error) {
	var ids []any
	err := eachRow(ctx, tx, `SELECT update_id FROM updates WHERE received_at < $1 AND notify = 0 LIMIT $2`+s.skipLocked(), []any{cutoff, purgeBatch}, func(rows *sql.Rows) error {
		var id string
		err := rows.Scan(&id)
		ids = append(ids, id)
		return err
	})
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	in := s.placeholders(0, len(ids))
	if _, err := tx.ExecContext(ctx, `DELETE FROM update_results WHERE update_id IN `+in, ids...); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM updates WHERE update_id IN `+in, ids...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// skipLocked ends the purge's selections on PostgreSQL: a row a request holds is left for
// the next purge, so the purge never waits on a request and the two never deadlock. SQLite
// runs one writer at a time.
func (s *Store) skipLocked() string {
	if s.engine == EnginePostgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// rowCounts answers how many rows each of the tables the purge bounds holds, for tests.
func (s *Store) rowCounts(ctx context.Context) (map[string]int, error) {
	counts := map[string]int{}
	for _, table := range strings.Fields("idempotency_keys gateway_events updates update_results delivered_seqs customer_vendors ended_deliveries pending_deliveries") {
		var n int
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			return nil, err
		}
		counts[table] = n
	}
	return counts, nil
}
