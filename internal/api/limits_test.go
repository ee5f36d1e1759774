package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	openapi "github.com/customergateway/gateway/api"
	"github.com/customergateway/gateway/internal/audit"
	"github.com/customergateway/gateway/internal/delivery"
	"github.com/customergateway/gateway/internal/metrics"
	"github.com/customergateway/gateway/internal/model"
)

// These tests attack a gateway on 127.0.0.1 as a caller would, each bounded in requests,
// bytes and time. The router, middleware and contract are the real ones; the services
// behind them are stand-ins, so a request can be held in flight at will.

// limAudit answers every query with an empty page, each one first waiting for release
// when hold is set (entered counts those waiting).
type limAudit struct {
	hold    atomic.Bool
	entered atomic.Int32
	release chan struct{}
}

func (h *limAudit) Query(ctx context.Context, _ audit.Query) (audit.Page, error) {
	if h.hold.Load() {
		h.entered.Add(1)
		select {
		case <-h.release:
		case <-ctx.Done():
		}
	}
	return audit.Page{Events: []model.AuditEvent{}}, nil
}

// limUpdates answers every update with no vendor result.
type limUpdates struct{}

func (limUpdates) Update(context.Context, delivery.Request) (delivery.Answer, error) {
	return delivery.Answer{Result: model.UpdateResult{Results: map[model.Vendor]model.VendorResult{}}}, nil
}

type limitedGateway struct {
	url, addr string
	audit     *limAudit
	metrics   *metrics.Metrics
}

// newLimitedGateway serves NewServer(d) on loopback, d filled in with the stand-ins.
func newLimitedGateway(t *testing.T, d Deps) *limitedGateway {
	t.Helper()
	a := &limAudit{release: make(chan struct{})}
	rd := &Readiness{}
	rd.Set(true)
	d.Logger, d.Contract, d.Document, d.Metrics, d.Readiness = zerolog.Nop(), loadContract(t), openapi.Document, metrics.New(), rd
	d.DefaultRegion, d.Updates, d.Audit = "KR", limUpdates{}, a
	if d.MaxBodyBytes == 0 {
		d.MaxBodyBytes = 1 << 20
	}
	srv := httptest.NewServer(NewServer(d))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(a.release) }) // first: Close waits for held requests
	return &limitedGateway{url: srv.URL, addr: srv.Listener.Addr().String(), audit: a, metrics: d.Metrics}
}

const limAuditURL = "/audit-history?from=2024-01-01T00:00:00Z&to=2024-01-02T00:00:00Z"

// send sends method path with no body and returns the answer, its body read; a redirect
// is the answer.
func (g *limitedGateway) send(t *testing.T, method, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, g.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// dial opens a raw connection to the gateway that ends with the test, at the latest in
// 10 seconds.
func (g *limitedGateway) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", g.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// A declared body over the bound is a 413 on every route and for every method, answered
// when a sliver of it has arrived: the gateway neither reads 300 MB nor keeps the
// connection to be sent the rest.
func TestBodyOverTheBoundIs413OnEveryRoute(t *testing.T) {
	t.Parallel()
	g := newLimitedGateway(t, Deps{MaxBodyBytes: 64 << 10})
	const declared = 300 << 20
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, limAuditURL},
		{http.MethodHead, limAuditURL},
		{http.MethodDelete, "/customers/c-1"},
		{http.MethodGet, "/healthz"},
		{http.MethodGet, "/no/such/route"},
		{http.MethodPut, "/customers/c-1"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			t.Parallel()
			c := g.dial(t)
			fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", tc.method, tc.path, declared)
			sent, err := c.Write(make([]byte, 32<<10))
			if err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, &http.Request{Method: tc.method})
			if err != nil {
				t.Fatalf("no answer after %d of %d bytes: %v", sent, declared, err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("status %d, headers %v: %s", resp.StatusCode, resp.Header, body)
			}
			if tc.method != http.MethodHead && !strings.Contains(string(body), "too-large") {
				t.Fatalf("body %s", body)
			}
			// The gateway hangs up rather than read on: sending more soon fails, long before
			// the 300 MB declared (the margin is the sockets' buffers).
			chunk := make([]byte, 64<<10)
			for sent < 32<<20 {
				n, err := c.Write(chunk)
				sent += n
				if err != nil {
					return
				}
			}
			t.Fatalf("the gateway took %d bytes after answering 413", sent)
		})
	}
}

// A body of undeclared length (chunked) is cut at the bound: 413, and the rest is never
// read.
func TestChunkedBodyIsCutAtTheBound(t *testing.T) {
	t.Parallel()
	g := newLimitedGateway(t, Deps{MaxBodyBytes: 64 << 10})
	c := g.dial(t)
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", limAuditURL)
	var sent atomic.Int64
	go func() {
		chunk := []byte(fmt.Sprintf("%x\r\n%s\r\n", 16<<10, strings.Repeat(" ", 16<<10)))
		for sent.Load() < 64<<20 {
			n, err := c.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer after %d bytes: %v", sent.Load(), err)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", resp.StatusCode)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		before := sent.Load()
		time.Sleep(50 * time.Millisecond)
		if sent.Load() == before {
			break // the writer has stopped: the connection is gone
		}
		if time.Now().After(deadline) {
			t.Fatalf("still sending after 5s: %d bytes", sent.Load())
		}
	}
	if n := sent.Load(); n >= 32<<20 {
		t.Fatalf("the gateway took %d bytes of a body bounded at 64 KiB", n)
	}
}

// Past MaxInFlight a request is answered 503 with Retry-After at once, as a problem; the
// probes still answer; once the held requests end the gateway takes requests again.
func TestRequestsInFlightAreBounded(t *testing.T) {
	t.Parallel()
	g := newLimitedGateway(t, Deps{MaxInFlight: 4})
	g.audit.hold.Store(true)
	var wg sync.WaitGroup
	statuses := make(chan int, 4)
	for range 4 {
		wg.Go(func() {
			resp, err := http.Get(g.url + limAuditURL)
			if err != nil {
				statuses <- -1
				return
			}
			_ = resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	limEventually(t, func() bool { return g.audit.entered.Load() == 4 })

	resp, body := g.send(t, http.MethodGet, "/openapi.yaml")
	p := limProblem(t, body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" ||
		resp.Header.Get("Content-Type") != "application/problem+json" || !strings.HasSuffix(p.Type, "/overloaded") || p.RequestID == "" {
		t.Fatalf("fifth request: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	for _, probe := range []string{"/healthz", "/readyz"} {
		if resp, body := g.send(t, http.MethodGet, probe); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s while saturated: %d %s", probe, resp.StatusCode, body)
		}
	}
	// The metrics count the refusal under the route it was for, not "unmatched". (The
	// scrape itself takes no slot: it is refused too, so read the registry directly.)
	rec := httptest.NewRecorder()
	g.metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if want := `gateway_http_request_duration_seconds_count{method="GET",route="/openapi.yaml",status="503"} 1`; !strings.Contains(rec.Body.String(), want) {
		t.Fatalf("metrics lack %s", want)
	}

	g.audit.hold.Store(false)
	for range 4 {
		g.audit.release <- struct{}{}
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != http.StatusOK {
			t.Fatalf("a held request ended %d", s)
		}
	}
	if resp, body := g.send(t, http.MethodGet, "/openapi.yaml"); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the load: %d %s", resp.StatusCode, body)
	}
}

// Slow bodies that hold the body budget (each has declared its length and sends nothing
// more) make the next request with a body a 503, while requests without one go on.
func TestBodyBytesInFlightAreBounded(t *testing.T) {
	t.Parallel()
	const bodySize = 60 << 10
	g := newLimitedGateway(t, Deps{MaxBodyBytes: 64 << 10, MaxBodyBytesInFlight: 3 * bodySize})
	slowPut := func() net.Conn {
		c := g.dial(t)
		fmt.Fprintf(c, "PUT /customers/c-1 HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", bodySize)
		return c
	}
	var slow []net.Conn
	for range 3 {
		slow = append(slow, slowPut())
	}
	full := `{"email":"a@example.com","full_name":"` + strings.Repeat("x", bodySize-40) + `"}`
	put := func() int {
		req, _ := http.NewRequest(http.MethodPut, g.url+"/customers/c-2", strings.NewReader(full))
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
		return resp.StatusCode
	}
	limEventually(t, func() bool {
		// On a loaded machine a put can reach the server before a slow body does and take
		// the budget that slow body was to hold: that one is answered 503 at once. It is
		// sent again, so the three slow bodies end up holding the whole budget.
		for i, c := range slow {
			if answered(c) {
				_ = c.Close()
				slow[i] = slowPut()
			}
		}
		return put() == http.StatusServiceUnavailable
	})
	if resp, body := g.send(t, http.MethodGet, "/openapi.yaml"); resp.StatusCode != http.StatusOK {
		t.Fatalf("a request without a body while the bodies' budget is spent: %d %s", resp.StatusCode, body)
	}
	for _, c := range slow {
		_ = c.Close()
	}
	limEventually(t, func() bool { return put() != http.StatusServiceUnavailable })
}

// Past its burst a caller is answered 429 with Retry-After; another X-Forwarded-For does
// not make it another caller; the probes are not limited.
func TestRateLimitPerCaller(t *testing.T) {
	t.Parallel()
	g := newLimitedGateway(t, Deps{RateLimit: RateLimit{Rate: 0.5, Burst: 3}})
	for i := range 3 {
		if resp, body := g.send(t, http.MethodGet, "/openapi.yaml", "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i)); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := g.send(t, http.MethodGet, "/openapi.yaml", "X-Forwarded-For", "198.51.100.7", "Forwarded", "for=198.51.100.7")
	p := limProblem(t, body)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" ||
		!strings.HasSuffix(p.Type, "/rate-limited") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("past the burst: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	for range 5 {
		if resp, _ := g.send(t, http.MethodGet, "/healthz"); resp.StatusCode != http.StatusOK {
			t.Fatalf("/healthz limited: %d", resp.StatusCode)
		}
	}
}

// The key function decides who the caller is; a caller with a key of its own has its
// own budget, and a request with no key counts against its address.
func TestRateLimitKeysByTheKeyFunction(t *testing.T) {
	t.Parallel()
	h := rateLimited(RateLimit{Rate: 0.001, Burst: 1}, func(r *http.Request) string { return r.Header.Get("Caller") }, nil)(
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	status := func(caller, addr string) int {
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		req.RemoteAddr = addr
		if caller != "" {
			req.Header.Set("Caller", caller)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, step := range []struct {
		caller, addr string
		want         int
	}{
		{"alice", "192.0.2.1:1000", 200},
		{"alice", "192.0.2.2:1000", 429}, // the same caller from elsewhere
		{"bob", "192.0.2.1:1000", 200},   // another caller from the same address
		{"", "192.0.2.1:1001", 200},      // no caller: the address's own budget
		{"", "192.0.2.1:1002", 429},
		{"", "[2001:db8::1]:1000", 200},
		{"", "[2001:db8::2]:1000", 429}, // the same /64
	} {
		if got := status(step.caller, step.addr); got != step.want {
			t.Fatalf("caller %q from %s: %d, want %d", step.caller, step.addr, got, step.want)
		}
	}
}

// Many identities cannot grow the limiter past MaxCallers; the callers seen last are the
// ones kept, and a long key costs no more than a short one.
func TestRateLimitRemembersBoundedCallers(t *testing.T) {
	t.Parallel()
	c := newCallerLimits(RateLimit{Rate: 1, Burst: 1, MaxCallers: 100})
	now := time.Now()
	if _, ok := c.take("steady", now); !ok {
		t.Fatal("first request refused")
	}
	for i := range 20_000 {
		c.take(fmt.Sprintf("attacker-%d-%s", i, strings.Repeat("k", i%200)), now)
		if i%50 == 0 {
			c.take("steady", now) // seen again and again: never the least recent
		}
	}
	if n := c.size(); n != 100 {
		t.Fatalf("%d callers remembered, want 100", n)
	}
	if _, ok := c.take("steady", now); ok {
		t.Fatal("the steady caller was forgotten and given a new burst")
	}
	for k := range c.byKey {
		if len(k) > maxKeyBytes {
			t.Fatalf("a key of %d bytes is kept as it is", len(k))
		}
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	for in, want := range map[time.Duration]int{time.Millisecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, 0: 1} {
		if got := retryAfterSeconds(in); got != want {
			t.Errorf("retryAfterSeconds(%v) = %d, want %d", in, got, want)
		}
	}
}

func TestClientIPIgnoresForwardingHeaders(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"127.0.0.1:5":            "127.0.0.1",
		"[::ffff:10.0.0.1]:8080": "10.0.0.1",
		"[2001:db8:1:2:3::9]:1":  "2001:db8:1:2::/64",
		"[fe80::1%eth0]:1":       "fe80::/64",
		"pipe":                   "pipe",
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = addr
		r.Header.Set("X-Forwarded-For", "198.51.100.1")
		r.Header.Set("X-Real-Ip", "198.51.100.2")
		if got := clientIP(r); got != want {
			t.Errorf("clientIP(%s) = %q, want %q", addr, got, want)
		}
	}
}

// limEventually polls cond for up to 20 seconds: on a loaded machine the server can take
// seconds to get to connections it accepted.
// answered reports whether the server has answered (or closed) c, a connection whose
// request is still being sent.
func answered(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
	defer func() { _ = c.SetReadDeadline(time.Now().Add(10 * time.Second)) }()
	var b [1]byte
	n, err := c.Read(b[:])
	var ne net.Error
	return n > 0 || (err != nil && !(errors.As(err, &ne) && ne.Timeout()))
}

func limEventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func limProblem(t *testing.T, body []byte) Problem {
	t.Helper()
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("not a problem: %s", body)
	}
	return p
}

func TestJSONShapeWithin(t *testing.T) {
	t.Parallel()
	many := "[" + strings.Repeat("1,", maxJSONValues) + "1]"
	deep := strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1)
	for body, want := range map[string]bool{
		`{"email":"a@example.com","attributes":{"tier":"gold"},"tags":["a","b"]}`: true,
		`{"note":"` + strings.Repeat(`,[{`, 20_000) + `"}`:                        true,  // inside a string: no values
		`{"note":"a\"` + strings.Repeat(`,`, 20_000) + `"}`:                       true,  // an escaped quote does not end it
		`{"note":"a\\","x":[` + strings.Repeat(`1,`, 20_000) + `1]}`:              false, // an escaped backslash does not escape the quote
		`{"a":` + many + `}`: false,
		deep:                 false,
		strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth): true,
		``: true,
	} {
		if ok, detail := jsonShapeWithin([]byte(body)); ok != want {
			t.Errorf("jsonShapeWithin(%.40q...) = %v (%s), want %v", body, ok, detail, want)
		}
	}
}
