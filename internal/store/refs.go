package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// The ref paths MergeRefs reports as changed: the model's (the canonical body's JSON paths).
const (
	PathHappyTalkUUID    = model.PathHappyTalkUUID
	PathHappyTalkRoomID  = model.PathHappyTalkRoomID
	PathHappyTalkUsersID = model.PathHappyTalkUsersID
	PathLadiFlowID       = model.PathLadiFlowID
	PathEngageLabEUID    = model.PathEngageLabEUID
)

const refColumns = "happytalk_uuid, happytalk_room_id, happytalk_users_id, ladiflow_id, engagelab_euid"

// refRow is a vendor_refs row: NULL is a ref never given.
type refRow struct {
	htUUID, htRoomID, htUsersID, lfID sql.NullString
	elEUID                            sql.NullInt64
}

func (r *refRow) dests() []any {
	return []any{&r.htUUID, &r.htRoomID, &r.htUsersID, &r.lfID, &r.elEUID}
}

// merge lays given over r by the model's rule (model.VendorRefs.Merge) and reports the
// paths whose value changed.
func (r *refRow) merge(given model.VendorRefs) []string {
	merged, changed := r.refs().Merge(&given)
	r.set(merged)
	return changed
}

// set stores refs in the row's columns: an empty ref is NULL.
func (r *refRow) set(refs model.VendorRefs) {
	str := func(v string) sql.NullString { return sql.NullString{String: v, Valid: v != ""} }
	var ht model.HappyTalkRef
	if refs.HappyTalk != nil {
		ht = *refs.HappyTalk
	}
	r.htUUID, r.htRoomID, r.htUsersID = str(ht.UUID), str(ht.RoomID), str(ht.UsersID)
	r.lfID = sql.NullString{}
	if refs.LadiFlow != nil {
		r.lfID = str(refs.LadiFlow.ID)
	}
	r.elEUID = sql.NullInt64{}
	if refs.EngageLab != nil && refs.EngageLab.EUID != 0 {
		r.elEUID = sql.NullInt64{Int64: refs.EngageLab.EUID, Valid: true}
	}
}

// refs is the row as the model holds it: a vendor with no ref known is nil.
func (r *refRow) refs() model.VendorRefs {
	var out model.VendorRefs
	if r.htUUID.Valid || r.htRoomID.Valid || r.htUsersID.Valid {
		out.HappyTalk = &model.HappyTalkRef{UUID: r.htUUID.String, RoomID: r.htRoomID.String, UsersID: r.htUsersID.String}
	}
	if r.lfID.Valid {
		out.LadiFlow = &model.LadiFlowRef{ID: r.lfID.String}
	}
	if r.elEUID.Valid {
		out.EngageLab = &model.EngageLabRef{EUID: r.elEUID.Int64}
	}
	return out
}

// MergeRefs stores the refs given for a customer over those already known: a field given
// replaces the stored one, an absent field keeps it. It answers the merged refs and the
// paths that changed (PathHappyTalkUUID, ...), in a fixed order, for the audit trail; a
// resolved EngageLab EUID is stored the same way.
//
// Concurrent merges for one customer are serialised by the row lock the first statement
// takes, so none is lost on either engine.
func (s *Store) MergeRefs(ctx context.Context, customerID string, refs model.VendorRefs) (model.VendorRefs, []string, error) {
	var probe refRow
	if len(probe.merge(refs)) == 0 {
		merged, _, err := s.Refs(ctx, customerID)
		return merged, nil, err
	}
	var row refRow
	var changed []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := nanos(time.Now())
		// The no-op upsert creates the row or locks the existing one and reads it, in one
		// statement both engines run alike.
		err := tx.QueryRowContext(ctx, `
			INSERT INTO vendor_refs (customer_id, created_at, updated_at) VALUES ($1, $2, $2)
			ON CONFLICT (customer_id) DO UPDATE SET updated_at = vendor_refs.updated_at
			RETURNING `+refColumns, customerID, now).Scan(row.dests()...)
		if err != nil {
			return err
		}
		changed = row.merge(refs)
		if len(changed) == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE vendor_refs SET happytalk_uuid = $2, happytalk_room_id = $3, happytalk_users_id = $4,
				ladiflow_id = $5, engagelab_euid = $6, updated_at = $7
			WHERE customer_id = $1`,
			customerID, row.htUUID, row.htRoomID, row.htUsersID, row.lfID, row.elEUID, now)
		return err
	})
	if err != nil {
		return model.VendorRefs{}, nil, fmt.Errorf("store: merge vendor refs: %w", err)
	}
	return row.refs(), changed, nil
}

// Refs answers the refs known for a customer, and false when none are.
func (s *Store) Refs(ctx context.Context, customerID string) (model.VendorRefs, bool, error) {
	var row refRow
	err := s.r.QueryRowContext(ctx, `SELECT `+refColumns+` FROM vendor_refs WHERE customer_id = $1`, customerID).Scan(row.dests()...)
	if errors.Is(err, sql.ErrNoRows) {
		return model.VendorRefs{}, false, nil
	}
	if err != nil {
		return model.VendorRefs{}, false, fmt.Errorf("store: read vendor refs: %w", err)
	}
	return row.refs(), true, nil
}
