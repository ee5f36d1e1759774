package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// simRequest is one request a simulated vendor received, as its control API lists it.
type simRequest struct {
	Path   string      `json:"path"`
	Header http.Header `json:"header"`
	Status int         `json:"status"`
}

// simRequests is what the sandbox's simulated vendor received, in order.
func simRequests(t *testing.T, g inProcess, vendor string) []simRequest {
	t.Helper()
	resp, err := http.Get(simURL(t, g) + "/_sim/requests/" + vendor)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []simRequest
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// withRequestID is what of reqs carries X-Request-Id id (and only it).
func withRequestID(reqs []simRequest, id string) []simRequest {
	var out []simRequest
	for _, r := range reqs {
		if ids := r.Header.Values("X-Request-Id"); len(ids) == 1 && ids[0] == id {
			out = append(out, r)
		}
	}
	return out
}

// logLine is one JSON log line, as its keys and the values this test reads.
type logLine struct {
	raw           string
	keys          []string
	Message       string `json:"message"`
	Vendor        string `json:"vendor"`
	Status        string `json:"status"`
	RequestID     string `json:"request_id"`
	CustomerID    string `json:"customer_id"`
	Job           *int64 `json:"job"`
	VendorCode    *int   `json:"vendor_code"`
	VendorMessage string `json:"vendor_message"`
	Error         string `json:"error"`
	Reason        string `json:"reason"`
}

// logLines reads every JSON line of logs whose message is msg and whose request_id is id.
func logLines(t *testing.T, logs, msg, id string) []logLine {
	t.Helper()
	var out []logLine
	for _, raw := range strings.Split(logs, "\n") {
		var l logLine
		if json.Unmarshal([]byte(raw), &l) != nil || l.Message != msg || l.RequestID != id {
			continue
		}
		l.raw, l.keys = raw, jsonKeys(t, raw)
		out = append(out, l)
	}
	return out
}

// jsonKeys reads the top-level keys of a JSON object token by token and fails the test when
// one appears twice: encoding/json would quietly keep the last.
func jsonKeys(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", line)
	}
	var keys []string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%v in %s", err, line)
		}
		key := tok.(string)
		if seen[key] {
			t.Errorf("key %q appears twice in one log line: %s", key, line)
		}
		seen[key] = true
		keys = append(keys, key)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("%v in %s", err, line)
		}
	}
	if _, err := dec.Token(); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("%v in %s", err, line)
	}
	return keys
}

// deliveryCount matches one gateway_vendor_delivery_duration_seconds count in /metrics.
var deliveryCount = regexp.MustCompile(`(?m)^gateway_vendor_delivery_duration_seconds_count\{status="([^"]*)",vendor="([^"]*)"\} (\d+)$`)

// deliveryCounts reads gateway_vendor_delivery_duration_seconds from /metrics: how many
// deliveries each vendor and status label counted.
func deliveryCounts(t *testing.T, g inProcess) map[[2]string]uint64 {
	t.Helper()
	status, _, body := g.do(t, http.MethodGet, "/metrics", "")
	if status != http.StatusOK {
		t.Fatalf("/metrics: %d", status)
	}
	out := map[[2]string]uint64{}
	for _, m := range deliveryCount.FindAllStringSubmatch(string(body), -1) {
		n, err := strconv.ParseUint(m[3], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out[[2]string{m[2], m[1]}] = n
	}
	if !strings.Contains(string(body), "gateway_vendor_delivery_duration_seconds") {
		t.Fatalf("/metrics has no gateway_vendor_delivery_duration_seconds:\n%s", body)
	}
	return out
}

// Every call to every vendor carries the X-Request-Id of the request it serves: the
// deliveries, EngageLab's register call, HappyTalk's history read, and a queued delivery's
// background attempts (the id of the update that queued it).
func TestVendorCallsCarryTheRequestID(t *testing.T) {
	t.Parallel()
	g := startInProcess(t, map[string]string{"GATEWAY_QUEUE_BACKOFF": "50ms", "GATEWAY_QUEUE_POLL_INTERVAL": "20ms", "GATEWAY_RETRY_ATTEMPTS": "1"}, "--sandbox")

	ex := readmeFirstExample(t)
	if status, _, body := g.do(t, http.MethodPut, ex.path, ex.body, "X-Request-Id", "rid-direct-1"); status != http.StatusOK {
		t.Fatalf("README example: %d %s", status, body)
	}
	for _, v := range []string{"happytalk", "ladiflow", "engagelab"} {
		if got := withRequestID(simRequests(t, g, v), "rid-direct-1"); len(got) != 1 {
			t.Errorf("%s received %d calls with X-Request-Id rid-direct-1, want 1: %+v", v, len(got), simRequests(t, g, v))
		}
	}

	// No euid known: EngageLab's register call, then the contact update.
	body := `{"email":"a@example.com","vendors":["engagelab"]}`
	if status, _, reply := g.do(t, http.MethodPut, "/customers/c-reg", body, "X-Request-Id", "rid-register-1"); status != http.StatusOK {
		t.Fatalf("email only: %d %s", status, reply)
	}
	paths := map[string]bool{}
	for _, r := range withRequestID(simRequests(t, g, "engagelab"), "rid-register-1") {
		paths[r.Path] = true
	}
	if !paths["/v1/user/register"] || !paths["/v1/user/contact"] {
		t.Errorf("EngageLab's calls with X-Request-Id rid-register-1 were to %v, want register and contact", paths)
	}

	day := "from=2024-03-01T00:00:00%2B09:00&to=2024-03-02T00:00:00%2B09:00&source=happytalk"
	if status, _, reply := g.do(t, http.MethodGet, "/audit-history?"+day, "", "X-Request-Id", "rid-audit-1"); status != http.StatusOK {
		t.Fatalf("audit history: %d %s", status, reply)
	}
	if got := withRequestID(simRequests(t, g, "happytalk"), "rid-audit-1"); len(got) == 0 || got[0].Path != "/user/api/service_history/format/json" {
		t.Errorf("HappyTalk's history calls with X-Request-Id rid-audit-1: %+v", got)
	}

	fault(t, g, "ladiflow", `{"mode":"http500","count":-1}`)
	queuedBody := `{"email":"a@example.com","vendor_refs":{"ladiflow":{"id":"lf-q"}},"vendors":["ladiflow"]}`
	if status, _, reply := g.do(t, http.MethodPut, "/customers/c-queued", queuedBody, "X-Request-Id", "rid-queued-1"); status != http.StatusAccepted {
		t.Fatalf("LadiFlow down: %d %s", status, reply)
	}
	waitUntil(t, 20*time.Second, "no background attempt carried the queuing update's request id", func() bool {
		return len(withRequestID(simRequests(t, g, "ladiflow"), "rid-queued-1")) >= 2 // the request's, then the queue's
	})
	fault(t, g, "", "")
}

// The log lines of a queued delivery: each key once in each line (the worker and the
// fan-out both named the vendor), the request id of the update that queued it and the
// customer on the worker's lines, and the vendor's code and message and the error on every
// failed delivery's. The metrics count what the caller was answered: queued, not failed.
func TestQueuedDeliveryLogsAndMetrics(t *testing.T) {
	t.Parallel()
	g := startInProcess(t, map[string]string{"GATEWAY_QUEUE_BACKOFF": "50ms", "GATEWAY_QUEUE_MAX_BACKOFF": "100ms", "GATEWAY_QUEUE_POLL_INTERVAL": "20ms", "GATEWAY_RETRY_ATTEMPTS": "1"}, "--sandbox")
	fault(t, g, "ladiflow", `{"mode":"http500","count":-1}`)
	body := `{"email":"a@example.com","vendor_refs":{"ladiflow":{"id":"lf-7"}},"vendors":["ladiflow"]}`
	status, _, reply := g.do(t, http.MethodPut, "/customers/c-7", body, "X-Request-Id", "rid-7")
	if res := result(t, status, reply, http.StatusAccepted); res.Results["ladiflow"].Status != "queued" {
		t.Fatalf("want LadiFlow queued: %s", reply)
	}

	// The request's own failed attempt: the line without the worker's job.
	var direct []logLine
	for _, l := range logLines(t, g.logs.String(), "vendor delivery", "rid-7") {
		if l.Job == nil {
			direct = append(direct, l)
		}
	}
	if len(direct) != 1 || direct[0].Status != "failed" || direct[0].Vendor != "ladiflow" || direct[0].Job != nil {
		t.Fatalf("the request's delivery lines: %+v", direct)
	}
	checkFailureLogged(t, direct[0])

	// The worker's failed attempts, then its delivery once LadiFlow is back.
	waitUntil(t, 20*time.Second, "the worker logged no failed attempt", func() bool {
		return len(logLines(t, g.logs.String(), "queued delivery failed; will retry", "rid-7")) > 0
	})
	fault(t, g, "", "")
	waitUntil(t, 20*time.Second, "the worker did not log its delivery", func() bool {
		for _, l := range logLines(t, g.logs.String(), "vendor delivery", "rid-7") {
			if l.Status == "ok" {
				return true
			}
		}
		return false
	})
	logs := g.logs.String()
	var worker []logLine
	for _, msg := range []string{"vendor delivery", "queued delivery failed; will retry"} {
		for _, l := range logLines(t, logs, msg, "rid-7") {
			if l.Job != nil {
				worker = append(worker, l)
			}
		}
	}
	sawRetry := false
	for _, l := range worker {
		if l.CustomerID != "c-7" || l.Vendor != "ladiflow" {
			t.Errorf("a worker line without its customer or vendor: %s", l.raw)
		}
		if l.Status == "failed" {
			checkFailureLogged(t, l)
			sawRetry = sawRetry || l.Message == "queued delivery failed; will retry"
		}
	}
	if !sawRetry {
		t.Errorf("no worker line says a failed attempt will be retried:\n%s", logs)
	}

	counts := deliveryCounts(t, g)
	if n := counts[[2]string{"ladiflow", "failed"}]; n != 0 {
		t.Errorf(`%d LadiFlow deliveries counted status="failed"; every one was queued and then delivered (%v)`, n, counts)
	}
	if counts[[2]string{"ladiflow", "queued"}] < 2 || counts[[2]string{"ladiflow", "ok"}] != 1 {
		t.Errorf(`want the request's and the worker's failed attempts counted status="queued", the delivery status="ok": %v`, counts)
	}
}

// checkFailureLogged wants a failed LadiFlow delivery's line to say the vendor's answer,
// and the delivery's own line (the fan-out's) the error too.
func checkFailureLogged(t *testing.T, l logLine) {
	t.Helper()
	if l.VendorCode == nil || *l.VendorCode != http.StatusInternalServerError || l.VendorMessage == "" {
		t.Errorf("a failed delivery's line lacks the vendor's code or message: %s", l.raw)
	}
	if l.Message == "vendor delivery" && !strings.Contains(l.Error, fmt.Sprint(http.StatusInternalServerError)) {
		t.Errorf("a failed delivery's line lacks the error: %s", l.raw)
	}
}
