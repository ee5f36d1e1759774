package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/customergateway/gateway/internal/model"
)

// scrape is what /metrics answers, as text.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	b, err := io.ReadAll(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// gateway is every metric of the gateway's own, each fed once.
func gateway(t *testing.T) *Metrics {
	t.Helper()
	m := New()
	m.ObserveRequest("/customers/{customer_id}", http.MethodPut, http.StatusOK, 30*time.Millisecond)
	m.ObserveDelivery("ladiflow", model.VendorResult{Status: model.StatusQueued}, 2*time.Second)
	m.ExpectWebhookResults("delivered", "failed")
	m.ObserveWebhook("failed")
	m.WatchQueue(func(context.Context) (int, error) { return 1, nil })
	m.WatchBreakers([]string{"closed", "half_open", "open"}, func() map[model.Vendor]string {
		return map[model.Vendor]string{"ladiflow": "open", "happytalk": "closed"}
	})
	m.WatchVendorQueues([]model.Vendor{"happytalk", "ladiflow"}, func(context.Context) (map[model.Vendor]VendorQueue, error) {
		return map[model.Vendor]VendorQueue{"ladiflow": {Count: 1, Oldest: time.Now().Add(-time.Minute)}}, nil
	})
	return m
}

var gatewayMetrics = []string{
	"gateway_http_request_duration_seconds", "gateway_vendor_delivery_duration_seconds",
	"gateway_webhook_deliveries_total", "gateway_deliveries_queued", "gateway_vendor_circuit_breaker_state",
	"gateway_queue_deliveries_waiting", "gateway_queue_oldest_delivery_age_seconds",
}

// Every metric of the gateway's passes Prometheus' own linter (units in names, _total on
// counters, help text) and is in the scrape.
func TestMetricsFollowPrometheusConventions(t *testing.T) {
	m := gateway(t)
	families := gather(t, m, gatewayMetrics...)
	problems, err := promlint.NewWithMetricFamilies(families).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
	n := 0
	for _, f := range families {
		n += len(f.GetMetric())
	}
	// 1 request, 1 delivery, 2 webhook results, the total, 2 vendors x 3 states, 2 vendors x 2.
	if want := 1 + 1 + 2 + 1 + 6 + 4; len(families) != len(gatewayMetrics) || n != want {
		t.Errorf("%d families, %d series of the gateway's, want %d, %d:\n%s", len(families), n, len(gatewayMetrics), want, scrape(t, m))
	}
	// The Go runtime and the process.
	body := scrape(t, m)
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_start_time_seconds"} {
		if !strings.Contains(body, "\n"+name+" ") {
			t.Errorf("the scrape has no %s", name)
		}
	}
}

func TestRequestsAndDeliveries(t *testing.T) {
	m := gateway(t)
	want := `
# HELP gateway_vendor_delivery_duration_seconds Deliveries to a vendor, retries included, by vendor and result status.
# TYPE gateway_vendor_delivery_duration_seconds histogram
gateway_vendor_delivery_duration_seconds_bucket{status="queued",vendor="ladiflow",le="0.005"} 0
gateway_vendor_delivery_duration_seconds_bucket{status="queued",vendor="ladiflow",le="0.01"} 0
gateway_vendor_delivery_duration_seconds_bucket{status="queued",vendor="ladiflow",le="0.025"} 0
gateway_vendor_delivery_duration_seconds_bucket{status="queued",vendor="ladiflow",le="0.05"} 0
gateway_vendor_delivery_duration_seconds_bucket{status="queued",vendor="ladiflow",le="0.1"} 0
gateway_vendor_delivery_duration_seconds_bucket{status="queued",vendor="ladiflow",le="0.25"} 0
gateway_vendor_delivery_duration_seconds_bucket{status="queued",vendor="ladiflow",le="0.5"} 0
gateway_vendor_delivery_duration_seconds_bucket{status="queued",vendor="ladiflow",le="1"} 0
gateway_vendor_delivery_duration_seconds_bucket{status="queued",vendor="ladiflow",le="2.5"} 1
gateway_vendor_delivery_duration_seconds_bucket{status="queued",vendor="ladiflow",le="5"} 1
gateway_vendor_delivery_duration_seconds_bucket{status="queued",vendor="ladiflow",le="10"} 1
gateway_vendor_delivery_duration_seconds_bucket{status="queued",vendor="ladiflow",le="+Inf"} 1
gateway_vendor_delivery_duration_seconds_sum{status="queued",vendor="ladiflow"} 2
gateway_vendor_delivery_duration_seconds_count{status="queued",vendor="ladiflow"} 1
`
	webhooks := `
# HELP gateway_webhook_deliveries_total Webhook delivery attempts, by result: delivered, failed (retried), given_up (its last attempt failed), gone (the receiver answered 410), cancelled.
# TYPE gateway_webhook_deliveries_total counter
gateway_webhook_deliveries_total{result="delivered"} 0
gateway_webhook_deliveries_total{result="failed"} 1
`
	contains(t, scrape(t, m), want)
	contains(t, scrape(t, m), webhooks)
	if !strings.Contains(scrape(t, m), `gateway_http_request_duration_seconds_count{method="PUT",route="/customers/{customer_id}",status="200"} 1`) {
		t.Errorf("the request is not counted by route, method and status:\n%s", scrape(t, m))
	}
}

// A breaker's state is one series per state, 1 for the one it is in, read at each scrape.
func TestBreakerStates(t *testing.T) {
	m := New()
	state := "closed"
	m.WatchBreakers([]string{"closed", "half_open", "open"}, func() map[model.Vendor]string {
		return map[model.Vendor]string{"ladiflow": state}
	})
	for _, s := range []string{"closed", "open", "half_open"} {
		state = s
		want := map[string]string{"closed": "0", "half_open": "0", "open": "0"}
		want[s] = "1"
		body := scrape(t, m)
		for st, v := range want {
			if line := `gateway_vendor_circuit_breaker_state{state="` + st + `",vendor="ladiflow"} ` + v; !strings.Contains(body, line+"\n") {
				t.Errorf("breaker %s: the scrape lacks %s:\n%s", s, line, body)
			}
		}
	}
}

// Each vendor has its queue series, 0 while nothing waits; the oldest delivery's age is
// counted at the scrape; a failed read is NaN, not an empty queue.
func TestVendorQueues(t *testing.T) {
	m := New()
	queues := map[model.Vendor]VendorQueue{}
	var readErr error
	m.WatchVendorQueues([]model.Vendor{"happytalk", "ladiflow"}, func(ctx context.Context) (map[model.Vendor]VendorQueue, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the store is read without a deadline")
		}
		return queues, readErr
	})
	check := func(want string) {
		t.Helper()
		contains(t, scrape(t, m), want)
	}
	const help = `
# HELP gateway_queue_deliveries_waiting Vendor deliveries waiting in the durable queue (one per customer), by vendor, across replicas.
# TYPE gateway_queue_deliveries_waiting gauge
`
	check(help + `gateway_queue_deliveries_waiting{vendor="happytalk"} 0
gateway_queue_deliveries_waiting{vendor="ladiflow"} 0
`)

	queues = map[model.Vendor]VendorQueue{
		"ladiflow": {Count: 3, Oldest: time.Now().Add(-10 * time.Minute)},
		"retired":  {Count: 1, Oldest: time.Now().Add(time.Second)}, // a vendor no longer registered, a clock ahead
	}
	check(help + `gateway_queue_deliveries_waiting{vendor="happytalk"} 0
gateway_queue_deliveries_waiting{vendor="ladiflow"} 3
gateway_queue_deliveries_waiting{vendor="retired"} 1
`)
	ages := ages(t, m)
	if a := ages["ladiflow"]; a < 600 || a > 660 {
		t.Errorf("ladiflow's oldest delivery is %v s old, want 600 s", a)
	}
	if ages["happytalk"] != 0 || ages["retired"] != 0 {
		t.Errorf("ages %v: want 0 for an empty queue and for a time ahead of the clock", ages)
	}

	readErr = errors.New("store down")
	body := scrape(t, m)
	for _, line := range []string{`gateway_queue_deliveries_waiting{vendor="ladiflow"} NaN`, `gateway_queue_oldest_delivery_age_seconds{vendor="ladiflow"} NaN`} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("a failed read: the scrape lacks %s:\n%s", line, body)
		}
	}
}

// gather is the families of names in the registry.
func gather(t *testing.T, m *Metrics, names ...string) []*dto.MetricFamily {
	t.Helper()
	families, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []*dto.MetricFamily
	for _, f := range families {
		if slices.Contains(names, f.GetName()) {
			out = append(out, f)
		}
	}
	return out
}

// contains wants the lines of want, in their order, as one block of the scrape.
func contains(t *testing.T, body, want string) {
	t.Helper()
	if !strings.Contains(body, strings.TrimPrefix(want, "\n")) {
		t.Errorf("the scrape lacks\n%s\nin\n%s", want, body)
	}
}

// ages reads gateway_queue_oldest_delivery_age_seconds by vendor.
func ages(t *testing.T, m *Metrics) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, f := range gather(t, m, "gateway_queue_oldest_delivery_age_seconds") {
		for _, s := range f.GetMetric() {
			out[s.GetLabel()[0].GetValue()] = s.GetGauge().GetValue()
		}
	}
	return out
}
