package fanout

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors"
)

// fakeAdapter answers Send with the errors in script, one per call, then nil.
type fakeAdapter struct {
	vendor  model.Vendor
	enabled bool
	plan    model.Plan
	planErr error
	script  []error
	delay   time.Duration
	panics  bool
	calls   atomic.Int32
}

func (a *fakeAdapter) Name() model.Vendor  { return a.vendor }
func (a *fakeAdapter) DisplayName() string { return string(a.vendor) }
func (a *fakeAdapter) Enabled() bool       { return a.enabled }
func (a *fakeAdapter) Plan(*model.Update) (model.Plan, error) {
	return a.plan, a.planErr
}
func (a *fakeAdapter) Send(ctx context.Context, _ *model.Request) ([]byte, error) {
	n := int(a.calls.Add(1))
	if a.panics {
		panic("boom")
	}
	if a.delay > 0 {
		select {
		case <-time.After(a.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if n <= len(a.script) {
		return nil, a.script[n-1]
	}
	return nil, nil
}
func (a *fakeAdapter) View(req *model.Request) model.RequestView {
	return model.RequestView{Method: req.Method, URL: req.URL, Body: "masked"}
}

// Three vendors to fan out to; the fan-out knows them only by these names.
const (
	happyTalk model.Vendor = "happytalk"
	ladiFlow  model.Vendor = "ladiflow"
	engageLab model.Vendor = "engagelab"
)

func sending(v model.Vendor) *fakeAdapter {
	return &fakeAdapter{vendor: v, enabled: true, plan: model.Plan{Request: &model.Request{Method: http.MethodPost, URL: "http://127.0.0.1/" + string(v)}}}
}

func fastPolicy() Policy {
	return Policy{AttemptTimeout: time.Second, Attempts: 3, Backoff: time.Millisecond, BreakerFailures: 100, BreakerCooldown: time.Minute}
}

var (
	retryable = &model.VendorError{Vendor: "EngageLab", Code: -1, Message: "internal", Retryable: true}
	rejection = &model.VendorError{Vendor: "EngageLab", Code: 55004, Message: "bad params"}
)

func TestDeliverStatuses(t *testing.T) {
	tests := []struct {
		name         string
		script       []error
		wantStatus   model.Status
		wantAttempts int
		wantCode     int
	}{
		{"ok first time", nil, model.StatusOK, 1, 0},
		{"retryable then ok", []error{retryable}, model.StatusOK, 2, 0},
		{"transport error then ok", []error{errors.New("connection reset")}, model.StatusOK, 2, 0},
		{"rejection is never retried", []error{rejection}, model.StatusRejected, 1, 55004},
		{"retryable until attempts run out", []error{retryable, retryable, retryable}, model.StatusFailed, 3, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := sending(engageLab)
			a.script = tc.script
			f := New(fastPolicy(), nil, a)
			u := &model.Update{CustomerID: "c-1"}
			plans, err := f.Plan(u)
			if err != nil {
				t.Fatal(err)
			}
			res := f.Deliver(context.Background(), u, plans)
			r := res.Results[engageLab]
			if r.Status != tc.wantStatus || r.Attempts != tc.wantAttempts {
				t.Fatalf("got %s after %d attempts, want %s after %d", r.Status, r.Attempts, tc.wantStatus, tc.wantAttempts)
			}
			if int(a.calls.Load()) != tc.wantAttempts {
				t.Fatalf("adapter called %d times, want %d", a.calls.Load(), tc.wantAttempts)
			}
			if tc.wantCode != 0 && (r.Error == nil || r.Error.Code != tc.wantCode) {
				t.Fatalf("error = %+v, want vendor code %d", r.Error, tc.wantCode)
			}
			if r.DurationMS == nil {
				t.Fatal("duration_ms missing for a vendor that was called")
			}
		})
	}
}

func TestDeliverOutcomeAcrossVendors(t *testing.T) {
	tests := []struct {
		name    string
		scripts map[model.Vendor][]error
		want    model.Outcome
	}{
		{"all ok", nil, model.OutcomeOK},
		{"one rejected", map[model.Vendor][]error{ladiFlow: {rejection}}, model.OutcomePartial},
		{"one failed", map[model.Vendor][]error{happyTalk: {retryable, retryable, retryable}}, model.OutcomePartial},
		{"all rejected or failed", map[model.Vendor][]error{
			happyTalk: {rejection}, ladiFlow: {rejection},
			engageLab: {retryable, retryable, retryable},
		}, model.OutcomeFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var adapters []vendors.Vendor
			for _, v := range []model.Vendor{happyTalk, ladiFlow, engageLab} {
				a := sending(v)
				a.script = tc.scripts[v]
				adapters = append(adapters, a)
			}
			f := New(fastPolicy(), nil, adapters...)
			u := &model.Update{CustomerID: "c-1"}
			plans, err := f.Plan(u)
			if err != nil {
				t.Fatal(err)
			}
			res := f.Deliver(context.Background(), u, plans)
			if res.Outcome != tc.want {
				t.Fatalf("outcome %s, want %s (%+v)", res.Outcome, tc.want, res.Results)
			}
			if len(res.Results) != 3 {
				t.Fatalf("want a result for every vendor, got %d", len(res.Results))
			}
		})
	}
}

// One slow vendor must not hold the others: the slow one fails at its attempt timeout and
// the fast ones are ok.
func TestSlowVendorDoesNotDelayOthers(t *testing.T) {
	slow := sending(happyTalk)
	slow.delay = time.Hour
	fast := sending(ladiFlow)
	p := fastPolicy()
	p.AttemptTimeout, p.Attempts = 50*time.Millisecond, 2
	f := New(p, nil, slow, fast)
	u := &model.Update{CustomerID: "c-1"}
	plans, _ := f.Plan(u)
	res := f.Deliver(context.Background(), u, plans)
	if got := res.Results[ladiFlow].Status; got != model.StatusOK {
		t.Fatalf("fast vendor: %s", got)
	}
	r := res.Results[happyTalk]
	if r.Status != model.StatusFailed || r.Attempts != 2 || r.Reason == "" {
		t.Fatalf("slow vendor: %+v", r)
	}
	if res.Outcome != model.OutcomePartial {
		t.Fatalf("outcome %s", res.Outcome)
	}
}

// The request deadline ends the fan-out even when a vendor's own policy would go on.
func TestRequestDeadlineEndsDelivery(t *testing.T) {
	slow := sending(happyTalk)
	slow.delay = time.Hour
	p := fastPolicy()
	p.AttemptTimeout = time.Hour
	f := New(p, nil, slow)
	u := &model.Update{CustomerID: "c-1"}
	plans, _ := f.Plan(u)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res := f.Deliver(ctx, u, plans)
	if r := res.Results[happyTalk]; r.Status != model.StatusFailed {
		t.Fatalf("got %+v", r)
	}
	if res.Outcome != model.OutcomeFailed {
		t.Fatalf("outcome %s", res.Outcome)
	}
}

func TestBreakerOpensPerVendor(t *testing.T) {
	bad := sending(engageLab)
	bad.script = make([]error, 100)
	for i := range bad.script {
		bad.script[i] = retryable
	}
	good := sending(ladiFlow)
	p := fastPolicy()
	p.Attempts, p.BreakerFailures = 1, 2
	f := New(p, nil, bad, good)
	u := &model.Update{CustomerID: "c-1"}
	plans, _ := f.Plan(u)
	for range 2 {
		f.Deliver(context.Background(), u, plans)
	}
	res := f.Deliver(context.Background(), u, plans)
	r := res.Results[engageLab]
	if r.Status != model.StatusFailed || r.Attempts != 0 || r.Reason == "" {
		t.Fatalf("open breaker should fail without a call: %+v", r)
	}
	if bad.calls.Load() != 2 {
		t.Fatalf("vendor called %d times, want 2 (third blocked by the breaker)", bad.calls.Load())
	}
	if res.Results[ladiFlow].Status != model.StatusOK {
		t.Fatal("another vendor's breaker must not affect LadiFlow")
	}
}

// Rejections are the caller's data, not the vendor's health: they never open the breaker.
func TestRejectionsDoNotOpenBreaker(t *testing.T) {
	a := sending(engageLab)
	a.script = []error{rejection, rejection, rejection}
	p := fastPolicy()
	p.BreakerFailures = 1
	f := New(p, nil, a)
	u := &model.Update{CustomerID: "c-1"}
	plans, _ := f.Plan(u)
	for range 3 {
		f.Deliver(context.Background(), u, plans)
	}
	if r := f.Deliver(context.Background(), u, plans).Results[engageLab]; r.Status != model.StatusOK {
		t.Fatalf("got %+v", r)
	}
}

func TestPanicStaysWithItsVendor(t *testing.T) {
	bad := sending(happyTalk)
	bad.panics = true
	good := sending(ladiFlow)
	f := New(fastPolicy(), nil, bad, good)
	u := &model.Update{CustomerID: "c-1"}
	plans, _ := f.Plan(u)
	res := f.Deliver(context.Background(), u, plans)
	if res.Results[happyTalk].Status != model.StatusFailed || res.Results[ladiFlow].Status != model.StatusOK {
		t.Fatalf("got %+v", res.Results)
	}
}

func TestPlanScope(t *testing.T) {
	noKeys := func(v model.Vendor) *fakeAdapter {
		return &fakeAdapter{vendor: v, enabled: true, plan: model.Plan{Skip: model.SkipNoKeys, Reason: "no keys"}}
	}
	limit := model.FieldErrors{{Field: "attributes.tier", Vendor: happyTalk, Message: "too long"}}

	t.Run("vendor without keys is skipped when not named", func(t *testing.T) {
		f := New(fastPolicy(), nil, noKeys(happyTalk), sending(ladiFlow))
		plans, err := f.Plan(&model.Update{})
		if err != nil {
			t.Fatal(err)
		}
		res := f.DryRun(&model.Update{}, plans)
		if res.Results[happyTalk].Status != model.StatusSkipped || res.Results[happyTalk].Reason != "no keys" {
			t.Fatalf("got %+v", res.Results[happyTalk])
		}
	})
	t.Run("vendor without keys named in vendors is a field error", func(t *testing.T) {
		f := New(fastPolicy(), nil, noKeys(happyTalk), sending(ladiFlow))
		_, err := f.Plan(&model.Update{Targets: []model.Vendor{happyTalk, ladiFlow}})
		var fe model.FieldErrors
		if !errors.As(err, &fe) || len(fe) != 1 || fe[0].Vendor != happyTalk || fe[0].Field != "vendors" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("vendors not named are skipped and not planned", func(t *testing.T) {
		ht := &fakeAdapter{vendor: happyTalk, enabled: true, planErr: limit}
		f := New(fastPolicy(), nil, ht, sending(ladiFlow))
		plans, err := f.Plan(&model.Update{Targets: []model.Vendor{ladiFlow}})
		if err != nil {
			t.Fatalf("HappyTalk's limit must not matter when it is not named: %v", err)
		}
		if plans[0].Request != nil || plans[0].Reason != "not named in vendors" {
			t.Fatalf("got %+v", plans[0])
		}
	})
	t.Run("a vendor limit is a field error even when others could send", func(t *testing.T) {
		ht := &fakeAdapter{vendor: happyTalk, enabled: true, planErr: limit}
		f := New(fastPolicy(), nil, ht, sending(ladiFlow))
		_, err := f.Plan(&model.Update{})
		var fe model.FieldErrors
		if !errors.As(err, &fe) || fe[0].Field != "attributes.tier" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("nothing to send to anyone is a field error per vendor", func(t *testing.T) {
		f := New(fastPolicy(), nil, noKeys(happyTalk), noKeys(ladiFlow))
		_, err := f.Plan(&model.Update{})
		var fe model.FieldErrors
		if !errors.As(err, &fe) || len(fe) != 2 || fe[0].Field != "vendor_refs.happytalk" {
			t.Fatalf("got %v", err)
		}
	})
}

func TestDryRunSendsNothing(t *testing.T) {
	a := sending(ladiFlow)
	f := New(fastPolicy(), nil, a)
	u := &model.Update{CustomerID: "c-1"}
	plans, _ := f.Plan(u)
	res := f.DryRun(u, plans)
	r := res.Results[ladiFlow]
	if res.Outcome != model.OutcomeDryRun || r.Status != model.StatusDryRun || r.Request == nil || r.Request.Body != "masked" {
		t.Fatalf("got %+v", res)
	}
	if a.calls.Load() != 0 {
		t.Fatal("a dry run called the vendor")
	}
}

func TestObserverSeesEveryDelivery(t *testing.T) {
	var seen atomic.Int32
	f := New(fastPolicy(), func(model.Vendor, model.VendorResult, time.Duration) { seen.Add(1) }, sending(happyTalk), sending(ladiFlow))
	u := &model.Update{}
	plans, _ := f.Plan(u)
	f.Deliver(context.Background(), u, plans)
	if seen.Load() != 2 {
		t.Fatalf("observer saw %d deliveries, want 2", seen.Load())
	}
}

// When the breaker opens between one update's own retries, the reason says so rather than
// claiming the vendor was never called.
func TestBreakerOpeningMidRetryIsReported(t *testing.T) {
	bad := sending(engageLab)
	bad.script = []error{retryable, retryable, retryable}
	p := fastPolicy()
	p.Attempts, p.BreakerFailures = 3, 2
	f := New(p, nil, bad)
	u := &model.Update{}
	plans, _ := f.Plan(u)
	r := f.Deliver(context.Background(), u, plans).Results[engageLab]
	if r.Status != model.StatusFailed || r.Attempts != 2 || !strings.Contains(r.Reason, "opened before the next retry") {
		t.Fatalf("got %+v", r)
	}
}
