package fanout

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/timeout"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors"
)

// scripted is a vendor call that answers the errors in script, one per call, then nil, and
// counts its calls.
func scripted(calls *atomic.Int32, script ...error) vendors.Call {
	return func(ctx context.Context, _ *model.Request) ([]byte, error) {
		n := int(calls.Add(1))
		if n <= len(script) {
			return nil, script[n-1]
		}
		return []byte("ok"), nil
	}
}

var req = &model.Request{URL: "http://127.0.0.1/"}

func TestRetryWrapper(t *testing.T) {
	tests := []struct {
		name      string
		script    []error
		wantCalls int32
		wantErr   error
	}{
		{"retryable failures are sent again", []error{retryable, retryable}, 3, nil},
		{"gives up after the attempts", []error{retryable, retryable, retryable, retryable}, 3, retryable},
		{"a rejection is never sent again", []error{rejection}, 1, rejection},
		{"an open breaker is not retried", []error{circuitbreaker.ErrOpen}, 1, circuitbreaker.ErrOpen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			body, err := Retry(3, time.Millisecond)(scripted(&calls, tc.script...))(context.Background(), req)
			if calls.Load() != tc.wantCalls || !errors.Is(err, tc.wantErr) || (err == nil && string(body) != "ok") {
				t.Fatalf("calls %d err %v body %q; want %d calls, err %v", calls.Load(), err, body, tc.wantCalls, tc.wantErr)
			}
		})
	}
	t.Run("a caller's cancellation ends it", func(t *testing.T) {
		var calls atomic.Int32
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := Retry(5, time.Millisecond)(scripted(&calls, context.Canceled, context.Canceled))(ctx, req)
		if err == nil || calls.Load() > 1 {
			t.Fatalf("calls %d err %v", calls.Load(), err)
		}
	})
}

func TestBreakerWrapper(t *testing.T) {
	var calls atomic.Int32
	call := Breaker(2, time.Minute)(scripted(&calls, rejection, rejection, retryable, retryable))
	for range 2 { // rejections are the caller's data: they do not count against the vendor
		if _, err := call(context.Background(), req); !errors.Is(err, rejection) {
			t.Fatal(err)
		}
	}
	for range 2 {
		if _, err := call(context.Background(), req); !errors.Is(err, retryable) {
			t.Fatal(err)
		}
	}
	if _, err := call(context.Background(), req); !errors.Is(err, circuitbreaker.ErrOpen) || calls.Load() != 4 {
		t.Fatalf("after two retryable failures: err %v, %d calls; want the breaker open and no fifth call", err, calls.Load())
	}
	// Each vendor wraps its own breaker: another one is closed.
	var other atomic.Int32
	if _, err := Breaker(2, time.Minute)(scripted(&other))(context.Background(), req); err != nil {
		t.Fatalf("a second breaker is open too: %v", err)
	}
}

func TestTimeoutWrapper(t *testing.T) {
	slow := func(ctx context.Context, _ *model.Request) ([]byte, error) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * time.Second):
			return []byte("late"), nil
		}
	}
	start := time.Now()
	_, err := Timeout(20*time.Millisecond)(slow)(context.Background(), req)
	if !errors.Is(err, timeout.ErrExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %v, want timeout.ErrExceeded at once", err, time.Since(start))
	}
	if r := classify("Acme", err); r.Status != model.StatusFailed || r.Reason != "Acme did not answer in time" {
		t.Fatalf("classified as %+v", r)
	}
	// The caller's cancellation within the attempt stays a cancellation: never retried.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = Timeout(time.Hour)(slow)(ctx, req)
	if !errors.Is(err, context.Canceled) || errors.Is(err, timeout.ErrExceeded) || model.IsRetryable(err) {
		t.Fatalf("cancelled: err %v, want context.Canceled, not retryable", err)
	}
	// An answer within the bound is passed on as it is.
	body, err := Timeout(time.Hour)(func(context.Context, *model.Request) ([]byte, error) { return []byte("ok"), nil })(context.Background(), req)
	if err != nil || string(body) != "ok" {
		t.Fatalf("in time: %q, %v", body, err)
	}
}

func TestRecoverWrapper(t *testing.T) {
	boom := func(context.Context, *model.Request) ([]byte, error) { panic("boom") }
	_, err := Recover("acme")(boom)(context.Background(), req)
	if !errors.Is(err, errPanic) {
		t.Fatalf("err %v, want errPanic", err)
	}
	if r := classify("Acme", err); r.Status != model.StatusFailed || r.Reason != "internal error in the gateway's adapter" {
		t.Fatalf("classified as %+v", r)
	}
}

func TestObserveWrapper(t *testing.T) {
	var seen []model.Status
	observe := func(v model.Vendor, r model.VendorResult, d time.Duration) {
		if v != "acme" || d < 0 {
			t.Errorf("observed %s %v", v, d)
		}
		seen = append(seen, r.Status)
	}
	var calls atomic.Int32
	call := Observe("acme", observe)(scripted(&calls, rejection, retryable))
	for range 3 {
		_, _ = call(context.Background(), req)
	}
	if want := []model.Status{model.StatusRejected, model.StatusFailed, model.StatusOK}; len(seen) != 3 || seen[0] != want[0] || seen[1] != want[1] || seen[2] != want[2] {
		t.Fatalf("observed %v, want %v", seen, want)
	}
	if Observe("acme", nil)(scripted(&calls)) == nil {
		t.Fatal("no observer must leave the call as it is")
	}
}

// Wrap counts every call that reached the vendor, retries included, and none the breaker
// refused.
func TestWrapCountsAttempts(t *testing.T) {
	var calls atomic.Int32
	a := &fakeAdapter{vendor: "acme", enabled: true}
	p := fastPolicy()
	p.BreakerFailures = 3
	call := p.Wrap(a, scripted(&calls, retryable, retryable, retryable), nil)
	ctx, attempts := withAttempts(context.Background())
	if _, err := call(ctx, req); !errors.Is(err, retryable) || attempts.Load() != 3 {
		t.Fatalf("err %v after %d attempts; want 3", err, attempts.Load())
	}
	ctx, attempts = withAttempts(context.Background())
	if _, err := call(ctx, req); !errors.Is(err, circuitbreaker.ErrOpen) || attempts.Load() != 0 {
		t.Fatalf("err %v after %d attempts; want the open breaker and none", err, attempts.Load())
	}
}
