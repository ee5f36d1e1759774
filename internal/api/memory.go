package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/adapters/fanout"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/store"
)

// EUIDResolver asks EngageLab for the EUID of a canonical customer id.
type EUIDResolver interface {
	Enabled() bool
	Register(ctx context.Context, userID string) (int64, error)
}

// memory is what the gateway remembers between updates when a store is configured: each
// customer's vendor refs, EngageLab EUIDs it resolved, and one audit event per update.
// A nil *memory remembers nothing.
type memory struct {
	store *store.Store
	euids EUIDResolver
}

// recall lays the refs stored for u's customer under the ones the update carries: a ref
// sent now wins, one sent before fills the gap.
func (m *memory) recall(ctx context.Context, u *model.Update) error {
	if m == nil {
		return nil
	}
	stored, ok, err := m.store.Refs(ctx, u.CustomerID)
	if err != nil || !ok {
		return err
	}
	merged := overlayRefs(stored, u.Fields.VendorRefs)
	u.Fields.VendorRefs = &merged
	return nil
}

// overlayRefs is base with every non-empty ref of top in its place (the store's own rule).
func overlayRefs(base model.VendorRefs, top *model.VendorRefs) model.VendorRefs {
	out := copyRefs(base)
	if top == nil {
		return out
	}
	if t := top.HappyTalk; t != nil {
		if out.HappyTalk == nil {
			out.HappyTalk = &model.HappyTalkRef{}
		}
		for dst, src := range map[*string]string{&out.HappyTalk.UUID: t.UUID, &out.HappyTalk.RoomID: t.RoomID, &out.HappyTalk.UsersID: t.UsersID} {
			if src != "" {
				*dst = src
			}
		}
	}
	if top.LadiFlow != nil && top.LadiFlow.ID != "" {
		out.LadiFlow = &model.LadiFlowRef{ID: top.LadiFlow.ID}
	}
	if top.EngageLab != nil && top.EngageLab.EUID != 0 {
		out.EngageLab = &model.EngageLabRef{EUID: top.EngageLab.EUID}
	}
	return out
}

func copyRefs(r model.VendorRefs) model.VendorRefs {
	out := model.VendorRefs{}
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

// needsEUID reports whether EngageLab is in scope, concerned and missing only its EUID.
func (m *memory) needsEUID(u *model.Update) bool {
	if m == nil || m.euids == nil || !m.euids.Enabled() {
		return false
	}
	if u.Targets != nil && !u.Targeted(model.EngageLab) {
		return false
	}
	if u.Fields.Email == nil && u.Fields.Phone == nil {
		return false
	}
	r := u.Fields.VendorRefs
	return r == nil || r.EngageLab == nil || r.EngageLab.EUID == 0
}

// onlyEUIDMissing reports whether a planning error is nothing but EngageLab lacking its
// EUID (named in "vendors", or the only vendor left), which resolving it can cure.
func onlyEUIDMissing(err error) bool {
	var fe model.FieldErrors
	if !errors.As(err, &fe) || len(fe) == 0 {
		return false
	}
	for _, e := range fe {
		if e.Vendor == model.EngageLab && (e.Field == "vendors" || e.Field == "vendor_refs.engagelab") {
			continue
		}
		if e.Field == "vendor_refs.happytalk" || e.Field == "vendor_refs.ladiflow" || e.Field == "body" {
			continue // "nothing to send" lines for the other vendors
		}
		return false
	}
	return true
}

// resolveEUID asks EngageLab for the customer's EUID (identity user_id = the canonical id)
// and puts it in the update. It runs only after the update planned cleanly but for the
// missing EUID, so a 422 for another reason never calls EngageLab.
func (m *memory) resolveEUID(ctx context.Context, u *model.Update) error {
	euid, err := m.euids.Register(ctx, u.CustomerID)
	if err != nil {
		return fmt.Errorf("resolve EngageLab euid: %w", err)
	}
	refs := model.VendorRefs{}
	if u.Fields.VendorRefs != nil {
		refs = copyRefs(*u.Fields.VendorRefs)
	}
	refs.EngageLab = &model.EngageLabRef{EUID: euid}
	u.Fields.VendorRefs = &refs
	return nil
}

// remember stores the refs this update used and answers the ref paths that changed.
func (m *memory) remember(ctx context.Context, u *model.Update) ([]string, error) {
	if m == nil || u.Fields.VendorRefs == nil {
		return nil, nil
	}
	_, changed, err := m.store.MergeRefs(ctx, u.CustomerID, *u.Fields.VendorRefs)
	return changed, err
}

// record writes the update as a gateway audit event: the names of the fields it carried,
// never their values, each vendor's status and the refs it changed.
func (m *memory) record(ctx context.Context, u *model.Update, res model.UpdateResult, changedRefs []string) {
	if m == nil {
		return
	}
	if changedRefs == nil {
		changedRefs = []string{}
	}
	vendors := map[string]string{}
	for v, r := range res.Results {
		vendors[string(v)] = string(r.Status)
	}
	e := model.AuditEvent{
		Source:     model.SourceGateway,
		OccurredAt: time.Now().UTC(),
		Type:       model.TypeAutomatic,
		Kind:       model.KindCustomerUpdate,
		CustomerID: u.CustomerID,
		Summary:    "customer update: " + string(res.Outcome),
		Result:     string(res.Outcome),
		Details: map[string]any{
			"fields":       fieldNames(u.Fields),
			"vendors":      vendors,
			"refs_changed": changedRefs,
			"request_id":   requestIDFrom(ctx),
		},
	}
	if err := m.store.RecordEvent(ctx, e); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("record audit event")
	}
}

// fieldNames lists the top-level canonical fields an update carried.
func fieldNames(f model.CustomerUpdate) []string {
	b, err := json.Marshal(f)
	if err != nil {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// plan plans u, resolving a missing EngageLab EUID when that is all that stands
// in the way (never on a dry run: a dry run sends nothing).
func (m *memory) plan(ctx context.Context, f *fanout.Fanout, u *model.Update, dry bool) (fanout.Plans, error) {
	plans, err := f.Plan(u)
	if dry || !m.needsEUID(u) {
		return plans, err
	}
	if err != nil && !onlyEUIDMissing(err) {
		return plans, err
	}
	if err == nil && !engageLabSkippedForKeys(plans) {
		return plans, nil
	}
	if rerr := m.resolveEUID(ctx, u); rerr != nil {
		zerolog.Ctx(ctx).Warn().Err(rerr).Msg("EngageLab euid not resolved")
		return plans, err
	}
	return f.Plan(u)
}

func engageLabSkippedForKeys(plans fanout.Plans) bool {
	for _, p := range plans {
		if p.Vendor == model.EngageLab && p.Skip == model.SkipNoKeys {
			return true
		}
	}
	return false
}
