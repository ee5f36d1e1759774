package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	openapi "github.com/customergateway/gateway/api"
	"github.com/customergateway/gateway/internal/audit"
	"github.com/customergateway/gateway/internal/delivery"
	"github.com/customergateway/gateway/internal/fanout"
	"github.com/customergateway/gateway/internal/metrics"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/queue"
	"github.com/customergateway/gateway/internal/store"
	"github.com/customergateway/gateway/internal/tracing/otlp"
	"github.com/customergateway/gateway/internal/vendors/engagelab"
	"github.com/customergateway/gateway/internal/vendors/happytalk"
	"github.com/customergateway/gateway/internal/vendors/ladiflow"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
	"github.com/customergateway/gateway/internal/vendorsim"
	engagelabsim "github.com/customergateway/gateway/internal/vendorsim/engagelab"
	happytalksim "github.com/customergateway/gateway/internal/vendorsim/happytalk"
	ladiflowsim "github.com/customergateway/gateway/internal/vendorsim/ladiflow"
)

// testGateway is the real router, update service, fan-out and adapters, against the
// vendor simulator.
type testGateway struct {
	t       testing.TB
	handler http.Handler
	fanout  *fanout.Fanout
	store   *store.Store
	sim     *vendorsim.Sim
	ht      *happytalksim.Sim
	lf      *ladiflowsim.Sim
	el      *engagelabsim.Sim
	url     string
	logs    *syncBuffer
	// workQueue starts the queue's worker, when gatewayOptions.holdQueue held it back.
	workQueue func()
}

// The vendors the tests deliver to, by the names the contract gives them.
const (
	happyTalk = happytalk.Name
	ladiFlow  = ladiflow.Name
	engageLab = engagelab.Name
)

// allVendors are the registered vendors, in the order results are reported.
var allVendors = []model.Vendor{happyTalk, ladiFlow, engageLab}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	contractOnce sync.Once
	contract     *Contract
	contractErr  error
)

func loadContract(t testing.TB) *Contract {
	contractOnce.Do(func() { contract, contractErr = LoadContract(openapi.Document) })
	if contractErr != nil {
		t.Fatal(contractErr)
	}
	return contract
}

type gatewayOptions struct {
	policy   fanout.Policy
	deadline time.Duration
	disabled model.Vendor // a vendor configured without credentials
	store    bool         // a SQLite store in a temporary directory
	// queue adds the durable delivery queue (and a store) on dbURL, a SQLite file when empty.
	queue bool
	dbURL string
	// holdQueue builds the queue without working it: deliveries are queued, none is sent
	// from the queue until the test calls testGateway.workQueue.
	holdQueue bool
	// queueConfig changes the test queue's configuration (short delays) before it is built.
	queueConfig func(*queue.Config)
	// tracing exports every span to an OTLP endpoint that takes and drops them.
	tracing bool
}

func newTestGateway(t testing.TB, opts gatewayOptions) *testGateway {
	t.Helper()
	ht, lf, el := happytalksim.Sandbox(), ladiflowsim.Sandbox(), engagelabsim.Sandbox()
	sim := vendorsim.New(vendorsim.Config{}, ht, lf, el)
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)

	if opts.policy == (fanout.Policy{}) {
		opts.policy = fanout.Policy{AttemptTimeout: time.Second, Attempts: 3, Backoff: time.Millisecond, BreakerFailures: 1000, BreakerCooldown: time.Minute}
	}
	if opts.deadline == 0 {
		opts.deadline = 5 * time.Second
	}
	token, key, elKey := happytalksim.SandboxToken, ladiflowsim.SandboxAPIKey, engagelabsim.SandboxAPIKey
	switch opts.disabled {
	case happyTalk:
		token = ""
	case ladiFlow:
		key = ""
	case engageLab:
		elKey = ""
	}
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	pm, err := happytalk.ParseParameterMap("tier:parameter1,note:user_parameter")
	if err != nil {
		t.Fatal(err)
	}
	hta := happytalk.New(happytalk.Config{BaseURL: simSrv.URL, Token: token, GenderFormat: happytalk.GenderCode, ParameterMap: pm, Location: seoul}, vendorhttp.NewClient())
	lfa := ladiflow.New(ladiflow.Config{BaseURL: simSrv.URL, APIKey: key}, vendorhttp.NewClient())
	ela := engagelab.New(engagelab.Config{BaseURL: simSrv.URL, APIKey: elKey, APISecret: engagelabsim.SandboxAPISecret}, vendorhttp.NewClient())
	acfg := audit.DefaultConfig()
	acfg.CursorKey = []byte("test-cursor-key")
	sources := []audit.Source{{Reader: hta, Location: seoul, DayWindows: true, Timeout: time.Second}}
	if opts.queue {
		opts.store = true
	}
	if opts.store && opts.dbURL == "" {
		opts.dbURL = templates.SQLite(t)
	}
	logs := &syncBuffer{}
	m := metrics.New()
	rd := &Readiness{}
	rd.Set(true)
	f := fanout.New(opts.policy, m.ObserveDelivery, hta, lfa, ela)
	dcfg := delivery.Config{Fanout: f, Region: "KR", Deadline: opts.deadline}
	deps := Deps{
		Logger:        zerolog.New(logs).With().Timestamp().Logger(),
		Contract:      loadContract(t),
		Document:      openapi.Document,
		Metrics:       m,
		Readiness:     rd,
		DefaultRegion: "KR",
		MaxBodyBytes:  1 << 20,
	}
	var st *store.Store
	var q *queue.Queue
	if opts.store {
		st, err = store.Open(context.Background(), opts.dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		sources = append(sources, audit.Source{Reader: st, Location: time.UTC})
		dcfg.Store, deps.Replies, deps.Ping, deps.Follow = st, st, st.Ping, st
		if opts.queue {
			q = newQueueWith(t, st, opts.queueConfig)
			dcfg.Queue, deps.Deliveries = q, q
			m.WatchQueue(st.CountPending)
		}
	}
	svc := delivery.New(dcfg)
	var workQueue func()
	if q != nil {
		workQueue = sync.OnceFunc(func() { startQueue(t, q, svc) })
		if !opts.holdQueue {
			workQueue()
		}
	}
	deps.Updates, deps.Audit = svc, audit.New(acfg, sources...)
	if opts.tracing {
		deps.Tracing = traceToSink(t)
	}
	h := NewServer(deps)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testGateway{t: t, handler: h, fanout: f, store: st, sim: sim, ht: ht, lf: lf, el: el, url: srv.URL, logs: logs, workQueue: workQueue}
}

// newQueueWith is a delivery queue on st with short delays, its configuration changed by
// change when not nil. It polls every 50ms: faster polling by the queues of the tests running
// at once takes the cores from the tests' work.
func newQueueWith(t testing.TB, st *store.Store, change func(*queue.Config)) *queue.Queue {
	t.Helper()
	cfg := queue.Config{MaxAge: time.Minute, Backoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		Workers: 4, PollInterval: 50 * time.Millisecond, SendTimeout: 5 * time.Second}
	if change != nil {
		change(&cfg)
	}
	q, err := queue.New(st, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// startQueue works q's deliveries through svc until the test ends.
func startQueue(t testing.TB, q *queue.Queue, svc *delivery.Service) {
	t.Helper()
	if err := q.Start(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
}

// do sends a request and returns the status, headers and body.
func (g *testGateway) do(method, path, body string, header ...string) (int, http.Header, []byte) {
	g.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, g.url+path, rd)
	if err != nil {
		g.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		g.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// received counts what reached every vendor.
func (g *testGateway) received() int {
	n := 0
	for _, v := range allVendors {
		n += len(g.sim.Received(v))
	}
	return n
}

// traceToSink sets the global tracer provider up to export to an OTLP endpoint that drops
// what it is sent, as a local collector would take it, until the test ends.
func traceToSink(t testing.TB) bool {
	t.Helper()
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": sink.URL}
	on, stop, err := otlp.Setup(context.Background(), func(k string) string { return env[k] }, "test")
	if err != nil || !on {
		t.Fatalf("tracing setup: %v %v", on, err)
	}
	t.Cleanup(func() {
		_ = stop(context.Background())
		sink.Close()
	})
	return on
}
