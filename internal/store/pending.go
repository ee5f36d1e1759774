package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/customergateway/gateway/internal/model"
)

// Pending is one vendor's waiting delivery for one customer: every queued update merged.
type Pending struct {
	// DeliveryID names the delivery from its first queueing until it ends.
	DeliveryID string
	CustomerID string
	Vendor     model.Vendor
	Fields     model.PendingFields
	RequestIDs []string
	// UpdateIDs are the updates merged into the delivery, oldest first.
	UpdateIDs []string
	// TraceParents are the W3C trace contexts of the requests merged into it, oldest first.
	TraceParents []string
	// Version grows with each merge; Finish removes the row only at the version sent.
	Version   int64
	QueuedAt  time.Time
	ExpiresAt time.Time
	Attempts  int
	LastError string
	// BatchJob is the queue job that owns the delivery, one job for the deliveries of many
	// updates not tried yet (BatchOwner); 0: the delivery's own job, one per customer and
	// vendor, sends it. Only the owner sends a delivery, so two jobs never send one at once.
	BatchJob int64
}

// OwnJobSends reports whether the delivery's own job sends it: no batch's job owns it.
func (p Pending) OwnJobSends() bool { return p.BatchJob == 0 }

// ErrSuperseded is QueueDelivery's answer when every field it was given is older than what
// the vendor already received: nothing is queued, nothing is lost.
var ErrSuperseded = model.ErrSuperseded

// ErrVersionMoved is DropDelivery's answer when an update was merged in since the version
// the caller sent: the newer data must still be tried.
var ErrVersionMoved = errors.New("store: an update was merged into the delivery meanwhile")

// TxFunc runs inside a store transaction: the queue inserts or completes its job there, so
// a pending row and its job are written, or removed, together.
type TxFunc func(tx *sql.Tx) error

// BatchOwner answers the job that owns a delivery made now for a vendor (Pending's
// BatchJob), inserting it if need be; 0: the delivery gets a job of its own.
type BatchOwner func(vendor model.Vendor) (int64, error)

// maxRequestIDs is how many request ids a pending delivery keeps for its audit event.
const maxRequestIDs = 50

const pendingColumns = "customer_id, vendor, fields, request_ids, version, queued_at, expires_at, attempts, last_error, delivery_id, update_ids, trace_parents, COALESCE(batch_job_id, 0)"

// QueueDelivery merges fields into the customer's pending delivery for vendor, creating it
// when none waits, and runs then in the same transaction (the queue makes sure of a job
// there, which also heals a row that lost its job). Fields older than what the vendor
// already received are left out (ErrSuperseded when none is left). The row's expiry moves to
// now+maxAge: the newest update merged in gets the whole time limit. Its version moves to at
// least now in Unix nanoseconds, so a row made again after one was removed never repeats a
// version a slow sender still holds.
func (s *Store) QueueDelivery(ctx context.Context, customerID string, vendor model.Vendor, fields model.PendingFields, origin model.Origin, now time.Time, maxAge time.Duration, then TxFunc) (Pending, error) {
	var p Pending
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = s.queueTx(ctx, tx, customerID, vendor, fields, []model.Origin{origin}, "", now, maxAge, nil)
		if err != nil {
			return err
		}
		return then(tx)
	})
	if errors.Is(err, ErrSuperseded) {
		return Pending{}, err
	}
	if err != nil {
		return Pending{}, fmt.Errorf("store: queue delivery: %w", err)
	}
	return p, nil
}

// queueManyTx merges fields into the customer's pending delivery for each of vendors
// (sorted), in three statements whatever their number: what each vendor received, read;
// the rows made or locked, and read; the merged rows written. A row made is named id (one
// vendor only: an operator's retry keeps its delivery's id) or a new UUIDv7; each origin's
// request and update ids are noted. A vendor whose every field is older than what it
// received is left out of the answer. A row made is owned by the job own answers for its
// vendor (BatchOwner; 0 or a nil own: by its own job); a row that waited keeps its owner.
func (s *Store) queueManyTx(ctx context.Context, tx *sql.Tx, customerID string, vendors []model.Vendor, fields model.PendingFields, origins []model.Origin, id string, now time.Time, maxAge time.Duration, own BatchOwner) (map[model.Vendor]Pending, error) {
	for _, v := range vendors {
		if err := s.lockDelivery(ctx, tx, customerID, v); err != nil {
			return nil, err
		}
	}
	delivered, err := s.readDeliveredAt(ctx, tx, customerID, vendors)
	if err != nil {
		return nil, err
	}
	left := make(map[model.Vendor]model.PendingFields, len(vendors))
	for _, v := range vendors {
		if f := fields.Since(delivered[v]); len(f) > 0 {
			left[v] = f
		}
	}
	if len(left) == 0 {
		return map[model.Vendor]Pending{}, nil
	}
	rows, err := s.lockPendingRows(ctx, tx, customerID, slices.Sorted(maps.Keys(left)), id, now)
	if err != nil {
		return nil, err
	}
	for v, p := range rows {
		if p.Version == 0 && own != nil { // made now: no row waited
			if p.BatchJob, err = own(v); err != nil {
				return nil, err
			}
		}
		p.Fields = p.Fields.Merge(left[v])
		for _, o := range origins {
			// The newest ones: a customer updated all through a long outage must not
			// grow the row without bound.
			p.RequestIDs = appendNewest(p.RequestIDs, o.RequestID)
			p.UpdateIDs = appendNewest(p.UpdateIDs, o.UpdateID)
			p.TraceParents = appendNewest(p.TraceParents, o.TraceParent)
		}
		p.Version = max(p.Version+1, now.UnixNano())
		p.ExpiresAt = now.Add(maxAge)
		rows[v] = p
	}
	return rows, s.writePendingRows(ctx, tx, rows)
}

// lockPendingRows makes (named id, or each a new UUIDv7 when id is empty) or locks the
// customer's pending rows for vendors, sorted, and reads them. On PostgreSQL the no-op
// upsert does both in one statement: concurrent merges queue on the row lock. SQLite's
// single writer runs such transactions one at a time, so there the rows are only read and
// the missing ones made in memory; writePendingRows, which follows, inserts them.
func (s *Store) lockPendingRows(ctx context.Context, tx *sql.Tx, customerID string, vendors []model.Vendor, id string, now time.Time) (map[model.Vendor]Pending, error) {
	if s.engine != EnginePostgres {
		return s.readPendingRows(ctx, tx, customerID, vendors, id, now)
	}
	values := make([]string, len(vendors))
	args := make([]any, 0, 5*len(vendors))
	for i, v := range vendors {
		p, err := newPending(customerID, v, id, now)
		if err != nil {
			return nil, err
		}
		values[i] = strings.TrimSuffix(s.placeholders(len(args), 5), ")") + ", '[]', '[]', 0)"
		args = append(args, p.CustomerID, string(p.Vendor), nanos(p.QueuedAt), nanos(p.ExpiresAt), p.DeliveryID)
	}
	query := `
		INSERT INTO pending_deliveries (customer_id, vendor, queued_at, expires_at, delivery_id, fields, request_ids, version)
		VALUES ` + strings.Join(values, ", ") + `
		ON CONFLICT (customer_id, vendor) DO UPDATE SET version = pending_deliveries.version
		RETURNING ` + pendingColumns
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[model.Vendor]Pending, len(vendors))
	for rows.Next() {
		p, err := scanPending(rows)
		if err != nil {
			return nil, err
		}
		out[p.Vendor] = p
	}
	return out, rows.Err()
}

// readPendingRows is lockPendingRows on SQLite: the customer's pending rows for vendors as
// stored, and for each vendor with none an empty one as the upsert would have made it.
func (s *Store) readPendingRows(ctx context.Context, tx *sql.Tx, customerID string, vendors []model.Vendor, id string, now time.Time) (map[model.Vendor]Pending, error) {
	args := []any{customerID}
	for _, v := range vendors {
		args = append(args, string(v))
	}
	out := make(map[model.Vendor]Pending, len(vendors))
	err := eachRow(ctx, tx, `SELECT `+pendingColumns+` FROM pending_deliveries WHERE customer_id = $1 AND vendor IN `+s.placeholders(1, len(vendors)), args, func(rows *sql.Rows) error {
		p, err := scanPending(rows)
		out[p.Vendor] = p
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, v := range vendors {
		if _, ok := out[v]; ok {
			continue
		}
		if out[v], err = newPending(customerID, v, id, now); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// newPending is the empty pending row lockPendingRows makes for a vendor with none: queued
// and expiring now, at version 0, its lists empty, named id or, when id is empty, a new
// UUIDv7.
func newPending(customerID string, vendor model.Vendor, id string, now time.Time) (Pending, error) {
	if id == "" {
		var err error
		if id, err = newID(); err != nil {
			return Pending{}, err
		}
	}
	return Pending{DeliveryID: id, CustomerID: customerID, Vendor: vendor, Fields: model.PendingFields{},
		RequestIDs: []string{}, UpdateIDs: []string{}, TraceParents: []string{},
		QueuedAt: fromNanos(nanos(now)), ExpiresAt: fromNanos(nanos(now))}, nil
}

// writePendingRows writes rows, merged, over the ones lockPendingRows read.
func (s *Store) writePendingRows(ctx context.Context, tx *sql.Tx, rows map[model.Vendor]Pending) error {
	values := make([]string, 0, len(rows))
	args := make([]any, 0, 10*len(rows))
	for _, v := range slices.Sorted(maps.Keys(rows)) {
		p := rows[v]
		cols, err := jsonTexts(p.Fields, p.RequestIDs, p.UpdateIDs, p.TraceParents)
		if err != nil {
			return err
		}
		values = append(values, s.placeholders(len(args), 11))
		args = append(args, p.CustomerID, string(p.Vendor), cols[0], cols[1], p.Version, nanos(p.ExpiresAt), cols[2], p.DeliveryID, cols[3], nanos(p.QueuedAt), batchJobID(p.BatchJob))
	}
	// On PostgreSQL every row is there (lockPendingRows) and the upsert only ever updates;
	// on SQLite it inserts the rows lockPendingRows made in memory.
	_, err := tx.ExecContext(ctx, `
		INSERT INTO pending_deliveries (customer_id, vendor, fields, request_ids, version, expires_at, update_ids, delivery_id, trace_parents, queued_at, batch_job_id)
		VALUES `+strings.Join(values, ", ")+`
		ON CONFLICT (customer_id, vendor) DO UPDATE SET fields = excluded.fields, request_ids = excluded.request_ids,
			version = excluded.version, expires_at = excluded.expires_at, update_ids = excluded.update_ids,
			delivery_id = excluded.delivery_id, trace_parents = excluded.trace_parents, batch_job_id = excluded.batch_job_id`, args...)
	return err
}

// batchJobID is a row's batch_job_id as stored: NULL for a delivery its own job sends.
func batchJobID(job int64) any {
	if job == 0 {
		return nil
	}
	return job
}

// queueTx is QueueDelivery's work inside tx, queueManyTx for one vendor:
// ErrSuperseded when every field is older than what the vendor received.
func (s *Store) queueTx(ctx context.Context, tx *sql.Tx, customerID string, vendor model.Vendor, fields model.PendingFields, origins []model.Origin, id string, now time.Time, maxAge time.Duration, own BatchOwner) (Pending, error) {
	rows, err := s.queueManyTx(ctx, tx, customerID, []model.Vendor{vendor}, fields, origins, id, now, maxAge, own)
	if err != nil {
		return Pending{}, err
	}
	p, ok := rows[vendor]
	if !ok {
		return Pending{}, ErrSuperseded
	}
	return p, nil
}

// appendNewest adds id to ids once, keeping the newest maxRequestIDs.
func appendNewest(ids []string, id string) []string {
	if id == "" || slices.Contains(ids, id) {
		return ids
	}
	return append(ids, id)[max(0, len(ids)+1-maxRequestIDs):]
}

// lockDelivery makes the transactions that change one customer's pending delivery for one
// vendor take turns. On PostgreSQL a row lock cannot cover a row that does not exist yet:
// without this, a job finishing because it found no row could commit beside a merge that
// creates one, whose unique job insert was skipped for the still-running job, leaving the
// row with no job. It is a transaction-scoped advisory lock on a hash of the pair; SQLite's
// single writer already runs such transactions one at a time.
func (s *Store) lockDelivery(ctx context.Context, tx *sql.Tx, customerID string, vendor model.Vendor) error {
	if s.engine != EnginePostgres {
		return nil
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte("customergateway/pending:" + string(vendor) + "\x1f" + customerID))
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64()))
	return err
}

// lockPending reads an existing pending row and, on PostgreSQL, locks it until the transaction ends
// (SQLite's IMMEDIATE transactions already hold the database's only write lock).
func (s *Store) lockPending(ctx context.Context, tx *sql.Tx, customerID string, vendor model.Vendor) (Pending, error) {
	q := `SELECT ` + pendingColumns + ` FROM pending_deliveries WHERE customer_id = $1 AND vendor = $2`
	if s.engine == EnginePostgres {
		q += " FOR UPDATE"
	}
	return scanPending(tx.QueryRowContext(ctx, q, customerID, string(vendor)))
}

// jsonTexts is each of vs in JSON, as the store's JSON columns hold it: text.
func jsonTexts(vs ...any) ([]string, error) {
	out := make([]string, len(vs))
	for i, v := range vs {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out[i] = string(b)
	}
	return out, nil
}

func scanPending(row interface{ Scan(...any) error }) (Pending, error) {
	var p Pending
	var vendor, fields, ids, updates, traces string
	var queued, expires int64
	if err := row.Scan(&p.CustomerID, &vendor, &fields, &ids, &p.Version, &queued, &expires, &p.Attempts, &p.LastError, &p.DeliveryID, &updates, &traces, &p.BatchJob); err != nil {
		return Pending{}, err
	}
	if err := readJSON(updates, &p.UpdateIDs); err != nil {
		return Pending{}, fmt.Errorf("pending update ids: %w", err)
	}
	if err := readJSON(traces, &p.TraceParents); err != nil {
		return Pending{}, fmt.Errorf("pending trace parents: %w", err)
	}

	p.Vendor, p.QueuedAt, p.ExpiresAt = model.Vendor(vendor), fromNanos(queued), fromNanos(expires)
	if err := readJSON(fields, &p.Fields); err != nil {
		return Pending{}, fmt.Errorf("pending fields: %w", err)
	}
	if err := readJSON(ids, &p.RequestIDs); err != nil {
		return Pending{}, fmt.Errorf("pending request ids: %w", err)
	}
	return p, nil
}

// PendingDelivery answers the customer's pending delivery for vendor, and false when none waits.
func (s *Store) PendingDelivery(ctx context.Context, customerID string, vendor model.Vendor) (Pending, bool, error) {
	p, err := scanPending(s.r.QueryRowContext(ctx, `SELECT `+pendingColumns+` FROM pending_deliveries WHERE customer_id = $1 AND vendor = $2`, customerID, string(vendor)))
	if errors.Is(err, sql.ErrNoRows) {
		return Pending{}, false, nil
	}
	if err != nil {
		return Pending{}, false, fmt.Errorf("store: read pending delivery: %w", err)
	}
	return p, true, nil
}

// PendingVendors lists the vendors with a delivery waiting for the customer: a new update
// for one of them joins the queue instead of overtaking what waits.
func (s *Store) PendingVendors(ctx context.Context, customerID string) ([]model.Vendor, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT vendor FROM pending_deliveries WHERE customer_id = $1 ORDER BY vendor`, customerID)
	if err != nil {
		return nil, fmt.Errorf("store: read pending vendors: %w", err)
	}
	defer rows.Close()
	var vs []model.Vendor
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: read pending vendors: %w", err)
		}
		vs = append(vs, model.Vendor(v))
	}
	return vs, rows.Err()
}

// CountPending answers how many deliveries wait, for metrics and tests.
func (s *Store) CountPending(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM pending_deliveries`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count pending deliveries: %w", err)
	}
	return n, nil
}

// FinishDelivery removes a pending delivery whose fields (sent) reached the vendor at
// version, records them as delivered and runs then, all in one transaction, shared with
// other writers' (group commit: the queue's workers finish many deliveries at once while
// it drains). It answers false, removing nothing, when an update was merged in since
// version was read: that one must still be sent. then may run twice, as inGroupTx says.
func (s *Store) FinishDelivery(ctx context.Context, customerID string, vendor model.Vendor, version int64, sent model.PendingFields, then TxFunc) (bool, error) {
	var done bool
	err := s.inGroupTx(ctx, deliveryKey(customerID, vendor), func(ctx context.Context, b *batch) error {
		done = false // a run again after its batch failed starts afresh
		tx := b.tx
		if err := s.lockDelivery(ctx, tx, customerID, vendor); err != nil {
			return err
		}
		var updates string
		err := tx.QueryRowContext(ctx, `DELETE FROM pending_deliveries WHERE customer_id = $1 AND vendor = $2 AND version = $3 RETURNING update_ids`,
			customerID, string(vendor), version).Scan(&updates)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		done = true
		var ids []string
		if err := json.Unmarshal([]byte(updates), &ids); err != nil {
			return fmt.Errorf("pending update ids: %w", err)
		}
		var last string
		if len(ids) > 0 {
			last = ids[len(ids)-1]
		}
		if err := s.markDelivered(ctx, tx, customerID, last, time.Now(), map[model.Vendor]model.PendingFields{vendor: sent}); err != nil {
			return err
		}
		return then(tx)
	})
	if err != nil {
		return false, fmt.Errorf("store: finish delivery: %w", err)
	}
	return done, nil
}

// deliveryKey is the group-commit key of a write of the customer's delivery to vendor
// (groupOp.key): after the customer's own, with the customer's other vendors.
func deliveryKey(customerID string, vendor model.Vendor) string {
	return customerID + "\x1f" + string(vendor)
}

// DropDelivery removes a pending delivery tried at version (the vendor refused it, or its
// time limit passed) and runs then in the same transaction with the row removed and whether
// there was one. It answers the same, or ErrVersionMoved, removing nothing, when an update
// was merged in since: the newer data gets its own attempt and its own time limit.
func (s *Store) DropDelivery(ctx context.Context, customerID string, vendor model.Vendor, version int64, then func(tx *sql.Tx, p Pending, found bool) error) (Pending, bool, error) {
	var p Pending
	var found bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockDelivery(ctx, tx, customerID, vendor); err != nil {
			return err
		}
		var err error
		p, err = s.lockPending(ctx, tx, customerID, vendor)
		if errors.Is(err, sql.ErrNoRows) {
			return then(tx, Pending{}, false)
		}
		if err != nil {
			return err
		}
		if p.Version != version {
			return ErrVersionMoved
		}
		found = true
		if _, err := tx.ExecContext(ctx, `DELETE FROM pending_deliveries WHERE customer_id = $1 AND vendor = $2`, customerID, string(vendor)); err != nil {
			return err
		}
		return then(tx, p, true)
	})
	if errors.Is(err, ErrVersionMoved) {
		return Pending{}, false, err
	}
	if err != nil {
		return Pending{}, false, fmt.Errorf("store: drop delivery: %w", err)
	}
	return p, found, nil
}

// NoteAttempt counts a failed attempt of a pending delivery and keeps its reason.
func (s *Store) NoteAttempt(ctx context.Context, customerID string, vendor model.Vendor, reason string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE pending_deliveries SET attempts = attempts + 1, last_error = $3 WHERE customer_id = $1 AND vendor = $2`,
		customerID, string(vendor), reason)
	if err != nil {
		return fmt.Errorf("store: note delivery attempt: %w", err)
	}
	return nil
}

// FinishIfNothingPending runs then in a transaction that finds no pending delivery for the
// customer at vendor that its own job sends (one a batch's job owns is that job's), and
// answers true, running nothing, when one waits after all. A job that found nothing to
// send completes through it, so a delivery queued meanwhile is never left behind a job
// that already finished.
func (s *Store) FinishIfNothingPending(ctx context.Context, customerID string, vendor model.Vendor, then TxFunc) (bool, error) {
	waiting, err := s.finishIfNone(ctx, func(tx *sql.Tx) (bool, error) {
		if err := s.lockDelivery(ctx, tx, customerID, vendor); err != nil {
			return false, err
		}
		p, err := s.lockPending(ctx, tx, customerID, vendor)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return err == nil && p.OwnJobSends(), err
	}, then)
	if err != nil {
		return false, fmt.Errorf("store: finish empty delivery: %w", err)
	}
	return waiting, nil
}

// finishIfNone runs then in a transaction in which waits answers false, and answers true,
// running nothing, when it answers true: how a job that found nothing of its own completes.
func (s *Store) finishIfNone(ctx context.Context, waits func(tx *sql.Tx) (bool, error), then TxFunc) (bool, error) {
	var waiting bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if waiting, err = waits(tx); err != nil || waiting {
			return err
		}
		return then(tx)
	})
	return waiting, err
}

// BeforeSend answers what a queued delivery reads just before it is sent, in one query:
// what the vendor already received from the gateway for the customer, and the customer's
// refs (the delivery uses the refs stored when it is sent).
func (s *Store) BeforeSend(ctx context.Context, customerID string, vendor model.Vendor) (model.Delivered, model.VendorRefs, error) {
	delivered := model.Delivered{}
	var refs model.VendorRefs
	err := eachRow(ctx, s.r, `
		SELECT 'ref', vendor, ref_key, value FROM customer_refs WHERE customer_id = $1
		UNION ALL
		SELECT 'seqs', vendor, '', seqs FROM delivered_seqs WHERE customer_id = $1 AND vendor = $2`,
		[]any{customerID, string(vendor)}, func(rows *sql.Rows) error {
			var kind, v, key, value string
			if err := rows.Scan(&kind, &v, &key, &value); err != nil {
				return err
			}
			if kind == "ref" {
				refs = addRef(refs, v, key, value)
				return nil
			}
			var err error
			delivered, err = parseSeqs(value)
			return err
		})
	if err != nil {
		return nil, nil, fmt.Errorf("store: read before sending: %w", err)
	}
	return delivered, refs, nil
}

// RecordUpdate records an update's audit event and, for each vendor that received it
// directly, the fields delivered, in one transaction.
//
// With an UpdateID, u is kept for GET /updates/{update_id} in the same transaction, and the
// vendors in delivered become the customer's last update there. Deliveries of u queued
// before (in transactions of their own) may have ended already: if they all have, u's
// completion is noticed here.
func (s *Store) RecordUpdate(ctx context.Context, e model.AuditEvent, u model.UpdateRecord, delivered map[model.Vendor]model.PendingFields) error {
	s.noteUpdateWrite()
	err := s.inGroupTx(ctx, u.CustomerID, func(ctx context.Context, b *batch) error {
		notify, err := s.recordUpdateTx(ctx, b.tx, e, u, delivered)
		if err != nil || !notify {
			return err
		}
		// Taking turns with a transaction that ends one of u's deliveries: whichever locks
		// second sees the other's rows, so the end is noticed by one of them.
		if err := s.lockUpdates(ctx, b.tx, []string{u.UpdateID}); err != nil {
			return err
		}
		return s.noticeCompleted(ctx, b.tx, u.UpdateID)
	})
	if err != nil {
		return fmt.Errorf("store: record update: %w", err)
	}
	return nil
}

// recordUpdateTx is RecordUpdate's work inside tx, less the notice; it answers whether u
// is due one when its queued deliveries have all ended (keepUpdate).
func (s *Store) recordUpdateTx(ctx context.Context, tx *sql.Tx, e model.AuditEvent, u model.UpdateRecord, delivered map[model.Vendor]model.PendingFields) (bool, error) {
	if err := recordEvent(ctx, tx, e); err != nil {
		return false, err
	}
	if err := s.markDelivered(ctx, tx, u.CustomerID, u.UpdateID, time.Now(), delivered); err != nil {
		return false, err
	}
	return s.keepUpdate(ctx, tx, u)
}

// queryer is what reads need of a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// BatchDeliveries answers up to limit of the deliveries the batch job job owns.
func (s *Store) BatchDeliveries(ctx context.Context, job int64, limit int) ([]Pending, error) {
	var out []Pending
	err := eachRow(ctx, s.r, `SELECT `+pendingColumns+` FROM pending_deliveries WHERE batch_job_id = $1 ORDER BY customer_id, vendor LIMIT $2`, []any{job, limit}, func(rows *sql.Rows) error {
		p, err := scanPending(rows)
		out = append(out, p)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: read a batch's deliveries: %w", err)
	}
	return out, nil
}

// FinishBatch runs then in a transaction that finds no delivery the batch job job owns,
// and answers true, running nothing, when one is still owned. The job completes through
// it: it never finishes while a delivery it owns waits.
func (s *Store) FinishBatch(ctx context.Context, job int64, then TxFunc) (bool, error) {
	waiting, err := s.finishIfNone(ctx, func(tx *sql.Tx) (bool, error) {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM pending_deliveries WHERE batch_job_id = $1 LIMIT 1`, job).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return err == nil, err
	}, then)
	if err != nil {
		return false, fmt.Errorf("store: finish a batch: %w", err)
	}
	return waiting, nil
}

// GiveToOwnJob gives a delivery the batch job job owns, tried at version and failed for
// reason, to a job of its own, which then has its retries: the attempt is counted, and
// then (which inserts that job) runs in the same transaction. It answers false, changing
// nothing, when the delivery moved meanwhile (an update merged in: the batch's job sends
// it again; or it ended).
func (s *Store) GiveToOwnJob(ctx context.Context, customerID string, vendor model.Vendor, job, version int64, reason string, then TxFunc) (bool, error) {
	var moved bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockDelivery(ctx, tx, customerID, vendor); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE pending_deliveries SET batch_job_id = NULL, attempts = attempts + 1, last_error = $5
			WHERE customer_id = $1 AND vendor = $2 AND batch_job_id = $3 AND version = $4`, customerID, string(vendor), job, version, reason)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			moved = true
			return err
		}
		return then(tx)
	})
	if err != nil {
		return false, fmt.Errorf("store: give a delivery to its own job: %w", err)
	}
	return !moved, nil
}

// readJSON decodes a JSON column the store wrote (encoding/json, so valid UTF-8 with no
// name twice and every name as its struct tag spells it) into v with encoding/json/v2's
// reference implementation (go-json-experiment): a queued delivery's columns and an
// update's answer are read on every attempt, and it takes half the time and allocations.
// What v2 reads more strictly than v1 never occurs in what the store wrote.
func readJSON(text string, v any) error {
	return jsonv2.Unmarshal([]byte(text), v)
}
