package main

import (
	"context"

	"github.com/customergateway/gateway/internal/fanout"
	"github.com/customergateway/gateway/internal/metrics"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/queue"
	"github.com/customergateway/gateway/internal/store"
)

// watch hangs what is read at each scrape off m: each vendor's breaker, and with a store
// the durable queue per vendor (README "Operating it" lists every metric).
func watch(m *metrics.Metrics, f *fanout.Fanout, st *store.Store) {
	states := make([]string, len(fanout.BreakerStates))
	for i, s := range fanout.BreakerStates {
		states[i] = string(s)
	}
	m.WatchBreakers(states, func() map[model.Vendor]string {
		out := map[model.Vendor]string{}
		for v, s := range f.BreakerStates() {
			out[v] = string(s)
		}
		return out
	})
	if st == nil {
		return
	}
	m.WatchPools(st.Pools())
	m.WatchQueue(st.CountPending)
	m.WatchVendorQueues(f.Enabled(), func(ctx context.Context) (map[model.Vendor]metrics.VendorQueue, error) {
		byVendor, err := st.PendingByVendor(ctx)
		if err != nil {
			return nil, err
		}
		out := make(map[model.Vendor]metrics.VendorQueue, len(byVendor))
		for v, q := range byVendor {
			out[v] = metrics.VendorQueue{Count: q.Count, Oldest: q.Oldest}
		}
		return out, nil
	})
}

// observeWebhooks is the queue's webhook observer counting into m, every result's count
// there from the start.
func observeWebhooks(m *metrics.Metrics) func(queue.WebhookResult) {
	for _, r := range queue.WebhookResults {
		m.ExpectWebhookResults(string(r))
	}
	return func(r queue.WebhookResult) { m.ObserveWebhook(string(r)) }
}
