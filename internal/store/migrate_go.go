package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/pressly/goose/v3"

	"github.com/customergateway/gateway/internal/model"
)

// goMigrations are the migrations written in Go: those whose SQL would differ per engine
// (the JSON aggregates of SQLite and PostgreSQL are not alike). Their versions continue the
// SQL files' numbering.
func goMigrations() []*goose.Migration {
	return []*goose.Migration{
		goose.NewGoMigration(9, &goose.GoFunc{RunTx: deliveredSeqsUp}, &goose.GoFunc{RunTx: deliveredSeqsDown}),
	}
}

// deliveredSeqsUp (00009) moves what each vendor has from a row per leaf (delivered_fields,
// 00003) to a row per customer and vendor: every leaf's sequence in one JSON object, and
// the newest for the retention purge. An update then writes a row per vendor, not per
// vendor and leaf. The old rows are read into memory, grouped: a row is about a hundred
// bytes, so a million of them is a hundred megabytes once, at the upgrade.
func deliveredSeqsUp(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `
		CREATE TABLE delivered_seqs (
			customer_id TEXT NOT NULL,
			vendor      TEXT NOT NULL,
			seqs        TEXT NOT NULL DEFAULT '{}',
			newest      BIGINT NOT NULL DEFAULT 0,
			PRIMARY KEY (customer_id, vendor)
		)`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE INDEX delivered_seqs_by_newest ON delivered_seqs (newest)`); err != nil {
		return err
	}
	type pair struct{ customer, vendor string }
	grouped := map[pair]model.Delivered{}
	err := eachRow(ctx, tx, `SELECT customer_id, vendor, path, seq FROM delivered_fields`, nil, func(rows *sql.Rows) error {
		var p pair
		var path string
		var seq int64
		if err := rows.Scan(&p.customer, &p.vendor, &path, &seq); err != nil {
			return err
		}
		if grouped[p] == nil {
			grouped[p] = model.Delivered{}
		}
		grouped[p][path] = seq
		return nil
	})
	if err != nil {
		return err
	}
	for p, d := range grouped {
		seqs, err := json.Marshal(d)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO delivered_seqs (customer_id, vendor, seqs, newest) VALUES ($1, $2, $3, $4)`,
			p.customer, p.vendor, string(seqs), newest(d)); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `DROP TABLE delivered_fields`)
	return err
}

// deliveredSeqsDown makes delivered_fields (00003, with 00007's index) again from
// delivered_seqs.
func deliveredSeqsDown(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `
		CREATE TABLE delivered_fields (
			customer_id TEXT NOT NULL,
			vendor      TEXT NOT NULL,
			path        TEXT NOT NULL,
			seq         BIGINT NOT NULL,
			PRIMARY KEY (customer_id, vendor, path)
		)`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE INDEX delivered_fields_by_seq ON delivered_fields (seq)`); err != nil {
		return err
	}
	type row struct {
		customer, vendor string
		d                model.Delivered
	}
	var all []row
	err := eachRow(ctx, tx, `SELECT customer_id, vendor, seqs FROM delivered_seqs`, nil, func(rows *sql.Rows) error {
		var r row
		var seqs string
		if err := rows.Scan(&r.customer, &r.vendor, &seqs); err != nil {
			return err
		}
		var err error
		r.d, err = parseSeqs(seqs)
		all = append(all, r)
		return err
	})
	if err != nil {
		return err
	}
	for _, r := range all {
		for path, seq := range r.d {
			if _, err := tx.ExecContext(ctx, `INSERT INTO delivered_fields (customer_id, vendor, path, seq) VALUES ($1, $2, $3, $4)`,
				r.customer, r.vendor, path, seq); err != nil {
				return err
			}
		}
	}
	_, err = tx.ExecContext(ctx, `DROP TABLE delivered_seqs`)
	return err
}
