// Package metrics holds the gateway's Prometheus metrics: per route and per vendor. Labels
// are bounded sets (route patterns, vendors, statuses): never ids, never personal data.
package metrics

import (
	"context"
	"database/sql"
	"math"
	"net/http"
	"slices"
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
	webhooks   *prometheus.CounterVec
	storeTxs   *prometheus.HistogramVec
}

// New registers the gateway's collectors, plus the Go runtime's and the process's, in a registry
// of their own.
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
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_webhook_deliveries_total",
			Help: "Webhook delivery attempts, by result: delivered, failed (retried), given_up (its last attempt failed), gone (the receiver answered 410), cancelled.",
		}, []string{"result"}),
		storeTxs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_store_transaction_duration_seconds",
			Help:    "Store transactions, from begin to commit or rollback, by result: committed or rolled_back.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"result"}),
	}
	m.registry.MustRegister(m.requests, m.deliveries, m.webhooks, m.storeTxs, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveStoreTx counts one store transaction that took d and committed or not.
func (m *Metrics) ObserveStoreTx(d time.Duration, committed bool) {
	result := "rolled_back"
	if committed {
		result = "committed"
	}
	m.storeTxs.WithLabelValues(result).Observe(d.Seconds())
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// ObserveRequest records one served request.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// WatchPools reports each of the store's connection pools, by name, with client_golang's
// database/sql collector (go_sql_*, labelled db_name): the sessions open, in use and idle,
// the waits for one, and those closed. Under a steady load the counts of sessions closed
// stay flat (no session is opened per request), and a go_sql_wait_count_total that grows
// says the pool is too small for the load.
func (m *Metrics) WatchPools(pools map[string]*sql.DB) {
	for name, db := range pools {
		m.registry.MustRegister(collectors.NewDBStatsCollector(db, name))
	}
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

// ObserveWebhook counts one webhook attempt by how it ended.
func (m *Metrics) ObserveWebhook(result string) {
	m.webhooks.WithLabelValues(result).Inc()
}

// ExpectWebhookResults starts each of results' counts at 0, so a rate or an alert over them
// has a series before the first webhook is sent.
func (m *Metrics) ExpectWebhookResults(results ...string) {
	for _, r := range results {
		m.webhooks.WithLabelValues(r)
	}
}

// scrapeTimeout bounds a store read made while /metrics is scraped.
const scrapeTimeout = 2 * time.Second

// WatchBreakers reports each vendor's circuit breaker at each scrape, as current answers it:
// gateway_vendor_circuit_breaker_state is 1 for the state a vendor's breaker is in and 0 for
// the others of states, the enum pattern, so "open" is one series to alert on.
func (m *Metrics) WatchBreakers(states []string, current func() map[model.Vendor]string) {
	m.registry.MustRegister(&breakerCollector{
		desc: prometheus.NewDesc("gateway_vendor_circuit_breaker_state",
			"Each vendor's circuit breaker: 1 for the state it is in (closed, half_open, open), 0 for the others.",
			[]string{"vendor", "state"}, nil),
		states:  states,
		current: current,
	})
}

type breakerCollector struct {
	desc    *prometheus.Desc
	states  []string
	current func() map[model.Vendor]string
}

func (c *breakerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *breakerCollector) Collect(ch chan<- prometheus.Metric) {
	for v, state := range c.current() {
		for _, s := range c.states {
			value := 0.0
			if s == state {
				value = 1
			}
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, value, string(v), s)
		}
	}
}

// VendorQueue is what waits in the durable queue for one vendor.
type VendorQueue struct {
	Count  int
	Oldest time.Time // when the longest-waiting delivery was queued
}

// WatchVendorQueues reports, per vendor, the deliveries waiting in the durable queue and the
// age of the oldest, as read answers at each scrape (every replica's deliveries). Each of
// vendors has its series, 0 while nothing waits for it; a vendor read names beyond them has
// its own too. When read fails the values are NaN: unknown, not empty.
func (m *Metrics) WatchVendorQueues(vendors []model.Vendor, read func(ctx context.Context) (map[model.Vendor]VendorQueue, error)) {
	m.registry.MustRegister(&queueCollector{
		waiting: prometheus.NewDesc("gateway_queue_deliveries_waiting",
			"Vendor deliveries waiting in the durable queue (one per customer), by vendor, across replicas.",
			[]string{"vendor"}, nil),
		oldest: prometheus.NewDesc("gateway_queue_oldest_delivery_age_seconds",
			"Age of the vendor's longest-waiting delivery in the durable queue; 0 when none waits.",
			[]string{"vendor"}, nil),
		vendors: vendors,
		read:    read,
		now:     time.Now,
	})
}

type queueCollector struct {
	waiting, oldest *prometheus.Desc
	vendors         []model.Vendor
	read            func(ctx context.Context) (map[model.Vendor]VendorQueue, error)
	now             func() time.Time
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.waiting
	ch <- c.oldest
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	queues, err := c.read(ctx)
	now := c.now()
	emit := func(v model.Vendor, q VendorQueue) {
		count, age := float64(q.Count), 0.0
		if q.Count > 0 {
			// Another replica's clock may be a little ahead: never a negative age.
			age = max(now.Sub(q.Oldest).Seconds(), 0)
		}
		if err != nil {
			count, age = math.NaN(), math.NaN()
		}
		ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, count, string(v))
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age, string(v))
	}
	for _, v := range c.vendors {
		emit(v, queues[v])
	}
	for v, q := range queues {
		if !slices.Contains(c.vendors, v) {
			emit(v, q)
		}
	}
}
