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

// MergeRefs stores the refs given for a customer over those already known: a ref given
// replaces the stored one, an absent one keeps it (model.VendorRefs.Merge). It answers the
// merged refs and the paths that changed (vendor_refs.<vendor>.<key>), sorted, for the
// audit trail; a key the gateway resolved is stored the same way. Refs are rows
// per customer, vendor and key, so a new vendor's refs need no migration.
//
// Concurrent merges for one customer are serialised by the lock the first statement takes
// on the customer's row, so none is lost on either engine.
func (s *Store) MergeRefs(ctx context.Context, customerID string, refs model.VendorRefs) (model.VendorRefs, []string, error) {
	known, _, err := s.Refs(ctx, customerID)
	if err != nil {
		return nil, nil, err
	}
	if merged, changed := known.Merge(refs); len(changed) == 0 {
		// Refs are only ever replaced, never cleared: what changes nothing now needs no
		// write (callers send their refs with every update).
		return merged, nil, nil
	}
	var merged model.VendorRefs
	var changed []string
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		merged, changed, err = s.mergeRefsTx(ctx, tx, customerID, refs)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: merge vendor refs: %w", err)
	}
	return merged, changed, nil
}

// mergeRefsTx is MergeRefs' work inside tx, the customer's row locked first.
func (s *Store) mergeRefsTx(ctx context.Context, tx *sql.Tx, customerID string, refs model.VendorRefs) (model.VendorRefs, []string, error) {
	now := nanos(time.Now())
	if err := touchCustomer(ctx, tx, customerID, now); err != nil {
		return nil, nil, err
	}
	known, err := readRefs(ctx, tx, customerID)
	if err != nil {
		return nil, nil, err
	}
	merged, changed := known.Merge(refs)
	if len(changed) == 0 {
		return merged, nil, nil
	}
	return merged, changed, s.writeRefs(ctx, tx, customerID, merged, known, now)
}

// touchCustomer creates the customer's row or locks the one there (the no-op update takes
// its row lock on PostgreSQL), in one statement both engines run alike.
func touchCustomer(ctx context.Context, tx *sql.Tx, customerID string, now int64) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO customers (customer_id, created_at, updated_at) VALUES ($1, $2, $2)
		ON CONFLICT (customer_id) DO UPDATE SET updated_at = customers.updated_at`, customerID, now)
	return err
}

// writeRefs upserts the refs of merged that differ from known, in one statement.
func (s *Store) writeRefs(ctx context.Context, tx *sql.Tx, customerID string, merged, known model.VendorRefs, now int64) error {
	var values []string
	var args []any
	for _, v := range slices.Sorted(maps.Keys(merged)) {
		keys := merged[v]
		for _, key := range slices.Sorted(maps.Keys(keys)) {
			if value := keys[key]; string(known[v][key]) != string(value) {
				values = append(values, s.placeholders(len(args), 5))
				args = append(args, customerID, string(v), key, string(value), now)
			}
		}
	}
	if len(values) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO customer_refs (customer_id, vendor, ref_key, value, updated_at) VALUES `+strings.Join(values, ", ")+`
		ON CONFLICT (customer_id, vendor, ref_key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, args...)
	return err
}

// Refs answers the refs known for a customer, and false when none are.
func (s *Store) Refs(ctx context.Context, customerID string) (model.VendorRefs, bool, error) {
	refs, err := readRefs(ctx, s.r, customerID)
	if err != nil {
		return nil, false, fmt.Errorf("store: read vendor refs: %w", err)
	}
	return refs, len(refs) > 0, nil
}

func readRefs(ctx context.Context, q queryer, customerID string) (model.VendorRefs, error) {
	rows, err := q.QueryContext(ctx, `SELECT vendor, ref_key, value FROM customer_refs WHERE customer_id = $1`, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var refs model.VendorRefs
	for rows.Next() {
		var v, key, value string
		if err := rows.Scan(&v, &key, &value); err != nil {
			return nil, err
		}
		refs = addRef(refs, v, key, value)
	}
	return refs, rows.Err()
}

// addRef lays a stored ref row into refs, made when nil.
func addRef(refs model.VendorRefs, vendor, key, value string) model.VendorRefs {
	if refs == nil {
		refs = model.VendorRefs{}
	}
	if refs[model.Vendor(vendor)] == nil {
		refs[model.Vendor(vendor)] = model.Refs{}
	}
	refs[model.Vendor(vendor)][key] = json.RawMessage(value)
	return refs
}
