package delivery

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/fanout"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

// plan plans u, resolving missing vendor keys when that is all that stands in the way
// (never on a dry run: a dry run sends nothing).
func (s *Service) plan(ctx context.Context, u *model.Update, dry bool, sent *sent) (fanout.Plans, error) {
	plans, err := s.fanout.Plan(u)
	if dry || s.store == nil {
		return plans, err
	}
	missing := s.resolvable(u)
	if len(missing) == 0 || !onlyKeysMissing(err, missing) {
		return plans, err
	}
	for _, v := range missing {
		if rerr := s.resolveKeys(ctx, v, u, sent); rerr != nil {
			if err != nil {
				return nil, rerr // the vendor was named, or no other had anything: its failure decides
			}
			// Not named: the others go ahead and this vendor stays skipped.
			zerolog.Ctx(ctx).Warn().Err(rerr).Str("vendor", string(v.Name())).Msg("vendor keys not resolved")
		}
	}
	return s.fanout.Plan(u)
}

// resolvable lists the vendors in u's scope that can resolve keys u lacks.
func (s *Service) resolvable(u *model.Update) []vendors.Vendor {
	var out []vendors.Vendor
	for _, v := range s.fanout.Vendors() {
		r, ok := v.(vendors.KeyResolver)
		if ok && (u.Targets == nil || u.Targeted(v.Name())) && r.NeedsKeys(u) {
			out = append(out, v)
		}
	}
	return out
}

// onlyKeysMissing reports whether a planning error is nothing but missing's keys being
// unknown (and, then, nothing left to send), which resolving them can cure.
func onlyKeysMissing(err error, missing []vendors.Vendor) bool {
	if err == nil {
		return true
	}
	var refusal *fanout.Refusal
	if !errors.As(err, &refusal) || refusal.Refused {
		return false
	}
	for _, v := range refusal.NoKeys {
		if !slices.ContainsFunc(missing, func(m vendors.Vendor) bool { return m.Name() == v }) {
			return false
		}
	}
	return true
}

// resolveKeys asks vendor v for the customer's keys and lays them in u and in what is to
// be stored. When the vendor fails retryably and the queue can wait for it, the update is
// planned with the vendor's placeholder keys and its delivery queued (sent.deferred); the
// queue's worker resolves the real keys first. Any other failure is answered.
func (s *Service) resolveKeys(ctx context.Context, v vendors.Vendor, u *model.Update, sent *sent) error {
	r := v.(vendors.KeyResolver)
	keys, err := r.ResolveKeys(ctx, s.fanout.Call(v.Name()), u.CustomerID)
	if err == nil {
		sent.refs = withKeys(sent.refs, v.Name(), keys)
		u.Fields.VendorRefs = withKeys(u.Fields.VendorRefs, v.Name(), keys)
		return nil
	}
	if s.canQueue() && model.IsRetryable(err) {
		if sent.deferred == nil {
			sent.deferred = map[model.Vendor]error{}
		}
		sent.deferred[v.Name()] = err
		u.Fields.VendorRefs = withKeys(u.Fields.VendorRefs, v.Name(), r.PlaceholderKeys())
		return nil
	}
	return unresolved(v, r, err)
}

// withKeys is a copy of refs with keys laid over vendor v's (refs may be shared with what
// is stored).
func withKeys(refs model.VendorRefs, v model.Vendor, keys model.Refs) model.VendorRefs {
	merged, _ := refs.Merge(model.VendorRefs{v: keys})
	return merged
}

// unresolved is a vendor failing to give the keys the update needs: the vendor's fault, not
// the caller's, so a 502 that releases an Idempotency-Key and lets a retry ask again.
func unresolved(v vendors.Vendor, r vendors.KeyResolver, err error) error {
	keys := slices.Sorted(maps.Keys(r.PlaceholderKeys()))
	fields := make(model.FieldErrors, 0, len(keys))
	for _, k := range keys {
		fields = append(fields, model.FieldError{Field: model.RefPath(v.Name(), k), Vendor: v.Name(),
			Message: v.DisplayName() + "'s call to resolve it failed; nothing was delivered"})
	}
	return &model.Error{
		Code:   model.EUnavailable,
		Title:  fmt.Sprintf("%s could not resolve the customer's %s", v.DisplayName(), strings.Join(keys, ", ")),
		Detail: resolveFailure(v, keys, err),
		Fields: fields,
		Err:    err,
	}
}

// resolveFailure says which keys of which vendor could not be resolved, and why.
func resolveFailure(v vendors.Vendor, keys []string, err error) string {
	return fmt.Sprintf("resolve %s %s: %s", v.DisplayName(), strings.Join(keys, ", "), vendorhttp.Describe(err))
}
