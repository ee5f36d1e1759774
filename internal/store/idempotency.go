package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// IdempotencyTTL is how long a reply is kept for its Idempotency-Key.
const IdempotencyTTL = 24 * time.Hour

// DefaultInFlightLease is how long a claimed Idempotency-Key stays in flight without being
// renewed before another request may take it over. The request that holds the claim renews
// it while it runs (RenewIdempotent, every third of the lease), so the lease bounds how long
// the key of a request whose process died stays blocked, not how long a request may take.
const DefaultInFlightLease = 10 * time.Second

// legacyInFlightLease is how long a claim with no lease of its own holds: one made before
// migration 00005, or by a gateway of an earlier version still running beside this one,
// which never renews and held every claim this long.
const legacyInFlightLease = 5 * time.Minute

// WithInFlightLease sets how long an Idempotency-Key claim holds unless renewed
// (DefaultInFlightLease when not given, or when d is not positive). A longer lease tolerates
// longer stalls of the process holding a claim, and more clock skew between replicas; a
// dead process's keys stay blocked that long.
func WithInFlightLease(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.lease = d
		}
	}
}

// InFlightLease is how long an Idempotency-Key claim holds unless renewed: the holder must
// renew well within it.
func (s *Store) InFlightLease() time.Duration { return s.lease }

// ErrInFlight is BeginIdempotent's answer while the first request with the key is in flight
// (model.ErrInFlight).
var ErrInFlight = model.ErrInFlight

// ErrNotClaimed is the answer of FinishIdempotent and RenewIdempotent when the claim is no
// longer the request's: answered, released, or taken over by another request.
var ErrNotClaimed = errors.New("store: no in-flight request holds this Idempotency-Key")

// ErrBadIdempotencyKey is the answer to a caller or key holding the unit separator (0x1f),
// which joins the two in the stored key.
var ErrBadIdempotencyKey = errors.New("store: an Idempotency-Key or its caller holds the byte 0x1f")

// keySep joins a caller and its Idempotency-Key in the stored key.
const keySep = "\x1f"

// scopedKey is the stored key of caller's key: each caller has keys of its own. The caller
// "" (no authentication) stores the key as it is, as before callers were known.
func scopedKey(caller, key string) (string, error) {
	if strings.Contains(caller, keySep) || strings.Contains(key, keySep) {
		return "", ErrBadIdempotencyKey
	}
	if caller == "" {
		return key, nil
	}
	return caller + keySep + key, nil
}

// idemRow is an idempotency_keys row.
type idemRow struct {
	hash      string
	status    sql.NullInt64
	body      []byte
	createdAt int64
	claimedAt int64
	leaseNs   sql.NullInt64
}

// heldUntil is when the row's in-flight claim ends unless it is renewed.
func (r idemRow) heldUntil() time.Time {
	lease := legacyInFlightLease.Nanoseconds()
	if r.leaseNs.Valid {
		lease = r.leaseNs.Int64
	}
	return fromNanos(r.claimedAt + lease)
}

// expiredClaim is the SQL condition that the row's in-flight claim has ended by $now: the
// same rule as heldUntil, checked again in the UPDATE that takes the claim over, so that a
// renewal committed after the row was read wins.
const expiredClaim = `claimed_at + COALESCE(lease_ns, %d) <= %s`

func expiredAt(now string) string {
	return fmt.Sprintf(expiredClaim, legacyInFlightLease.Nanoseconds(), now)
}

// BeginIdempotent claims caller's key for a request whose body hashes to bodyHash, at now.
//
//   - A new key, or one whose first use is IdempotencyTTL or more ago (and not in flight):
//     the caller now holds it (nil, false, nil) for the in-flight lease, renews it with
//     RenewIdempotent while it handles the request, and calls FinishIdempotent, or
//     ReleaseIdempotent when it gives no reply worth keeping.
//   - The same key and hash, answered within IdempotencyTTL: the stored reply, to send again.
//   - The same key and another hash: conflict (422), in flight or answered.
//   - The same key and hash, still in flight: ErrInFlight. A claim whose lease passed without
//     a renewal is taken to be abandoned (its process died) and is handed to this request; a
//     claim that is being renewed never is.
//
// Keys are the caller's own: another caller's same key is another key.
func (s *Store) BeginIdempotent(ctx context.Context, caller, key string, bodyHash [32]byte, now time.Time) (*model.IdempotentReply, bool, error) {
	stored, err := scopedKey(caller, key)
	if err != nil {
		return nil, false, err
	}
	hash := hex.EncodeToString(bodyHash[:])
	// Each pass either decides or lost a race to a concurrent request that changed the row;
	// a request that keeps losing is beside a busy twin, which is what ErrInFlight says.
	for range 3 {
		reply, conflict, done, err := s.tryClaim(ctx, stored, hash, now)
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
	at, lease := nanos(now), s.lease.Nanoseconds()
	res, err := s.w.ExecContext(ctx, `
		INSERT INTO idempotency_keys (idem_key, body_hash, created_at, claimed_at, lease_ns) VALUES ($1, $2, $3, $3, $4)
		ON CONFLICT (idem_key) DO NOTHING`, key, hash, at, lease)
	if claimed, err := affectedOne(res, err); err != nil || claimed {
		return nil, false, claimed, err
	}
	row, found, err := s.readKey(ctx, key)
	if err != nil || !found {
		return nil, false, false, err
	}
	inFlight := !row.status.Valid && now.Before(row.heldUntil())
	switch {
	case now.Sub(fromNanos(row.createdAt)) >= IdempotencyTTL && !inFlight:
		res, err := s.w.ExecContext(ctx, `
			UPDATE idempotency_keys SET body_hash = $2, status = NULL, reply = NULL, created_at = $3, claimed_at = $3, lease_ns = $4
			WHERE idem_key = $1 AND created_at = $5 AND (status IS NOT NULL OR `+expiredAt("$3")+`)`,
			key, hash, at, lease, row.createdAt)
		claimed, err := affectedOne(res, err)
		return nil, false, claimed, err
	case row.hash != hash:
		return nil, true, true, nil
	case row.status.Valid:
		return row.toReply(), false, true, nil
	case !inFlight:
		// The claim names the request by claimed_at, which a renewal leaves alone: the
		// lease is checked again here, so a renewal that came in since the read wins.
		res, err := s.w.ExecContext(ctx, `
			UPDATE idempotency_keys SET claimed_at = $2, lease_ns = $3
			WHERE idem_key = $1 AND claimed_at = $4 AND status IS NULL AND `+expiredAt("$2"),
			key, at, lease, row.claimedAt)
		claimed, err := affectedOne(res, err)
		return nil, false, claimed, err
	}
	return nil, false, true, ErrInFlight
}

func (s *Store) readKey(ctx context.Context, key string) (idemRow, bool, error) {
	var row idemRow
	err := s.w.QueryRowContext(ctx, `
		SELECT body_hash, status, reply, created_at, claimed_at, lease_ns FROM idempotency_keys WHERE idem_key = $1`, key).
		Scan(&row.hash, &row.status, &row.body, &row.createdAt, &row.claimedAt, &row.leaseNs)
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

// RenewIdempotent extends the in-flight claim that caller's request made on key at claimedAt
// (the time it gave BeginIdempotent) to hold for the in-flight lease from now. It renews
// that claim only: one answered, released or taken over by another request is ErrNotClaimed,
// and the request has lost the key. A claim whose lease passed but that nobody took over
// yet is still the request's, and is renewed. A renewal never shortens a claim.
func (s *Store) RenewIdempotent(ctx context.Context, caller, key string, claimedAt, now time.Time) error {
	stored, err := scopedKey(caller, key)
	if err != nil {
		return err
	}
	c := nanos(claimedAt)
	lease := nanos(now) - c + s.lease.Nanoseconds()
	// A NULL lease (a claim of an earlier version) compares as unknown and stays: only an
	// identical claimed_at could get here with one.
	res, err := s.w.ExecContext(ctx, `
		UPDATE idempotency_keys SET lease_ns = CASE WHEN lease_ns < $3 THEN $3 ELSE lease_ns END
		WHERE idem_key = $1 AND claimed_at = $2 AND status IS NULL`, stored, c, lease)
	ok, err := affectedOne(res, err)
	if err != nil {
		return fmt.Errorf("store: renew idempotency key: %w", err)
	}
	if !ok {
		return ErrNotClaimed
	}
	return nil
}

// FinishIdempotent stores the reply to the request that claimed caller's key at claimedAt
// (the time it gave BeginIdempotent), for its repeats. A claim another request has since
// taken over is not this request's to finish: ErrNotClaimed.
func (s *Store) FinishIdempotent(ctx context.Context, caller, key string, claimedAt time.Time, status int, body []byte) error {
	stored, err := scopedKey(caller, key)
	if err != nil {
		return err
	}
	if body == nil {
		body = []byte{}
	}
	res, err := s.w.ExecContext(ctx, `
		UPDATE idempotency_keys SET status = $2, reply = $3 WHERE idem_key = $1 AND status IS NULL AND claimed_at = $4`,
		stored, status, body, nanos(claimedAt))
	ok, err := affectedOne(res, err)
	if err != nil {
		return fmt.Errorf("store: finish idempotency key: %w", err)
	}
	if !ok {
		return ErrNotClaimed
	}
	return nil
}

// ReleaseIdempotent gives up the in-flight claim on caller's key made at claimedAt without a
// reply (the request failed inside the gateway or was cancelled), so that a retry with the
// key is handled afresh. A claim another request has since taken over stays.
func (s *Store) ReleaseIdempotent(ctx context.Context, caller, key string, claimedAt time.Time) error {
	stored, err := scopedKey(caller, key)
	if err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE idem_key = $1 AND status IS NULL AND claimed_at = $2`, stored, nanos(claimedAt)); err != nil {
		return fmt.Errorf("store: release idempotency key: %w", err)
	}
	return nil
}

// PurgeIdempotent deletes the keys first used IdempotencyTTL or more before now, except a
// claim still held, and reports how many it deleted. Expired keys are ignored anyway; this
// only keeps the table small.
func (s *Store) PurgeIdempotent(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at <= $1 AND (status IS NOT NULL OR `+expiredAt("$2")+`)`,
		nanos(now.Add(-IdempotencyTTL)), nanos(now))
	if err != nil {
		return 0, fmt.Errorf("store: purge idempotency keys: %w", err)
	}
	return res.RowsAffected()
}
