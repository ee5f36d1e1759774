package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// The ref paths MergeRefs reports as changed: the JSON paths of the canonical body.
const (
	PathHappyTalkUUID    = "vendor_refs.happytalk.uuid"
	PathHappyTalkRoomID  = "vendor_refs.happytalk.room_id"
	PathHappyTalkUsersID = "vendor_refs.happytalk.users_id"
	PathLadiFlowID       = "vendor_refs.ladiflow.id"
	PathEngageLabEUID    = "vendor_refs.engagelab.euid"
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

// merge lays given over r and reports the paths whose value changed. A field given empty
// (or a zero EUID) is not given: the model cannot tell the two apart, so a ref is never
// cleared, only replaced.
func (r *refRow) merge(given model.VendorRefs) []string {
	var changed []string
	setString := func(dst *sql.NullString, v, path string) {
		if v != "" && (!dst.Valid || dst.String != v) {
			*dst = sql.NullString{String: v, Valid: true}
			changed = append(changed, path)
		}
	}
	if h := given.HappyTalk; h != nil {
		setString(&r.htUUID, h.UUID, PathHappyTalkUUID)
		setString(&r.htRoomID, h.RoomID, PathHappyTalkRoomID)
		setString(&r.htUsersID, h.UsersID, PathHappyTalkUsersID)
	}
	if l := given.LadiFlow; l != nil {
		setString(&r.lfID, l.ID, PathLadiFlowID)
	}
	if e := given.EngageLab; e != nil && e.EUID != 0 && (!r.elEUID.Valid || r.elEUID.Int64 != e.EUID) {
		r.elEUID = sql.NullInt64{Int64: e.EUID, Valid: true}
		changed = append(changed, PathEngageLabEUID)
	}
	return changed
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
