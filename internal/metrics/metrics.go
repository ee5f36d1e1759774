// Package metrics holds the gateway's Prometheus metrics: per route and per vendor. Labels
// are bounded sets (route patterns, vendors, statuses): never ids, never personal data.
package metrics

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/customergateway/gateway/internal/model"
)

// Metrics is one registry and the gateway's collectors in it.
type Metrics struct {
	registry   *prometheus.Registry
	requests   *prometheus.HistogramVec
	deliveries *prometheus.HistogramVec
}

// New registers the gateway's collectors, plus the Go runtime's, in a registry of their own.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_http_request_duration_seconds",
			Help:    "HTTP requests served, by route pattern, method and status.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "status"}),
		deliveries: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_vendor_delivery_duration_seconds",
			Help:    "Deliveries to a vendor, retries included, by vendor and result status.",
			Buckets: prometheus.DefBuckets,
		}, []string{"vendor", "status"}),
	}
	m.registry.MustRegister(m.requests, m.deliveries, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// ObserveRequest records one served request.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// WatchQueue reports the deliveries waiting in the durable queue, as count answers at each
// scrape (the store's count: every replica's deliveries).
func (m *Metrics) WatchQueue(count func(ctx context.Context) (int, error)) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "gateway_deliveries_queued",
		Help: "Vendor deliveries waiting in the durable queue (one per customer and vendor), across replicas.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := count(ctx)
		if err != nil {
			return math.NaN()
		}
		return float64(n)
	}))
}

// ObserveDelivery records one vendor delivery; it fits fanout.Observer.
func (m *Metrics) ObserveDelivery(v model.Vendor, r model.VendorResult, d time.Duration) {
	m.deliveries.WithLabelValues(string(v), string(r.Status)).Observe(d.Seconds())
}
