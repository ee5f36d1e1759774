package model

// The paths of the vendor refs, as the canonical body spells them; the audit trail reports
// changed refs by these.
const (
	PathHappyTalkUUID    = "vendor_refs.happytalk.uuid"
	PathHappyTalkRoomID  = "vendor_refs.happytalk.room_id"
	PathHappyTalkUsersID = "vendor_refs.happytalk.users_id"
	PathLadiFlowID       = "vendor_refs.ladiflow.id"
	PathEngageLabEUID    = "vendor_refs.engagelab.euid"
)

// Clone is a deep copy of r.
func (r VendorRefs) Clone() VendorRefs {
	var out VendorRefs
	if r.HappyTalk != nil {
		h := *r.HappyTalk
		out.HappyTalk = &h
	}
	if r.LadiFlow != nil {
		l := *r.LadiFlow
		out.LadiFlow = &l
	}
	if r.EngageLab != nil {
		e := *r.EngageLab
		out.EngageLab = &e
	}
	return out
}

// Merge lays given over r and answers the result (a copy) and the paths whose value
// changed, in a fixed order. A ref given non-empty replaces the one known; an empty one (or
// a zero EUID) counts as not given, since the canonical body cannot tell the two apart: a
// ref is replaced, never cleared.
func (r VendorRefs) Merge(given *VendorRefs) (VendorRefs, []string) {
	out := r.Clone()
	if given == nil {
		return out, nil
	}
	var changed []string
	set := func(dst *string, v, path string) {
		if v != "" && *dst != v {
			*dst = v
			changed = append(changed, path)
		}
	}
	if h := given.HappyTalk; h != nil {
		if out.HappyTalk == nil {
			out.HappyTalk = &HappyTalkRef{}
		}
		set(&out.HappyTalk.UUID, h.UUID, PathHappyTalkUUID)
		set(&out.HappyTalk.RoomID, h.RoomID, PathHappyTalkRoomID)
		set(&out.HappyTalk.UsersID, h.UsersID, PathHappyTalkUsersID)
		if *out.HappyTalk == (HappyTalkRef{}) {
			out.HappyTalk = nil
		}
	}
	if l := given.LadiFlow; l != nil && l.ID != "" {
		if out.LadiFlow == nil {
			out.LadiFlow = &LadiFlowRef{}
		}
		set(&out.LadiFlow.ID, l.ID, PathLadiFlowID)
	}
	if e := given.EngageLab; e != nil && e.EUID != 0 && (out.EngageLab == nil || out.EngageLab.EUID != e.EUID) {
		out.EngageLab = &EngageLabRef{EUID: e.EUID}
		changed = append(changed, PathEngageLabEUID)
	}
	return out, changed
}
