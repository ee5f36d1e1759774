// Package fanout delivers one canonical update to every vendor concurrently. Adapters only
// translate and speak the wire format; retry, circuit breaking and timeouts wrap them here.
package fanout

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/timeout"
	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/model"
)

// Observer is told of every finished delivery (metrics hang off it).
type Observer func(v model.Vendor, r model.VendorResult, d time.Duration)

// Fanout holds the vendors and their policies; build it once at start-up.
type Fanout struct {
	vendors []*vendor
	observe Observer
}

type vendor struct {
	adapter  model.Adapter
	executor failsafe.Executor[any]
	breaker  circuitbreaker.CircuitBreaker[any]
}

// New builds a fan-out over adapters, each with its own copy of p. observe may be nil.
func New(p Policy, observe Observer, adapters ...model.Adapter) *Fanout {
	f := &Fanout{observe: observe}
	for _, a := range adapters {
		ex, br := p.executor()
		f.vendors = append(f.vendors, &vendor{adapter: a, executor: ex, breaker: br})
	}
	return f
}

// Enabled lists the vendors whose credentials are configured.
func (f *Fanout) Enabled() []model.Vendor {
	var vs []model.Vendor
	for _, v := range f.vendors {
		if v.adapter.Enabled() {
			vs = append(vs, v.adapter.Vendor())
		}
	}
	return vs
}

// Plans is every vendor's plan for one update, in the fan-out's vendor order.
type Plans []model.Plan

// Plan translates u for every vendor in scope. It returns model.FieldErrors (422, nothing
// sent) when a vendor would cut a value, when a vendor named in "vendors" cannot be
// reached, or when nothing is left to send to anyone.
func (f *Fanout) Plan(u *model.Update) (Plans, error) {
	plans := make(Plans, 0, len(f.vendors))
	var errs model.FieldErrors
	for _, v := range f.vendors {
		name := v.adapter.Vendor()
		if u.Targets != nil && !u.Targeted(name) {
			plans = append(plans, model.Plan{Vendor: name, Skip: model.SkipNothingToSend, Reason: "not named in vendors"})
			continue
		}
		p, err := v.adapter.Plan(u)
		if err != nil {
			var fe model.FieldErrors
			if !errors.As(err, &fe) {
				return nil, fmt.Errorf("%s: plan: %w", name, err)
			}
			errs = append(errs, fe...)
			continue
		}
		p.Vendor = name
		if p.Skip == model.SkipNoKeys && u.Targeted(name) {
			errs = append(errs, model.FieldError{Field: "vendors", Vendor: name, Message: p.Reason})
		}
		plans = append(plans, p)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if !plans.anyRequest() {
		return nil, nothingToSend(plans)
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
		view := f.vendors[i].adapter.View(p.Request)
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
		go func(v *vendor, p model.Plan) {
			ch <- done{p.Vendor, f.send(ctx, v, p)}
		}(f.vendors[i], p)
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

func (f *Fanout) send(ctx context.Context, v *vendor, p model.Plan) (r model.VendorResult) {
	start := time.Now()
	var attempts atomic.Int32
	defer func() {
		if rec := recover(); rec != nil {
			r = model.VendorResult{Status: model.StatusFailed, Warnings: warnings(p), Reason: "internal error in the gateway's adapter"}
			zerolog.Ctx(ctx).Error().Str("vendor", string(p.Vendor)).Interface("panic", rec).Msg("adapter panicked")
		}
		elapsed := time.Since(start)
		ms := elapsed.Milliseconds()
		r.DurationMS = &ms
		r.Attempts = int(attempts.Load())
		if f.observe != nil {
			f.observe(p.Vendor, r, elapsed)
		}
		zerolog.Ctx(ctx).Info().Str("vendor", string(p.Vendor)).Str("status", string(r.Status)).
			Int("attempts", r.Attempts).Int64("duration_ms", ms).Msg("vendor delivery")
	}()
	err := v.executor.WithContext(ctx).RunWithExecution(func(exec failsafe.Execution[any]) error {
		attempts.Add(1)
		return v.adapter.Send(exec.Context(), p.Request)
	})
	r = classify(p, err)
	if errors.Is(err, circuitbreaker.ErrOpen) && attempts.Load() > 0 {
		// The breaker opened between this update's own retries: say so, not "not called".
		r.Reason = fmt.Sprintf("%s failed and its circuit breaker opened before the next retry", p.Vendor.DisplayName())
	}
	return r
}

// classify turns the last error of a delivery into the vendor's result.
func classify(p model.Plan, err error) model.VendorResult {
	r := model.VendorResult{Status: model.StatusOK, Warnings: warnings(p)}
	if err == nil {
		return r
	}
	var ve *model.VendorError
	switch {
	case errors.As(err, &ve) && !ve.Retryable:
		r.Status, r.Error = model.StatusRejected, ve
	case errors.As(err, &ve):
		r.Status, r.Error = model.StatusFailed, ve
	case errors.Is(err, circuitbreaker.ErrOpen):
		r.Status, r.Reason = model.StatusFailed, fmt.Sprintf("%s circuit breaker is open after repeated failures; not called", p.Vendor.DisplayName())
	case errors.Is(err, timeout.ErrExceeded), errors.Is(err, context.DeadlineExceeded):
		r.Status, r.Reason = model.StatusFailed, fmt.Sprintf("%s did not answer in time", p.Vendor.DisplayName())
	default:
		r.Status, r.Reason = model.StatusFailed, fmt.Sprintf("%s could not be reached: %s", p.Vendor.DisplayName(), transportReason(err))
	}
	return r
}

// transportReason keeps the kind of network failure without the URL, which a caller does
// not need and a log should not repeat.
func transportReason(err error) string {
	var ue interface{ Unwrap() error }
	for errors.As(err, &ue) {
		inner := ue.Unwrap()
		if inner == nil {
			break
		}
		err = inner
	}
	return err.Error()
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
