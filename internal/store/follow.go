package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/customergateway/gateway/internal/model"
)

// CompletedFunc runs in the transaction in which the last queued delivery of an update
// that was answered with a vendor queued ends: the queue inserts the update's webhook job
// there, so the job exists exactly when the update's end is recorded.
type CompletedFunc func(ctx context.Context, tx *sql.Tx, u model.UpdateRecord) error

// OnCompleted sets what runs when an update's queued deliveries have all ended; nil: nothing.
// Call it before the store is used.
func (s *Store) OnCompleted(fn CompletedFunc) { s.completed = fn }

// newID is a new UUIDv7: ids made later sort later.
func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("store: new id: %w", err)
	}
	return id.String(), nil
}

// lockUpdates makes the transactions that record an update and end its deliveries take
// turns on PostgreSQL, so one of them always sees the other's rows and the update's end is
// noticed exactly once. Ids are locked in order, so two transactions never wait on each
// other the other way round. SQLite's single writer already runs them one at a time.
func (s *Store) lockUpdates(ctx context.Context, tx *sql.Tx, ids []string) error {
	if s.engine != EnginePostgres {
		return nil
	}
	for _, id := range slices.Sorted(slices.Values(ids)) {
		h := fnv.New64a()
		_, _ = h.Write([]byte("customergateway/update:" + id))
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64())); err != nil {
			return err
		}
	}
	return nil
}

// keepUpdate stores u for GET /updates (nothing without an UpdateID) and answers whether it
// is due a notice when its queued deliveries have all ended (it was answered with a vendor
// queued). A caller that queued them in an earlier transaction notices at once, the
// update locked first (RecordUpdate): they may have ended before u was recorded.
func (s *Store) keepUpdate(ctx context.Context, tx *sql.Tx, u model.UpdateRecord) (bool, error) {
	if u.UpdateID == "" {
		return false, nil
	}
	answer, err := json.Marshal(u) // a dry run, the one answer with request views, is never kept
	if err != nil {
		return false, err
	}
	notify := len(u.Waiting()) > 0
	if _, err := tx.ExecContext(ctx, `INSERT INTO updates (update_id, customer_id, received_at, answer, notify) VALUES ($1, $2, $3, $4, $5)`,
		u.UpdateID, u.CustomerID, nanos(u.ReceivedAt), string(answer), boolInt(notify)); err != nil {
		return false, err
	}
	return notify, nil
}

// boolInt is b as the 0 or 1 an INTEGER flag column holds on both engines.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// noticeCompleted runs the completion hook when the update is due a notice (answered with
// a vendor queued) and none of its vendors is queued any more; the notice is then cleared,
// so it runs once per completion. It runs each time one of the update's deliveries ends,
// and all but the last find a vendor still queued: the update is read in one query and only
// its vendors' statuses decoded until then.
func (s *Store) noticeCompleted(ctx context.Context, tx *sql.Tx, updateID string) error {
	kept, err := readKept(ctx, tx, updateID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // recorded later: RecordUpdate notices then
	}
	if err != nil || !kept.notify {
		return err
	}
	if waiting, err := kept.waiting(); err != nil || waiting {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE updates SET notify = 0 WHERE update_id = $1`, updateID); err != nil {
		return err
	}
	if s.completed == nil {
		return nil
	}
	u, err := kept.record()
	if err != nil {
		return err
	}
	return s.completed(ctx, tx, u)
}

// Update answers the update kept as id, each vendor's line as it stands now, or
// model.ErrUpdateNotFound.
func (s *Store) Update(ctx context.Context, id string) (model.UpdateRecord, error) {
	u, err := readUpdate(ctx, s.r, id)
	if errors.Is(err, sql.ErrNoRows) {
		return model.UpdateRecord{}, model.ErrUpdateNotFound
	}
	if err != nil {
		return model.UpdateRecord{}, fmt.Errorf("store: read update: %w", err)
	}
	return u, nil
}

type rowQueryer interface {
	queryer
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// readUpdate reads an update's answer with the ended deliveries' lines laid over it.
func readUpdate(ctx context.Context, db queryer, id string) (model.UpdateRecord, error) {
	kept, err := readKept(ctx, db, id)
	if err != nil {
		return model.UpdateRecord{}, err
	}
	return kept.record()
}

// keptUpdate is an update's row as stored: its answer, whether it is due a notice, and the
// lines of its deliveries that ended since (update_results), each as JSON text.
type keptUpdate struct {
	answer  string
	notify  bool
	vendors []string
	results []string
}

// readKept reads the update id and its ended deliveries' lines in one query; sql.ErrNoRows
// when there is no such update.
func readKept(ctx context.Context, db queryer, id string) (keptUpdate, error) {
	var k keptUpdate
	found := false
	err := eachRow(ctx, db, `
		SELECT u.answer, u.notify, r.vendor, r.result
		FROM updates u LEFT JOIN update_results r ON r.update_id = u.update_id
		WHERE u.update_id = $1`, []any{id}, func(rows *sql.Rows) error {
		var notify int
		var vendor, result sql.NullString
		if err := rows.Scan(&k.answer, &notify, &vendor, &result); err != nil {
			return err
		}
		found, k.notify = true, notify == 1
		if vendor.Valid {
			k.vendors, k.results = append(k.vendors, vendor.String), append(k.results, result.String)
		}
		return nil
	})
	if err == nil && !found {
		err = sql.ErrNoRows
	}
	return k, err
}

// waiting reports whether a vendor of the update is still queued: its answer's line says
// queued and no ended line replaced it. Only the statuses are decoded.
func (k keptUpdate) waiting() (bool, error) {
	type line struct {
		Status model.Status `json:"status"`
	}
	var answer struct {
		Results map[string]line `json:"results"`
	}
	if err := readJSON(k.answer, &answer); err != nil {
		return false, fmt.Errorf("update answer: %w", err)
	}
	for i, vendor := range k.vendors {
		var l line
		if err := readJSON(k.results[i], &l); err != nil {
			return false, fmt.Errorf("update result: %w", err)
		}
		if answer.Results == nil {
			answer.Results = map[string]line{}
		}
		answer.Results[vendor] = l
	}
	for _, l := range answer.Results {
		if l.Status == model.StatusQueued {
			return true, nil
		}
	}
	return false, nil
}

// record is the update's answer with its ended deliveries' lines laid over it.
func (k keptUpdate) record() (model.UpdateRecord, error) {
	var u model.UpdateRecord
	if err := json.Unmarshal([]byte(k.answer), &u); err != nil {
		return model.UpdateRecord{}, fmt.Errorf("update answer: %w", err)
	}
	for i, vendor := range k.vendors {
		var r model.VendorResult
		if err := json.Unmarshal([]byte(k.results[i]), &r); err != nil {
			return model.UpdateRecord{}, fmt.Errorf("update result: %w", err)
		}
		if u.Results == nil {
			u.Results = map[model.Vendor]model.VendorResult{}
		}
		r.Warnings = u.Results[model.Vendor(vendor)].Warnings
		if r.Warnings == nil {
			r.Warnings = []string{}
		}
		u.Results[model.Vendor(vendor)] = r
	}
	if u.Outcome != model.OutcomeUndeliverable {
		u.Outcome = model.Summarize(u.Results)
	}
	return u, nil
}

// EndDeliveryTx records, in tx (the transaction that removes p's pending row), how the
// delivery ended: r becomes the vendor's line of every update merged into it, a delivery
// that ended without success is kept for GET /deliveries (its fields for retention), and
// an update whose last queued delivery this was is noticed (OnCompleted).
func (s *Store) EndDeliveryTx(ctx context.Context, tx *sql.Tx, p Pending, r model.VendorResult, at time.Time) error {
	r.Attempts = p.Attempts
	r.QueuedUntil, r.Request = nil, nil
	if err := s.setResults(ctx, tx, p.UpdateIDs, p.Vendor, r); err != nil {
		return err
	}
	switch r.Status {
	case model.StatusRejected, model.StatusFailed, model.StatusCancelled:
		if err := keepEnded(ctx, tx, p, r, at); err != nil {
			return err
		}
	}
	for _, id := range p.UpdateIDs {
		if err := s.noticeCompleted(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

// setResults makes r vendor's line of every update of ids (update_results), the updates
// locked first (lockUpdates).
func (s *Store) setResults(ctx context.Context, tx *sql.Tx, ids []string, vendor model.Vendor, r model.VendorResult) error {
	if err := s.lockUpdates(ctx, tx, ids); err != nil {
		return err
	}
	result, err := json.Marshal(r)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO update_results (update_id, vendor, result) VALUES ($1, $2, $3)
			ON CONFLICT (update_id, vendor) DO UPDATE SET result = excluded.result`, id, string(vendor), string(result)); err != nil {
			return err
		}
	}
	return nil
}

// keepEnded keeps a delivery that ended without success, with its fields.
func keepEnded(ctx context.Context, tx *sql.Tx, p Pending, r model.VendorResult, at time.Time) error {
	cols, err := jsonTexts(p.Fields, p.UpdateIDs)
	if err != nil {
		return err
	}
	fields, updates := cols[0], cols[1]
	_, err = tx.ExecContext(ctx, `
		INSERT INTO ended_deliveries (delivery_id, customer_id, vendor, update_ids, status, attempts, queued_at, queued_until, ended_at, error, fields)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (delivery_id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, queued_until = excluded.queued_until,
			ended_at = excluded.ended_at, error = excluded.error, fields = excluded.fields, update_ids = excluded.update_ids`,
		p.DeliveryID, p.CustomerID, string(p.Vendor), updates, string(r.Status), p.Attempts,
		nanos(p.QueuedAt), nanos(p.ExpiresAt), nanos(at), r.Why(), fields)
	return err
}

// noteLastUpdate makes updateID, delivered at at, each vendor's last update of the customer.
func (s *Store) noteLastUpdate(ctx context.Context, tx *sql.Tx, customerID, updateID string, at time.Time, vendors []model.Vendor) error {
	if updateID == "" {
		return nil
	}
	if len(vendors) == 0 {
		return nil
	}
	// One statement for every vendor: a statement each was most of this function's cost.
	values := make([]string, len(vendors))
	args := make([]any, 0, 4*len(vendors))
	for i, v := range vendors {
		values[i] = s.placeholders(len(args), 4)
		args = append(args, customerID, string(v), updateID, nanos(at))
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO customer_vendors (customer_id, vendor, last_update_id, last_delivered_at) VALUES `+strings.Join(values, ", ")+`
		ON CONFLICT (customer_id, vendor) DO UPDATE SET last_update_id = excluded.last_update_id, last_delivered_at = excluded.last_delivered_at
		WHERE excluded.last_update_id > customer_vendors.last_update_id`, args...)
	return err
}

// Customer answers the gateway's view of a customer: the refs it knows and, per vendor,
// the last update delivered, whether a delivery waits and the names of the fields
// delivered. model.ErrCustomerNotFound when the gateway kept nothing for it.
func (s *Store) Customer(ctx context.Context, customerID string) (model.CustomerView, error) {
	c, seen, err := s.readCustomer(ctx, customerID)
	if err != nil {
		return model.CustomerView{}, fmt.Errorf("store: read customer: %w", err)
	}
	if !seen {
		return model.CustomerView{}, model.ErrCustomerNotFound
	}
	return c, nil
}

func (s *Store) readCustomer(ctx context.Context, customerID string) (model.CustomerView, bool, error) {
	c := model.CustomerView{CustomerID: customerID, Vendors: map[model.Vendor]model.CustomerVendorView{}}
	refs, err := readRefs(ctx, s.r, customerID)
	if err != nil {
		return c, false, err
	}
	c.VendorRefs = refs
	if c.VendorRefs == nil {
		c.VendorRefs = model.VendorRefs{}
	}
	view := func(v string) model.CustomerVendorView {
		vv, ok := c.Vendors[model.Vendor(v)]
		if !ok {
			vv.Fields = []string{}
		}
		return vv
	}
	err = eachRow(ctx, s.r, `SELECT vendor, last_update_id, last_delivered_at FROM customer_vendors WHERE customer_id = $1`, []any{customerID}, func(rows *sql.Rows) error {
		var v, id string
		var at int64
		if err := rows.Scan(&v, &id, &at); err != nil {
			return err
		}
		vv, t := view(v), fromNanos(at)
		vv.LastUpdateID, vv.LastDeliveredAt = id, &t
		c.Vendors[model.Vendor(v)] = vv
		return nil
	})
	if err != nil {
		return c, false, err
	}
	paths, err := s.deliveredPaths(ctx, customerID)
	if err != nil {
		return c, false, err
	}
	for v, fields := range paths {
		vv := view(string(v))
		vv.Fields = fields
		c.Vendors[v] = vv
	}
	pending, err := s.PendingVendors(ctx, customerID)
	if err != nil {
		return c, false, err
	}
	for _, v := range pending {
		vv := view(string(v))
		vv.Pending = true
		c.Vendors[v] = vv
	}
	if len(c.Vendors) > 0 || !c.VendorRefs.Empty() {
		return c, true, nil
	}
	var n int
	err = s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM updates WHERE customer_id = $1`, customerID).Scan(&n)
	return c, n > 0, err
}

// eachRow runs fn on every row query answers.
func eachRow(ctx context.Context, db queryer, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// deliveryColumns are a delivery's columns as both of its tables give them.
const (
	waitingColumns = `delivery_id, customer_id, vendor, update_ids, 'queued', attempts, queued_at, expires_at, NULL, last_error, 1`
	endedColumns   = `delivery_id, customer_id, vendor, update_ids, status, attempts, queued_at, queued_until, ended_at, error, CASE WHEN fields IS NULL THEN 0 ELSE 1 END`
)

// ListDeliveries answers the deliveries f selects, newest first, at most f.Limit, and the
// cursor of the next page ("" at the end): waiting ones (queued) and those that ended
// without success (failed, rejected, cancelled). Ids are UUIDv7s, so newest first is
// delivery_id descending, and a page starts after the last id of the one before.
func (s *Store) ListDeliveries(ctx context.Context, f model.DeliveryFilter) ([]model.Delivery, string, error) {
	var parts []string
	var args []any
	where := func(table string) string {
		var conds []string
		add := func(cond string, v any) {
			args = append(args, v)
			conds = append(conds, fmt.Sprintf(cond, s.param(len(args))))
		}
		if table == "ended_deliveries" && f.Status != "" {
			add("status = %s", string(f.Status))
		}
		if f.Vendor != "" {
			add("vendor = %s", string(f.Vendor))
		}
		if f.CustomerID != "" {
			add("customer_id = %s", f.CustomerID)
		}
		if f.After != "" {
			add("delivery_id < %s", f.After)
		}
		if len(conds) == 0 {
			return ""
		}
		return " WHERE " + strings.Join(conds, " AND ")
	}
	if f.Status == "" || f.Status == model.StatusQueued {
		parts = append(parts, `SELECT `+waitingColumns+` FROM pending_deliveries`+where("pending_deliveries"))
	}
	if f.Status != model.StatusQueued {
		parts = append(parts, `SELECT `+endedColumns+` FROM ended_deliveries`+where("ended_deliveries"))
	}
	args = append(args, f.Limit+1)
	q := strings.Join(parts, " UNION ALL ") + " ORDER BY 1 DESC LIMIT " + s.param(len(args))
	var ds []model.Delivery
	err := eachRow(ctx, s.r, q, args, func(rows *sql.Rows) error {
		d, err := scanDelivery(rows)
		ds = append(ds, d)
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("store: list deliveries: %w", err)
	}
	if len(ds) > f.Limit {
		ds = ds[:f.Limit]
		return ds, ds[len(ds)-1].DeliveryID, nil
	}
	return ds, "", nil
}

// param is the n-th (1-based) parameter's placeholder.
func (s *Store) param(n int) string {
	if s.engine == EnginePostgres {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// scanDelivery reads a row of waitingColumns or endedColumns, and then extra.
func scanDelivery(row interface{ Scan(...any) error }, extra ...any) (model.Delivery, error) {
	var d model.Delivery
	var vendor, status, updates string
	var queued, until int64
	var ended sql.NullInt64
	var kept int
	dest := append([]any{&d.DeliveryID, &d.CustomerID, &vendor, &updates, &status, &d.Attempts, &queued, &until, &ended, &d.Error, &kept}, extra...)
	if err := row.Scan(dest...); err != nil {
		return d, err
	}
	d.Vendor, d.Status, d.QueuedAt, d.QueuedUntil = model.Vendor(vendor), model.Status(status), fromNanos(queued), fromNanos(until)
	if ended.Valid {
		t := fromNanos(ended.Int64)
		d.EndedAt = &t
		d.Retryable = kept == 1
	}
	if err := json.Unmarshal([]byte(updates), &d.UpdateIDs); err != nil {
		return d, fmt.Errorf("delivery update ids: %w", err)
	}
	if d.UpdateIDs == nil {
		d.UpdateIDs = []string{}
	}
	if n := len(d.UpdateIDs); n > 0 {
		d.UpdateID = d.UpdateIDs[n-1]
	}
	return d, nil
}

// Delivery answers the delivery named id, waiting or ended, or model.ErrDeliveryNotFound.
func (s *Store) Delivery(ctx context.Context, id string) (model.Delivery, error) {
	d, err := readDelivery(ctx, s.r, id)
	if errors.Is(err, sql.ErrNoRows) {
		return d, model.ErrDeliveryNotFound
	}
	if err != nil {
		return d, fmt.Errorf("store: read delivery: %w", err)
	}
	return d, nil
}

func readDelivery(ctx context.Context, db rowQueryer, id string) (model.Delivery, error) {
	d, err := scanDelivery(db.QueryRowContext(ctx, `SELECT `+waitingColumns+` FROM pending_deliveries WHERE delivery_id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return scanDelivery(db.QueryRowContext(ctx, `SELECT `+endedColumns+` FROM ended_deliveries WHERE delivery_id = $1`, id))
	}
	return d, err
}

// ActionEvent is the audit event of an operator's action on delivery d.
type ActionEvent func(d model.Delivery) model.AuditEvent

// RetryDelivery queues again the fields of the ended delivery id, as a new attempt with a
// time limit of maxAge from now, and runs then (the queue's job insert) in the same
// transaction, with the action's audit event. The fields are merged into what waits for
// the customer at the vendor like any queued update's, so what a newer update delivered
// since is left out: model.ErrDeliverySuperseded when nothing is left. The updates it
// carried show the vendor queued again. Errors: model.ErrDeliveryNotFound,
// model.ErrDeliveryWaiting (it has not ended), model.ErrDeliveryPurged.
func (s *Store) RetryDelivery(ctx context.Context, id string, now time.Time, maxAge time.Duration, event ActionEvent, then func(tx *sql.Tx, p Pending) error) (model.Delivery, error) {
	var d model.Delivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		ended, fields, err := s.lockEnded(ctx, tx, id)
		if err != nil {
			return err
		}
		origins := make([]model.Origin, len(ended.UpdateIDs))
		for i, u := range ended.UpdateIDs {
			origins[i] = model.Origin{UpdateID: u}
		}
		p, err := s.queueTx(ctx, tx, ended.CustomerID, ended.Vendor, fields, origins, ended.DeliveryID, now, maxAge, nil)
		if errors.Is(err, ErrSuperseded) {
			return model.ErrDeliverySuperseded
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM ended_deliveries WHERE delivery_id = $1`, id); err != nil {
			return err
		}
		if err := s.noteQueuedAgain(ctx, tx, ended, p); err != nil {
			return err
		}
		if err := then(tx, p); err != nil {
			return err
		}
		if d, err = readDelivery(ctx, tx, p.DeliveryID); err != nil {
			return err
		}
		return recordEvent(ctx, tx, event(ended))
	})
	if err != nil {
		return model.Delivery{}, storeError("retry delivery", err)
	}
	return d, nil
}

// lockEnded reads the ended delivery id with its fields, for a retry.
func (s *Store) lockEnded(ctx context.Context, tx *sql.Tx, id string) (model.Delivery, model.PendingFields, error) {
	if _, err := readDelivery(ctx, tx, id); errors.Is(err, sql.ErrNoRows) {
		return model.Delivery{}, nil, model.ErrDeliveryNotFound
	}
	q := `SELECT ` + endedColumns + `, fields FROM ended_deliveries WHERE delivery_id = $1`
	if s.engine == EnginePostgres {
		q += " FOR UPDATE"
	}
	var fields sql.NullString
	d, err := scanDelivery(tx.QueryRowContext(ctx, q, id), &fields)
	if errors.Is(err, sql.ErrNoRows) {
		return d, nil, model.ErrDeliveryWaiting
	}
	if err != nil {
		return d, nil, err
	}
	if !fields.Valid {
		return d, nil, model.ErrDeliveryPurged
	}
	var fs model.PendingFields
	if err := json.Unmarshal([]byte(fields.String), &fs); err != nil {
		return d, nil, fmt.Errorf("ended delivery fields: %w", err)
	}
	return d, fs, nil
}

// noteQueuedAgain shows the vendor queued again on every update the retried delivery carried.
func (s *Store) noteQueuedAgain(ctx context.Context, tx *sql.Tx, ended model.Delivery, p Pending) error {
	until := p.ExpiresAt
	r := model.VendorResult{Status: model.StatusQueued, Attempts: ended.Attempts, QueuedUntil: &until, Warnings: []string{},
		Reason: "sent again by an operator; the gateway keeps trying in the background until " + until.Format(time.RFC3339)}
	if err := s.setResults(ctx, tx, ended.UpdateIDs, ended.Vendor, r); err != nil {
		return err
	}
	for _, id := range ended.UpdateIDs {
		// Due a notice again when it ends again.
		if _, err := tx.ExecContext(ctx, `UPDATE updates SET notify = 1 WHERE update_id = $1`, id); err != nil {
			return err
		}
	}
	return nil
}

// CancelDelivery gives up the waiting delivery id: its pending row is removed (the job
// that would send it finds nothing and completes), it is kept as cancelled, and the
// updates it carried show the vendor cancelled, with the action's audit event, in one
// transaction. A delivery already on its way to the vendor may still arrive. Errors:
// model.ErrDeliveryNotFound, model.ErrDeliveryEnded.
func (s *Store) CancelDelivery(ctx context.Context, id, why string, now time.Time, event ActionEvent) (model.Delivery, error) {
	var d model.Delivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		found, err := readDelivery(ctx, tx, id)
		if errors.Is(err, sql.ErrNoRows) {
			return model.ErrDeliveryNotFound
		}
		if err != nil {
			return err
		}
		if found.Status != model.StatusQueued {
			return model.ErrDeliveryEnded
		}
		if err := s.lockDelivery(ctx, tx, found.CustomerID, found.Vendor); err != nil {
			return err
		}
		p, err := s.lockPending(ctx, tx, found.CustomerID, found.Vendor)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && p.DeliveryID != id) {
			return model.ErrDeliveryEnded // it ended while this waited for the lock
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM pending_deliveries WHERE customer_id = $1 AND vendor = $2`, p.CustomerID, string(p.Vendor)); err != nil {
			return err
		}
		if err := s.EndDeliveryTx(ctx, tx, p, model.VendorResult{Status: model.StatusCancelled, Reason: why}, now); err != nil {
			return err
		}
		if d, err = readDelivery(ctx, tx, id); err != nil {
			return err
		}
		return recordEvent(ctx, tx, event(d))
	})
	if err != nil {
		return model.Delivery{}, storeError("cancel delivery", err)
	}
	return d, nil
}

// PurgeDeliveryFields drops the fields of deliveries that ended before before (personal
// data, kept only for GATEWAY_DELIVERY_RETENTION) and answers how many it dropped.
func (s *Store) PurgeDeliveryFields(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE ended_deliveries SET fields = NULL WHERE ended_at < $1 AND fields IS NOT NULL`, nanos(before))
	if err != nil {
		return 0, fmt.Errorf("store: purge delivery fields: %w", err)
	}
	return res.RowsAffected()
}

// storeError passes a model error through as it is and wraps any other.
func storeError(what string, err error) error {
	var me *model.Error
	if errors.As(err, &me) {
		return err
	}
	return fmt.Errorf("store: %s: %w", what, err)
}
