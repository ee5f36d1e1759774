package fanout

import (
	"context"
	"sync"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// Settle tells the observations Defer held what each vendor's delivery came to.
type Settle func(results map[model.Vendor]model.VendorResult)

// Defer is ctx in which the Observe wrappers hold what they observe until settle is called
// with what each vendor's delivery came to. A call that failed is then observed with its
// delivery's status: queued when the durable queue took the delivery over, not failed. A
// call that ended otherwise keeps its own status. A call that ends after settle (one the
// request's deadline left behind) is observed at once by the same rule. Call settle once,
// on every path: what it has not been told stays held.
func Defer(ctx context.Context) (context.Context, Settle) {
	d := &deferred{}
	return context.WithValue(ctx, deferredKey{}, d), d.settle
}

// deferredKey finds a delivery's held observations in its context.
type deferredKey struct{}

// deferred is the observations of one delivery's calls, held until it is settled.
type deferred struct {
	mu      sync.Mutex
	held    []observation
	settled map[model.Vendor]model.Status // nil until settle
}

// observation is one finished call, as Observe saw it.
type observation struct {
	observe Observer
	vendor  model.Vendor
	status  model.Status
	took    time.Duration
}

// hold keeps o until the delivery is settled, or observes it when it already is.
func (d *deferred) hold(o observation) {
	d.mu.Lock()
	if d.settled == nil {
		d.held = append(d.held, o)
		d.mu.Unlock()
		return
	}
	status := d.statusOf(o)
	d.mu.Unlock()
	o.observe(o.vendor, model.VendorResult{Status: status}, o.took)
}

func (d *deferred) settle(results map[model.Vendor]model.VendorResult) {
	d.mu.Lock()
	d.settled = make(map[model.Vendor]model.Status, len(results))
	for v, r := range results {
		d.settled[v] = r.Status
	}
	held := d.held
	d.held = nil
	statuses := make([]model.Status, len(held))
	for i, o := range held {
		statuses[i] = d.statusOf(o)
	}
	d.mu.Unlock()
	for i, o := range held {
		o.observe(o.vendor, model.VendorResult{Status: statuses[i]}, o.took)
	}
}

// statusOf is the status o is observed with once settled: a failed call takes its
// delivery's status. d.mu is held.
func (d *deferred) statusOf(o observation) model.Status {
	if s, ok := d.settled[o.vendor]; ok && o.status == model.StatusFailed && s != "" {
		return s
	}
	return o.status
}
