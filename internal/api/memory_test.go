package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/audit"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendorsim"
)

// Refs sent once reach the same vendor records on later updates that omit them.
func TestStoreRemembersRefs(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{store: true})
	status, _, body := g.do(http.MethodPut, "/customers/c-7", `{"email":"a@example.com",
		"vendor_refs":{"happytalk":{"uuid":"u-7","room_id":"r-7"},"ladiflow":{"id":"lf-7"}}}`)
	if status != http.StatusOK {
		t.Fatalf("first update %d: %s", status, body)
	}
	status, _, body = g.do(http.MethodPut, "/customers/c-7", `{"email":"b@example.com","vendors":["happytalk","ladiflow"]}`)
	if status != http.StatusOK {
		t.Fatalf("second update %d: %s", status, body)
	}
	if got := lastBody(t, g.sim, ladiFlow); got["_id"] != "lf-7" || got["email"] != "b@example.com" {
		t.Fatalf("LadiFlow got %v", got)
	}
	if got := lastBody(t, g.sim, happyTalk); got["uuid"] != "u-7" || got["room_id"] != "r-7" {
		t.Fatalf("HappyTalk got %v", got)
	}
	// Another customer does not see c-7's refs.
	status, _, _ = g.do(http.MethodPut, "/customers/c-8", `{"email":"b@example.com","vendors":["ladiflow"]}`)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("c-8 has no refs: want 422, got %d", status)
	}
}

// With no euid known, the gateway asks EngageLab's register call once and remembers it.
func TestStoreResolvesEngageLabEUID(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{store: true})
	for i := range 2 {
		status, _, body := g.do(http.MethodPut, "/customers/c-9", `{"email":"a@example.com","vendors":["engagelab"]}`)
		if status != http.StatusOK {
			t.Fatalf("update %d: %d %s", i, status, body)
		}
	}
	var registers, contacts int
	for _, r := range g.sim.Received(engageLab) {
		switch r.Path {
		case "/v1/user/register":
			registers++
			if !strings.Contains(string(r.Body), `"c-9"`) {
				t.Fatalf("register body %s", r.Body)
			}
		case "/v1/user/contact":
			contacts++
		}
	}
	if registers != 1 || contacts != 2 {
		t.Fatalf("register called %d times, contact %d: want 1 and 2", registers, contacts)
	}
	euid, ok := g.el.EUID("user_id", "c-9")
	if !ok {
		t.Fatal("simulator issued no euid")
	}
	if got := lastBody(t, g.sim, engageLab)["euid"]; got != json.Number(itoa(euid)) {
		t.Fatalf("contact sent euid %v, want %d", got, euid)
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// A dry run sends nothing, not even EngageLab's register call, and remembers nothing.
func TestStoreDryRunRemembersNothing(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{store: true})
	g.do(http.MethodPut, "/customers/c-10?dry_run=true", `{"email":"a@example.com","vendor_refs":{"ladiflow":{"id":"lf"}}}`)
	if g.received() != 0 {
		t.Fatal("dry run reached a vendor")
	}
	status, _, _ := g.do(http.MethodPut, "/customers/c-10", `{"email":"a@example.com","vendors":["ladiflow"]}`)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("a dry run stored refs: got %d", status)
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{store: true})
	body := `{"email":"a@example.com","vendor_refs":{"ladiflow":{"id":"lf"}}}`
	s1, _, b1 := g.do(http.MethodPut, "/customers/c-11", body, "Idempotency-Key", "k-1")
	s2, h2, b2 := g.do(http.MethodPut, "/customers/c-11", body, "Idempotency-Key", "k-1")
	if s1 != http.StatusOK || s2 != s1 || string(b1) != string(b2) || h2.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s / %d %s", s1, b1, s2, b2)
	}
	if n := len(g.sim.Received(ladiFlow)); n != 1 {
		t.Fatalf("LadiFlow received %d calls, want 1", n)
	}
	s3, _, b3 := g.do(http.MethodPut, "/customers/c-11", `{"email":"other@example.com","vendor_refs":{"ladiflow":{"id":"lf"}}}`, "Idempotency-Key", "k-1")
	if s3 != http.StatusUnprocessableEntity || !strings.Contains(string(b3), "Idempotency-Key") {
		t.Fatalf("same key, other body: %d %s", s3, b3)
	}
	if n := len(g.sim.Received(ladiFlow)); n != 1 {
		t.Fatalf("a refused key reached LadiFlow (%d calls)", n)
	}
	// A 422 is kept too, and replayed as the problem it was.
	bad := `{"phone":"123","vendor_refs":{"ladiflow":{"id":"lf"}}}`
	s4, _, _ := g.do(http.MethodPut, "/customers/c-11", bad, "Idempotency-Key", "k-2")
	s5, h5, _ := g.do(http.MethodPut, "/customers/c-11", bad, "Idempotency-Key", "k-2")
	if s4 != http.StatusUnprocessableEntity || s5 != s4 || h5.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("replayed 422: %d then %d %q", s4, s5, h5.Get("Content-Type"))
	}
}

// Each handled update is a gateway event: field names, never values; each vendor's status.
func TestGatewayAuditEvents(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{store: true})
	from := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	g.do(http.MethodPut, "/customers/c-12", `{"email":"secret@example.com","phone":"010-1234-5678","vendor_refs":{"ladiflow":{"id":"lf"}}}`)
	g.do(http.MethodPut, "/customers/c-13", `{"email":"x@example.com","vendor_refs":{"ladiflow":{"id":"lf2"}}}`)
	to := time.Now().UTC().Add(time.Minute).Format(time.RFC3339)
	status, _, body := g.do(http.MethodGet, auditPath(map[string]string{"from": from, "to": to, "source": "gateway", "customer_id": "c-12"}), "")
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var p audit.Page
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Events) != 1 {
		t.Fatalf("want one event for c-12, got %s", body)
	}
	e := p.Events[0]
	if e.Source != model.SourceGateway || e.Kind != model.KindCustomerUpdate || e.CustomerID != "c-12" || e.Result != "ok" {
		t.Fatalf("event %+v", e)
	}
	if strings.Contains(string(body), "secret@example.com") || strings.Contains(string(body), "1234") {
		t.Fatalf("event carries values: %s", body)
	}
	for _, want := range []string{`"email"`, `"phone"`, `"vendor_refs"`, `"ladiflow":"ok"`, `"vendor_refs.ladiflow.id"`} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("event lacks %s: %s", want, body)
		}
	}
}

// /readyz asks the store: a replica that cannot remember does not take updates.
func TestReadyzPingsTheStore(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{store: true})
	if status, _, _ := g.do(http.MethodGet, "/readyz", ""); status != http.StatusOK {
		t.Fatalf("readyz %d with a live store", status)
	}
	if err := g.store.Close(); err != nil {
		t.Fatal(err)
	}
	if status, _, body := g.do(http.MethodGet, "/readyz", ""); status != http.StatusServiceUnavailable {
		t.Fatalf("readyz %d with a closed store: %s", status, body)
	}
}

// An update that sends no refs records no ref change and names only what it sent, even when
// the store filled refs in.
func TestGatewayEventNamesOnlyWhatWasSent(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{store: true})
	g.do(http.MethodPut, "/customers/c-20", `{"email":"a@example.com","vendor_refs":{"ladiflow":{"id":"lf"}}}`)
	from := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	g.do(http.MethodPut, "/customers/c-20", `{"email":"b@example.com","vendors":["ladiflow"]}`)
	to := time.Now().UTC().Add(time.Minute).Format(time.RFC3339)
	_, _, body := g.do(http.MethodGet, auditPath(map[string]string{"from": from, "to": to, "source": "gateway", "order": "asc"}), "")
	var p audit.Page
	if err := json.Unmarshal(body, &p); err != nil || len(p.Events) == 0 {
		t.Fatalf("%v %s", err, body)
	}
	last := p.Events[len(p.Events)-1]
	fields, _ := json.Marshal(last.Details["fields"])
	changed, _ := json.Marshal(last.Details["refs_changed"])
	if string(fields) != `["email","vendors"]` || string(changed) != `[]` {
		t.Fatalf("fields %s, refs_changed %s", fields, changed)
	}
}

// The event is recorded even when a slow vendor used up the request's deadline.
func TestGatewayEventSurvivesTheDeadline(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{store: true, deadline: 200 * time.Millisecond})
	g.sim.SetFault(ladiFlow, vendorsim.Fault{Latency: 2 * time.Second, Count: -1})
	from := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	status, _, _ := g.do(http.MethodPut, "/customers/c-21", `{"email":"a@example.com","vendors":["ladiflow"],"vendor_refs":{"ladiflow":{"id":"lf"}}}`)
	if status != http.StatusBadGateway {
		t.Fatalf("status %d", status)
	}
	to := time.Now().UTC().Add(time.Minute).Format(time.RFC3339)
	_, _, body := g.do(http.MethodGet, auditPath(map[string]string{"from": from, "to": to, "source": "gateway", "customer_id": "c-21"}), "")
	if !strings.Contains(string(body), `"ladiflow":"failed"`) {
		t.Fatalf("no event for the failed update: %s", body)
	}
}

// EngageLab's register failing is EngageLab's failure (502), not the caller's 422, and an
// Idempotency-Key is released so the retry asks again. The register call has the same
// retries as every EngageLab call, so the fault outlasts the request's three attempts.
func TestEUIDResolutionFailureIs502AndRetryable(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{store: true})
	g.sim.SetFault(engageLab, vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: 3})
	body := `{"email":"a@example.com","vendors":["engagelab"]}`
	status, _, b := g.do(http.MethodPut, "/customers/c-22", body, "Idempotency-Key", "k-e")
	if status != http.StatusBadGateway || !strings.Contains(string(b), "engagelab") {
		t.Fatalf("first: %d %s", status, b)
	}
	status, hdr, b := g.do(http.MethodPut, "/customers/c-22", body, "Idempotency-Key", "k-e")
	if status != http.StatusOK || hdr.Get("Idempotent-Replayed") != "" {
		t.Fatalf("retry: %d %s", status, b)
	}
}

// An update refused with 422 sent nothing, and the audit trail says so: the fields it
// carried and what the refusal named, never a value. A refused dry run records nothing.
func TestRefusedUpdateIsRecorded(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{store: true})
	from := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	refused := `{"email":"secret@example.com","phone":"1234","vendors":["ladiflow"]}`
	if status, _, body := g.do(http.MethodPut, "/customers/c-30?dry_run=true", refused); status != http.StatusUnprocessableEntity {
		t.Fatalf("dry run: %d %s", status, body)
	}
	if status, _, body := g.do(http.MethodPut, "/customers/c-30", refused); status != http.StatusUnprocessableEntity {
		t.Fatalf("update: %d %s", status, body)
	}
	to := time.Now().UTC().Add(time.Minute).Format(time.RFC3339)
	_, _, body := g.do(http.MethodGet, auditPath(map[string]string{"from": from, "to": to, "source": "gateway", "customer_id": "c-30"}), "")
	var p audit.Page
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Events) != 1 || p.Events[0].Result != "undeliverable" || !strings.Contains(string(body), `{"field":"phone","vendor":""}`) {
		t.Fatalf("want one undeliverable event naming phone: %s", body)
	}
	if strings.Contains(string(body), "secret@example.com") || strings.Contains(string(body), `"1234"`) {
		t.Fatalf("event carries values: %s", body)
	}
	if g.received() != 0 {
		t.Fatal("a refused update reached a vendor")
	}
}
