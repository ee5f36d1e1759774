package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// IdempotencyTTL is how long a reply is kept for its Idempotency-Key.
const IdempotencyTTL = 24 * time.Hour

// ErrInFlight is BeginIdempotent's answer while the first request with the key is in
// flight (model.ErrInFlight).
var ErrInFlight = model.ErrInFlight

// ErrNotClaimed is FinishIdempotent's answer when no in-flight request holds the key.
var ErrNotClaimed = errors.New("store: no in-flight request holds this Idempotency-Key")

// idemRow is an idempotency_keys row.
type idemRow struct {
	hash      string
	status    sql.NullInt64
	body      []byte
	createdAt int64
	claimedAt int64
}

// BeginIdempotent claims key for a request whose body hashes to bodyHash, at now.
//
//   - A new key, or one whose first use is IdempotencyTTL or more ago: the caller now holds
//     it (nil, false, nil), handles the request and calls FinishIdempotent, or
//     ReleaseIdempotent when it gives no reply worth keeping.
//   - The same key and hash, answered within IdempotencyTTL: the stored reply, to send again.
//   - The same key and another hash: conflict (422), in flight or answered.
//   - The same key and hash, still in flight: ErrInFlight. A claim older than the in-flight
//     lease is taken to be abandoned (its process died) and is handed to this request.
func (s *Store) BeginIdempotent(ctx context.Context, key string, bodyHash [32]byte, now time.Time) (*model.IdempotentReply, bool, error) {
	hash := hex.EncodeToString(bodyHash[:])
	// Each pass either decides or lost a race to a concurrent request that changed the row;
	// a request that keeps losing is beside a busy twin, which is what ErrInFlight says.
	for range 3 {
		reply, conflict, done, err := s.tryClaim(ctx, key, hash, now)
		if errors.Is(err, ErrInFlight) {
			return nil, false, err
		}
		if err != nil {
			return nil, false, fmt.Errorf("store: idempotency key: %w", err)
		}
		if done {
			return reply, conflict, nil
		}
	}
	return nil, false, ErrInFlight
}

func (s *Store) tryClaim(ctx context.Context, key, hash string, now time.Time) (reply *model.IdempotentReply, conflict, done bool, err error) {
	at := nanos(now)
	res, err := s.w.ExecContext(ctx, `
		INSERT INTO idempotency_keys (idem_key, body_hash, created_at, claimed_at) VALUES ($1, $2, $3, $3)
		ON CONFLICT (idem_key) DO NOTHING`, key, hash, at)
	if claimed, err := affectedOne(res, err); err != nil || claimed {
		return nil, false, claimed, err
	}
	row, found, err := s.readKey(ctx, key)
	if err != nil || !found {
		return nil, false, false, err
	}
	switch {
	case now.Sub(fromNanos(row.createdAt)) >= IdempotencyTTL:
		res, err := s.w.ExecContext(ctx, `
			UPDATE idempotency_keys SET body_hash = $2, status = NULL, reply = NULL, created_at = $3, claimed_at = $3
			WHERE idem_key = $1 AND created_at = $4`, key, hash, at, row.createdAt)
		claimed, err := affectedOne(res, err)
		return nil, false, claimed, err
	case row.hash != hash:
		return nil, true, true, nil
	case row.status.Valid:
		return row.toReply(), false, true, nil
	case now.Sub(fromNanos(row.claimedAt)) >= s.lease:
		res, err := s.w.ExecContext(ctx, `
			UPDATE idempotency_keys SET claimed_at = $2
			WHERE idem_key = $1 AND claimed_at = $3 AND status IS NULL`, key, at, row.claimedAt)
		claimed, err := affectedOne(res, err)
		return nil, false, claimed, err
	}
	return nil, false, true, ErrInFlight
}

func (s *Store) readKey(ctx context.Context, key string) (idemRow, bool, error) {
	var row idemRow
	err := s.w.QueryRowContext(ctx, `
		SELECT body_hash, status, reply, created_at, claimed_at FROM idempotency_keys WHERE idem_key = $1`, key).
		Scan(&row.hash, &row.status, &row.body, &row.createdAt, &row.claimedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return row, false, nil
	}
	return row, err == nil, err
}

func (r idemRow) toReply() *model.IdempotentReply {
	out := &model.IdempotentReply{Status: int(r.status.Int64), Body: r.body, CreatedAt: fromNanos(r.createdAt)}
	_, _ = hex.Decode(out.BodyHash[:], []byte(r.hash))
	return out
}

// affectedOne reports whether the statement changed exactly one row.
func affectedOne(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// FinishIdempotent stores the reply to the request that claimed key at claimedAt (the time
// it gave BeginIdempotent), for its repeats. A claim another request has since taken over
// is not this request's to finish: ErrNotClaimed.
func (s *Store) FinishIdempotent(ctx context.Context, key string, claimedAt time.Time, status int, body []byte) error {
	if body == nil {
		body = []byte{}
	}
	res, err := s.w.ExecContext(ctx, `
		UPDATE idempotency_keys SET status = $2, reply = $3 WHERE idem_key = $1 AND status IS NULL AND claimed_at = $4`,
		key, status, body, nanos(claimedAt))
	ok, err := affectedOne(res, err)
	if err != nil {
		return fmt.Errorf("store: finish idempotency key: %w", err)
	}
	if !ok {
		return ErrNotClaimed
	}
	return nil
}

// ReleaseIdempotent gives up the in-flight claim made at claimedAt without a reply (the
// request failed inside the gateway or was cancelled), so that a retry with the key is
// handled afresh. A claim another request has since taken over stays.
func (s *Store) ReleaseIdempotent(ctx context.Context, key string, claimedAt time.Time) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE idem_key = $1 AND status IS NULL AND claimed_at = $2`, key, nanos(claimedAt)); err != nil {
		return fmt.Errorf("store: release idempotency key: %w", err)
	}
	return nil
}

// PurgeIdempotent deletes the keys first used IdempotencyTTL or more before now, and reports
// how many it deleted. Expired keys are ignored anyway; this only keeps the table small.
func (s *Store) PurgeIdempotent(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at <= $1`, nanos(now.Add(-IdempotencyTTL)))
	if err != nil {
		return 0, fmt.Errorf("store: purge idempotency keys: %w", err)
	}
	return res.RowsAffected()
}
