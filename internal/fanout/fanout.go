// Package fanout delivers one canonical update to every vendor concurrently. A vendor call
// is a vendors.Call; retry, circuit breaking, timeouts, metrics and recovery are wrappers
// around it (policy.go), composed once per vendor when the fan-out is built.
package fanout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/timeout"
	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

// Fanout holds the vendors, each with its call wrapped in its own policies; build it once
// at start-up.
type Fanout struct {
	vendors []*vendor
	byName  map[model.Vendor]*vendor
}

type vendor struct {
	plugin  vendors.Vendor
	call    vendors.Call
	breaker func() BreakerState
}

// New builds a fan-out over vs, in the order results are reported, each vendor's call
// wrapped in its own copy of p. observe may be nil.
func New(p Policy, observe Observer, vs ...vendors.Vendor) *Fanout {
	f := &Fanout{byName: map[model.Vendor]*vendor{}}
	for _, v := range vs {
		w := &vendor{plugin: v}
		w.call, w.breaker = p.wrap(v, v.Send, observe)
		f.vendors = append(f.vendors, w)
		f.byName[v.Name()] = w
	}
	return f
}

// Enabled lists the vendors whose credentials are configured.
func (f *Fanout) Enabled() []model.Vendor {
	var vs []model.Vendor
	for _, v := range f.vendors {
		if v.plugin.Enabled() {
			vs = append(vs, v.plugin.Name())
		}
	}
	return vs
}

// Vendors lists every vendor's plug-in, in the fan-out's order.
func (f *Fanout) Vendors() []vendors.Vendor {
	out := make([]vendors.Vendor, len(f.vendors))
	for i, v := range f.vendors {
		out[i] = v.plugin
	}
	return out
}

// Call is vendor name's call with every policy around it, for calls other than a planned
// delivery (resolving keys); nil when no such vendor is registered.
func (f *Fanout) Call(name model.Vendor) vendors.Call {
	if v, ok := f.byName[name]; ok {
		return v.call
	}
	return nil
}

// BreakerStates is where each vendor's circuit breaker stands now, for metrics.
func (f *Fanout) BreakerStates() map[model.Vendor]BreakerState {
	out := make(map[model.Vendor]BreakerState, len(f.vendors))
	for _, v := range f.vendors {
		out[v.plugin.Name()] = v.breaker()
	}
	return out
}

// Plans is every vendor's plan for one update, in the fan-out's vendor order.
type Plans []model.Plan

// Refusal is an update that cannot be delivered as asked (422, nothing sent): the field
// errors to answer, and what caused them, so a caller can tell a refused value from
// missing keys without reading messages. It unwraps to its model.FieldErrors.
type Refusal struct {
	Errors model.FieldErrors
	// Refused is true when a vendor refused a value (a limit, a missing contact): no key
	// can cure that.
	Refused bool
	// NoKeys are the vendors named in "vendors" whose keys are unknown.
	NoKeys []model.Vendor
}

func (r *Refusal) Error() string { return r.Errors.Error() }

// Unwrap is the field errors, so errors.As finds model.FieldErrors (a 422).
func (r *Refusal) Unwrap() error { return r.Errors }

// Plan translates u for every vendor in scope. It returns a *Refusal (422, nothing sent)
// when a vendor would cut a value, when a vendor named in "vendors" cannot be reached, or
// when nothing is left to send to anyone.
func (f *Fanout) Plan(u *model.Update) (Plans, error) {
	plans := make(Plans, 0, len(f.vendors))
	refusal := &Refusal{}
	for _, v := range f.vendors {
		name := v.plugin.Name()
		if u.Targets != nil && !u.Targeted(name) {
			plans = append(plans, model.Plan{Vendor: name, Skip: model.SkipNothingToSend, Reason: "not named in vendors"})
			continue
		}
		p, err := v.plugin.Plan(u)
		if err != nil {
			var fe model.FieldErrors
			if !errors.As(err, &fe) {
				return nil, fmt.Errorf("%s: plan: %w", name, err)
			}
			refusal.Errors = append(refusal.Errors, fe...)
			refusal.Refused = true
			continue
		}
		p.Vendor = name
		if p.Skip == model.SkipNoKeys && u.Targeted(name) {
			refusal.Errors = append(refusal.Errors, model.FieldError{Field: "vendors", Vendor: name, Message: p.Reason})
			refusal.NoKeys = append(refusal.NoKeys, name)
		}
		plans = append(plans, p)
	}
	if len(refusal.Errors) > 0 {
		// One order whatever the vendors' order: by field.
		slices.SortStableFunc(refusal.Errors, func(a, b model.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return nil, refusal
	}
	if !plans.anyRequest() {
		return nil, &Refusal{Errors: nothingToSend(plans)}
	}
	return plans, nil
}

func (ps Plans) anyRequest() bool {
	for _, p := range ps {
		if p.Request != nil {
			return true
		}
	}
	return false
}

// nothingToSend explains, vendor by vendor, why no vendor would get anything.
func nothingToSend(ps Plans) model.FieldErrors {
	errs := make(model.FieldErrors, 0, len(ps))
	for _, p := range ps {
		field := "body"
		if p.Skip == model.SkipNoKeys {
			field = "vendor_refs." + string(p.Vendor)
		}
		errs = append(errs, model.FieldError{Field: field, Vendor: p.Vendor, Message: "nothing to send: " + p.Reason})
	}
	return errs
}

// DryRun answers what Deliver would send, credentials masked, sending nothing.
func (f *Fanout) DryRun(u *model.Update, plans Plans) model.UpdateResult {
	res := newResult(u, len(plans))
	for i, p := range plans {
		if p.Request == nil {
			res.Results[p.Vendor] = skipped(p)
			continue
		}
		view := f.vendors[i].plugin.View(p.Request)
		res.Results[p.Vendor] = model.VendorResult{Status: model.StatusDryRun, Warnings: warnings(p), Request: &view}
	}
	res.Outcome = model.OutcomeDryRun
	return res
}

// Deliver sends every planned request concurrently and waits for all of them or for ctx,
// whichever comes first. A vendor that has not answered by then is failed; a panic in one
// vendor's call is that vendor's failure alone.
func (f *Fanout) Deliver(ctx context.Context, u *model.Update, plans Plans) model.UpdateResult {
	res := newResult(u, len(plans))
	type done struct {
		vendor model.Vendor
		result model.VendorResult
	}
	ch := make(chan done, len(plans))
	pending := map[model.Vendor]model.Plan{}
	for i, p := range plans {
		if p.Request == nil {
			res.Results[p.Vendor] = skipped(p)
			continue
		}
		pending[p.Vendor] = p
		v := f.vendors[i]
		goCall(func() { ch <- done{p.Vendor, f.send(ctx, v, p)} })
	}
	for len(pending) > 0 {
		select {
		case d := <-ch:
			res.Results[d.vendor] = d.result
			delete(pending, d.vendor)
		case <-ctx.Done():
			for name, p := range pending {
				res.Results[name] = model.VendorResult{Status: model.StatusFailed, Warnings: warnings(p), Reason: "no answer before the request deadline"}
			}
			pending = nil
		}
	}
	res.Outcome = model.Summarize(res.Results)
	return res
}

// send makes one vendor's planned call through its policies and logs how it went.
func (f *Fanout) send(ctx context.Context, v *vendor, p model.Plan) model.VendorResult {
	start := time.Now()
	actx, attempts := withAttempts(ctx)
	_, err := v.call(actx, p.Request)
	r := classify(v.plugin.DisplayName(), err)
	if err == nil {
		now := time.Now().UTC() // when the vendor accepted it: GET /updates's delivered_at
		r.DeliveredAt = &now
	}
	r.Warnings = warnings(p)
	if errors.Is(err, circuitbreaker.ErrOpen) && attempts.Load() > 0 {
		// The breaker opened between this update's own retries: say so, not "not called".
		r.Reason = fmt.Sprintf("%s failed and its circuit breaker opened before the next retry", v.plugin.DisplayName())
	}
	ms := time.Since(start).Milliseconds()
	r.DurationMS, r.Attempts = &ms, int(attempts.Load())
	logDelivery(zerolog.Ctx(ctx), p.Vendor, r, err)
	return r
}

// logDelivery writes one vendor delivery's line: its status, attempts and duration and, when
// it did not succeed, the vendor's code and message, the gateway's reason and the error
// itself (a transport error names the host: the logs are where that belongs). Never a field
// value: the request's body is not logged.
func logDelivery(log *zerolog.Logger, v model.Vendor, r model.VendorResult, err error) {
	ev := log.Info()
	if r.Status != model.StatusOK {
		ev = log.Warn()
	}
	ev = ev.Str("vendor", string(v)).Str("status", string(r.Status)).Int("attempts", r.Attempts)
	if r.DurationMS != nil {
		ev = ev.Int64("duration_ms", *r.DurationMS)
	}
	if r.Error != nil {
		ev = ev.Int("vendor_code", r.Error.Code).Str("vendor_message", r.Error.Message)
	}
	if r.Reason != "" {
		ev = ev.Str("reason", r.Reason)
	}
	ev.AnErr("error", err).Msg("vendor delivery")
}

// statusOf is the status a call's error ends a delivery with.
func statusOf(err error) model.Status {
	return classify("", err).Status
}

// classify turns the last error of a call to the vendor named display into its result.
func classify(display string, err error) model.VendorResult {
	r := model.VendorResult{Status: model.StatusOK}
	if err == nil {
		return r
	}
	var ve *model.VendorError
	switch {
	case errors.As(err, &ve) && !ve.Retryable:
		r.Status, r.Error = model.StatusRejected, ve
	case errors.As(err, &ve):
		r.Status, r.Error = model.StatusFailed, ve
	case errors.Is(err, errPanic):
		r.Status, r.Reason = model.StatusFailed, errPanic.Error()
	case errors.Is(err, circuitbreaker.ErrOpen):
		r.Status, r.Reason = model.StatusFailed, fmt.Sprintf("%s circuit breaker is open after repeated failures; not called", display)
	case errors.Is(err, timeout.ErrExceeded), errors.Is(err, context.DeadlineExceeded):
		r.Status, r.Reason = model.StatusFailed, fmt.Sprintf("%s did not answer in time", display)
	default:
		r.Status, r.Reason = model.StatusFailed, fmt.Sprintf("%s could not be reached: %s", display, vendorhttp.Reason(err))
	}
	return r
}

func newResult(u *model.Update, n int) model.UpdateResult {
	return model.UpdateResult{CustomerID: u.CustomerID, Results: make(map[model.Vendor]model.VendorResult, n)}
}

// skipped keeps the plan's warnings: a vendor skipped because every field it was sent was
// one it cannot hold should still say which fields those were.
func skipped(p model.Plan) model.VendorResult {
	return model.VendorResult{Status: model.StatusSkipped, Warnings: warnings(p), Reason: p.Reason}
}

func warnings(p model.Plan) []string {
	if p.Warnings == nil {
		return []string{}
	}
	return p.Warnings
}
