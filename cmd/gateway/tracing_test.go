package main

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/customergateway/gateway/internal/vendors/ladiflow"
	"github.com/customergateway/gateway/internal/vendorsim"
)

// otlpReceiver is an OTLP/HTTP traces endpoint that keeps every span it is sent.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if err != nil || r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
		http.Error(w, "not an OTLP traces export", http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			o.spans = append(o.spans, ss.Spans...)
		}
	}
	o.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(nil)
}

// find answers the spans that match.
func (o *otlpReceiver) find(match func(*tracepb.Span) bool) []*tracepb.Span {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []*tracepb.Span
	for _, s := range o.spans {
		if match(s) {
			out = append(out, s)
		}
	}
	return out
}

// attr is the span's attribute key as text ("" when absent).
func attr(s *tracepb.Span, key string) string {
	for _, kv := range s.Attributes {
		if kv.Key != key {
			continue
		}
		if _, ok := kv.Value.Value.(*commonpb.AnyValue_IntValue); ok {
			return strconv.FormatInt(kv.Value.GetIntValue(), 10)
		}
		return kv.Value.GetStringValue()
	}
	return ""
}

// With an OTLP endpoint, a request continues the caller's traceparent: its server span,
// each vendor attempt (vendor, attempt, status, retry reason) and the store's transactions
// are in the caller's trace, the vendor receives the trace context, log lines and
// problems carry the trace id, and the delivery queued after the failed attempt is a trace
// of its own linked to the request's.
//
// Not parallel: the tracer provider is the process's (OpenTelemetry's global), so the
// in-process gateways of the parallel tests, which run only after this one, would
// otherwise export their spans (their own queued deliveries, unlinked) to this receiver.
func TestTracesFollowARequestToTheVendorsAndTheQueue(t *testing.T) {
	rc := &otlpReceiver{}
	otlp := httptest.NewServer(rc)
	t.Cleanup(otlp.Close)
	v := startVendors(t)
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": otlp.URL, "OTEL_BSP_SCHEDULE_DELAY": "50", "OTEL_SERVICE_NAME": "gateway-under-test"}
	for _, kv := range v.env {
		k, val, _ := strings.Cut(kv, "=")
		env[k] = val
	}
	g := startInProcess(t, env)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	parent := "00-" + traceID + "-00f067aa0ba902b7-01"

	v.sim.SetFault(ladiflow.Name, vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: 1})
	status, _, body := g.do(t, http.MethodPut, "/customers/c-1", `{"email":"a@example.com","vendors":["ladiflow"],"vendor_refs":{"ladiflow":{"id":"lf-1"}}}`, "traceparent", parent)
	if status != http.StatusAccepted {
		t.Fatalf("PUT: %d %s", status, body)
	}
	status, _, body = g.do(t, http.MethodPut, "/customers/c-1", `{"email":"not an email"}`, "traceparent", parent)
	if status != http.StatusBadRequest || !strings.Contains(string(body), `"trace_id":"`+traceID+`"`) {
		t.Fatalf("the problem does not carry the trace id: %d %s", status, body)
	}
	if !strings.Contains(g.logs.String(), `"trace_id":"`+traceID+`"`) {
		t.Fatalf("no log line carries the trace id:\n%s", g.logs)
	}

	inTrace := func(s *tracepb.Span) bool { return hex.EncodeToString(s.TraceId) == traceID }
	var queued []*tracepb.Span
	waitUntil(t, 20*time.Second, "the spans of the request and of its queued delivery", func() bool {
		queued = rc.find(func(s *tracepb.Span) bool { return strings.HasPrefix(s.Name, "queued delivery") })
		return len(rc.find(inTrace)) >= 3 && len(queued) >= 1
	})
	if srv := rc.find(func(s *tracepb.Span) bool { return inTrace(s) && s.Name == "PUT /customers/{customer_id}" }); len(srv) != 2 {
		t.Errorf("%d server spans named by the route in the caller's trace, want 2", len(srv))
	}
	attempt := rc.find(func(s *tracepb.Span) bool { return inTrace(s) && s.Name == "vendor ladiflow" })
	if len(attempt) != 1 || attr(attempt[0], "vendor") != "ladiflow" || attr(attempt[0], "attempt") != "1" || attr(attempt[0], "status") != "failed" || attr(attempt[0], "retry.reason") == "" {
		t.Fatalf("the request's vendor attempt: %v", attempt)
	}
	if tx := rc.find(func(s *tracepb.Span) bool { return inTrace(s) && s.Name == "store transaction" }); len(tx) == 0 {
		t.Error("no store transaction span in the caller's trace")
	}
	q := queued[0]
	if len(q.Links) != 1 || hex.EncodeToString(q.Links[0].TraceId) != traceID || inTrace(q) {
		t.Fatalf("the queued delivery's span is not a trace of its own linked to the request's: %v", q)
	}
	waitUntil(t, 20*time.Second, "the queued attempt's span", func() bool {
		return len(rc.find(func(s *tracepb.Span) bool {
			return s.Name == "vendor ladiflow" && string(s.TraceId) == string(q.TraceId) && string(s.ParentSpanId) == string(q.SpanId) && attr(s, "status") == "ok"
		})) == 1
	})
	var sawRequest, sawQueued bool
	for _, r := range v.sim.Received(ladiflow.Name) {
		tp := r.Header.Get("traceparent")
		sawRequest = sawRequest || strings.Contains(tp, traceID)
		sawQueued = sawQueued || strings.Contains(tp, hex.EncodeToString(q.TraceId))
	}
	if !sawRequest || !sawQueued {
		t.Fatalf("LadiFlow did not receive both trace contexts (request %v, queued %v)", sawRequest, sawQueued)
	}
}
