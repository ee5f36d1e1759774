package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// What each vendor already has from the gateway is one row per customer and vendor
// (delivered_seqs): every leaf's sequence in one JSON object, and the newest of them for
// the retention purge. Its cost per update is one row per vendor, however many fields the
// update carried (a row per leaf was 18 rows for the README's example, most of the store's
// work per update).

// readDeliveredAt answers what each of vendors received for the customer: an empty
// Delivered for a vendor that received nothing yet.
func (s *Store) readDeliveredAt(ctx context.Context, db queryer, customerID string, vendors []model.Vendor) (map[model.Vendor]model.Delivered, error) {
	args := []any{customerID}
	out := make(map[model.Vendor]model.Delivered, len(vendors))
	for _, v := range vendors {
		args = append(args, string(v))
		out[v] = model.Delivered{}
	}
	err := eachRow(ctx, db, `SELECT vendor, seqs FROM delivered_seqs WHERE customer_id = $1 AND vendor IN `+s.placeholders(1, len(vendors)), args, func(rows *sql.Rows) error {
		v, d, err := scanSeqs(rows)
		out[v] = d
		return err
	})
	return out, err
}

// scanSeqs reads a row of (vendor, seqs).
func scanSeqs(rows *sql.Rows) (model.Vendor, model.Delivered, error) {
	var v, seqs string
	if err := rows.Scan(&v, &seqs); err != nil {
		return "", nil, err
	}
	d, err := parseSeqs(seqs)
	return model.Vendor(v), d, err
}

func parseSeqs(seqs string) (model.Delivered, error) {
	d := model.Delivered{}
	if err := json.Unmarshal([]byte(seqs), &d); err != nil {
		return nil, fmt.Errorf("delivered sequences: %w", err)
	}
	return d, nil
}

// markDelivered records, per vendor, the fields delivered to it, each leaf keeping the
// newer of its stored and given sequences: one statement locks (or makes) the vendors'
// rows and reads them, one writes them merged. Rows are taken in a fixed order, so two
// updates of one customer never lock each other's rows the other way round.
//
// With an updateID, each vendor's last update becomes updateID, delivered at at.
func (s *Store) markDelivered(ctx context.Context, tx *sql.Tx, customerID, updateID string, at time.Time, delivered map[model.Vendor]model.PendingFields) error {
	vendors := slices.Sorted(maps.Keys(delivered))
	if err := s.noteLastUpdate(ctx, tx, customerID, updateID, at, vendors); err != nil {
		return err
	}
	if len(vendors) == 0 {
		return nil
	}
	stored, err := s.lockDelivered(ctx, tx, customerID, vendors)
	if err != nil {
		return err
	}
	values := make([]string, 0, len(vendors))
	args := make([]any, 0, 4*len(vendors))
	for _, v := range vendors {
		d := stored[v]
		d.Mark(delivered[v])
		seqs, err := json.Marshal(d)
		if err != nil {
			return err
		}
		values = append(values, s.placeholders(len(args), 4))
		args = append(args, customerID, string(v), string(seqs), newest(d))
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO delivered_seqs (customer_id, vendor, seqs, newest) VALUES `+strings.Join(values, ", ")+`
		ON CONFLICT (customer_id, vendor) DO UPDATE SET seqs = excluded.seqs, newest = excluded.newest`, args...)
	return err
}

// lockDelivered makes or locks the customer's rows for vendors (sorted) and reads them: the
// no-op upsert takes each row's lock on PostgreSQL, so a concurrent merge waits for this
// transaction instead of writing over it. SQLite's single writer runs them in turn anyway,
// so there a read is enough: the upsert that follows makes the rows missing, and a no-op
// upsert would write every row twice (about a third of this function's cost under load).
func (s *Store) lockDelivered(ctx context.Context, tx *sql.Tx, customerID string, vendors []model.Vendor) (map[model.Vendor]model.Delivered, error) {
	if s.engine != EnginePostgres {
		return s.readDeliveredAt(ctx, tx, customerID, vendors)
	}
	values := make([]string, len(vendors))
	args := make([]any, 0, 2*len(vendors))
	for i, v := range vendors {
		values[i] = s.placeholders(len(args), 2)
		args = append(args, customerID, string(v))
	}
	rows, err := tx.QueryContext(ctx, `
		INSERT INTO delivered_seqs (customer_id, vendor) VALUES `+strings.Join(values, ", ")+`
		ON CONFLICT (customer_id, vendor) DO UPDATE SET newest = delivered_seqs.newest
		RETURNING vendor, seqs`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	stored := make(map[model.Vendor]model.Delivered, len(vendors))
	for rows.Next() {
		v, d, err := scanSeqs(rows)
		if err != nil {
			return nil, err
		}
		stored[v] = d
	}
	return stored, rows.Err()
}

// newest is the newest sequence of d: a row whose newest is older than the retention
// cutoff holds nothing newer.
func newest(d model.Delivered) int64 {
	var n int64
	for _, seq := range d {
		n = max(n, seq)
	}
	return n
}

// deliveredPaths lists, per vendor, the leaves delivered to the customer (their keys joined
// with a dot), sorted.
func (s *Store) deliveredPaths(ctx context.Context, customerID string) (map[model.Vendor][]string, error) {
	out := map[model.Vendor][]string{}
	err := eachRow(ctx, s.r, `SELECT vendor, seqs FROM delivered_seqs WHERE customer_id = $1`, []any{customerID}, func(rows *sql.Rows) error {
		v, d, err := scanSeqs(rows)
		if err != nil {
			return err
		}
		// Sorted as stored (keys joined by the unit separator), then spelled with dots.
		for _, path := range slices.Sorted(maps.Keys(d)) {
			out[v] = append(out[v], strings.ReplaceAll(path, "\x1f", "."))
		}
		return nil
	})
	return out, err
}
