package fanout

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// gatedAdapter fails its first call retryably and holds its second, the breaker's trial,
// until release is closed.
type gatedAdapter struct {
	*fakeAdapter
	entered, release chan struct{}
}

func (a *gatedAdapter) Send(ctx context.Context, req *model.Request) ([]byte, error) {
	if a.calls.Load() == 1 {
		close(a.entered)
		<-a.release
	}
	return a.fakeAdapter.Send(ctx, req)
}

// BreakerStates follows each vendor's own breaker: open after its failures, half open
// during the trial call past the cooldown, closed once the trial succeeded; another
// vendor's stays closed throughout.
func TestBreakerStates(t *testing.T) {
	ht := &gatedAdapter{fakeAdapter: sending(happyTalk), entered: make(chan struct{}), release: make(chan struct{})}
	ht.script = []error{retryable}
	p := fastPolicy()
	p.Attempts, p.BreakerFailures, p.BreakerCooldown = 1, 1, 20*time.Millisecond
	f := New(p, nil, ht, sending(ladiFlow))
	check := func(when string, want map[model.Vendor]BreakerState) {
		t.Helper()
		if got := f.BreakerStates(); !maps.Equal(got, want) {
			t.Fatalf("%s: %v, want %v", when, got, want)
		}
	}
	check("at first", map[model.Vendor]BreakerState{happyTalk: BreakerClosed, ladiFlow: BreakerClosed})

	u := &model.Update{CustomerID: "c-1"}
	plans, err := f.Plan(u)
	if err != nil {
		t.Fatal(err)
	}
	if r := f.Deliver(context.Background(), u, plans).Results[happyTalk]; r.Status != model.StatusFailed {
		t.Fatalf("first delivery: %+v", r)
	}
	check("after the failure", map[model.Vendor]BreakerState{happyTalk: BreakerOpen, ladiFlow: BreakerClosed})

	// Deliveries fail at once without a call until the cooldown is over; the next one is
	// the trial, held in the vendor's call.
	done := make(chan model.VendorResult)
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			r := f.Deliver(context.Background(), u, plans).Results[happyTalk]
			if r.Status == model.StatusOK {
				done <- r
				return
			}
			<-tick.C
		}
	}()
	select {
	case <-ht.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no trial call past the cooldown")
	}
	check("during the trial", map[model.Vendor]BreakerState{happyTalk: BreakerHalfOpen, ladiFlow: BreakerClosed})
	close(ht.release)
	<-done
	check("after the trial succeeded", map[model.Vendor]BreakerState{happyTalk: BreakerClosed, ladiFlow: BreakerClosed})
}
