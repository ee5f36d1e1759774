package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/queue"
	"github.com/customergateway/gateway/internal/vendorsim"
	"github.com/customergateway/gateway/internal/webhook"
)

const followBody = `{"email":"kim@example.com","full_name":"Kim Minji",
	"vendor_refs":{"happytalk":{"uuid":"u-1","room_id":"r-1"},"ladiflow":{"id":"lf-1"}}}`

func decodeRecord(t *testing.T, body []byte) model.UpdateRecord {
	t.Helper()
	var u model.UpdateRecord
	if err := json.Unmarshal(body, &u); err != nil {
		t.Fatalf("not an update record: %v\n%s", err, body)
	}
	return u
}

// updateOf reads GET /updates/{id}.
func (g *testGateway) updateOf(t *testing.T, id string) model.UpdateRecord {
	t.Helper()
	status, _, body := g.do(http.MethodGet, "/updates/"+id, "")
	if status != http.StatusOK {
		t.Fatalf("GET /updates/%s: %d %s", id, status, body)
	}
	return decodeRecord(t, body)
}

// An update answered 202 names itself (update_id, Location), and GET /updates follows it
// from queued to ok as the queued delivery ends; GET /customers shows who has what, by
// name and never by value.
func TestUpdateFollowedFromQueuedToOK(t *testing.T) {
	t.Parallel()
	forEachQueueEngine(t, func(t *testing.T, g *testGateway) {
		g.sim.SetFault(ladiFlow, vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: -1})
		status, hdr, body := g.do(http.MethodPut, "/customers/c-1", followBody)
		res := decodeResult(t, body)
		if status != http.StatusAccepted || res.UpdateID == "" || hdr.Get("Location") != "/updates/"+res.UpdateID {
			t.Fatalf("%d Location %q: %s", status, hdr.Get("Location"), body)
		}
		u := g.updateOf(t, res.UpdateID)
		if u.Outcome != model.OutcomeQueued || u.Results[ladiFlow].Status != model.StatusQueued || u.Results[happyTalk].DeliveredAt == nil || u.CustomerID != "c-1" || u.ReceivedAt.IsZero() {
			t.Fatalf("while queued: %+v", u)
		}
		status, _, body = g.do(http.MethodGet, "/customers/c-1", "")
		if status != http.StatusOK || strings.Contains(string(body), "kim@example.com") || strings.Contains(string(body), "Kim Minji") {
			t.Fatalf("GET /customers: %d %s", status, body)
		}
		var c model.CustomerView
		if err := json.Unmarshal(body, &c); err != nil {
			t.Fatal(err)
		}
		if ht := c.Vendors[happyTalk]; ht.LastUpdateID != res.UpdateID || ht.Pending || !strings.Contains(strings.Join(ht.Fields, ","), "email") {
			t.Fatalf("happytalk in the customer view: %+v", ht)
		}
		if lf := c.Vendors[ladiFlow]; !lf.Pending || lf.LastUpdateID != "" {
			t.Fatalf("ladiflow in the customer view: %+v", lf)
		}
		if c.VendorRefs[ladiFlow].String("id") != "lf-1" {
			t.Fatalf("refs: %+v", c.VendorRefs)
		}

		g.sim.SetFault(ladiFlow, vendorsim.Fault{})
		waitFor(t, 20*time.Second, "GET /updates never showed the queued delivery ok", func() bool {
			u = g.updateOf(t, res.UpdateID)
			return u.Outcome == model.OutcomeOK
		}, func() string { return u.Results[ladiFlow].Reason })
		if lf := u.Results[ladiFlow]; lf.Status != model.StatusOK || lf.DeliveredAt == nil || lf.Attempts < 1 || lf.QueuedUntil != nil {
			t.Fatalf("the ended delivery: %+v", lf)
		}
		_, _, body = g.do(http.MethodGet, "/customers/c-1", "")
		if err := json.Unmarshal(body, &c); err != nil {
			t.Fatal(err)
		}
		if lf := c.Vendors[ladiFlow]; lf.Pending || lf.LastUpdateID != res.UpdateID || lf.LastDeliveredAt == nil {
			t.Fatalf("ladiflow after the delivery: %+v", lf)
		}
	})
}

// What the gateway never saw is a 404 problem; a dry run names no update; an update
// refused with 422 is recorded and followable, naming the fields refused without values.
func TestFollowRefusalsAndUnknowns(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{queue: true})
	for _, path := range []string{"/updates/0193a2b4-0000-7000-8000-000000000000", "/customers/never-seen"} {
		status, hdr, body := g.do(http.MethodGet, path, "")
		if status != http.StatusNotFound || hdr.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s: %d %s", path, status, body)
		}
	}
	status, hdr, body := g.do(http.MethodPut, "/customers/c-1?dry_run=true", followBody)
	if status != http.StatusOK || hdr.Get("Location") != "" || strings.Contains(string(body), "update_id") {
		t.Fatalf("a dry run: %d Location %q %s", status, hdr.Get("Location"), body)
	}
	status, hdr, body = g.do(http.MethodPut, "/customers/c-2", `{"phone":"12345","vendors":["ladiflow"],"vendor_refs":{"ladiflow":{"id":"lf-2"}}}`)
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil || status != http.StatusUnprocessableEntity || p.UpdateID == "" || hdr.Get("Location") != "/updates/"+p.UpdateID {
		t.Fatalf("a 422: %d Location %q %s", status, hdr.Get("Location"), body)
	}
	u := g.updateOf(t, p.UpdateID)
	if u.Outcome != model.OutcomeUndeliverable || len(u.Refused) == 0 || u.Refused[0].Field != "phone" {
		t.Fatalf("the refused update: %+v", u)
	}
	if _, _, body = g.do(http.MethodGet, "/updates/"+p.UpdateID, ""); strings.Contains(string(body), "12345") {
		t.Fatalf("the refused update shows the value refused: %s", body)
	}
}

// An Idempotency-Key replay names the same update, in its body and its Location.
func TestReplayNamesTheSameUpdate(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{queue: true})
	_, first, b1 := g.do(http.MethodPut, "/customers/c-1", followBody, "Idempotency-Key", "k-1")
	_, again, b2 := g.do(http.MethodPut, "/customers/c-1", followBody, "Idempotency-Key", "k-1")
	if again.Get("Idempotent-Replayed") != "true" || first.Get("Location") == "" || again.Get("Location") != first.Get("Location") ||
		decodeResult(t, b1).UpdateID != decodeResult(t, b2).UpdateID {
		t.Fatalf("first %v %s\nreplay %v %s", first, b1, again, b2)
	}
}

// Without a store the answer still names the update, and GET /updates says nothing is kept.
func TestFollowWithoutAStore(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	status, hdr, body := g.do(http.MethodPut, "/customers/c-1", followBody)
	id := decodeResult(t, body).UpdateID
	if status != http.StatusOK || id == "" || hdr.Get("Location") != "/updates/"+id {
		t.Fatalf("%d %v %s", status, hdr, body)
	}
	status, _, body = g.do(http.MethodGet, "/updates/"+id, "")
	if status != http.StatusNotFound || !strings.Contains(string(body), "GATEWAY_DATABASE_URL=none") {
		t.Fatalf("GET /updates without a store: %d %s", status, body)
	}
	status, _, body = g.do(http.MethodGet, "/deliveries", "")
	if status != http.StatusOK || !strings.Contains(string(body), `"deliveries":[]`) {
		t.Fatalf("GET /deliveries without a store: %d %s", status, body)
	}
}

// A delivery that ended failed is listed, sent again by an operator once the vendor is
// back, and its update follows it to ok; a waiting one is given up and shows cancelled.
func TestDeliveriesRetriedAndCancelled(t *testing.T) {
	t.Parallel()
	opts := gatewayOptions{queueConfig: func(c *queue.Config) { c.MaxAge = 300 * time.Millisecond }}
	forEachQueueEngineWith(t, opts, func(t *testing.T, g *testGateway) {
		g.sim.SetFault(ladiFlow, vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: -1})
		_, _, body := g.do(http.MethodPut, "/customers/c-1", followBody)
		id := decodeResult(t, body).UpdateID
		var page deliveryPage
		waitFor(t, 20*time.Second, "the delivery never ended failed", func() bool {
			_, _, body = g.do(http.MethodGet, "/deliveries?status=failed&vendor=ladiflow", "")
			page = deliveryPage{}
			return json.Unmarshal(body, &page) == nil && len(page.Deliveries) == 1
		}, func() string { return string(body) })
		d := page.Deliveries[0]
		if d.UpdateID != id || d.CustomerID != "c-1" || !d.Retryable || d.EndedAt == nil || d.Error == "" {
			t.Fatalf("the failed delivery: %+v", d)
		}
		if u := g.updateOf(t, id); u.Results[ladiFlow].Status != model.StatusFailed || u.Outcome != model.OutcomePartial {
			t.Fatalf("the update of a failed delivery: %+v", u)
		}
		if status, _, body := g.do(http.MethodDelete, "/deliveries/"+d.DeliveryID, ""); status != http.StatusConflict {
			t.Fatalf("cancelling an ended delivery: %d %s", status, body)
		}

		g.sim.SetFault(ladiFlow, vendorsim.Fault{})
		status, _, body := g.do(http.MethodPost, "/deliveries/"+d.DeliveryID+"/retry", "")
		if status != http.StatusAccepted || !strings.Contains(string(body), `"status":"queued"`) {
			t.Fatalf("retry: %d %s", status, body)
		}
		waitFor(t, 20*time.Second, "the retried delivery's update never showed ok", func() bool {
			return g.updateOf(t, id).Outcome == model.OutcomeOK
		})
		if ladiFlowEmail(g, "lf-1") != "kim@example.com" {
			t.Fatal("LadiFlow did not get the retried update")
		}
		if status, _, _ := g.do(http.MethodPost, "/deliveries/"+d.DeliveryID+"/retry", ""); status != http.StatusNotFound {
			t.Fatalf("a delivery that ended ok is no longer kept: %d", status)
		}
	})
}

// A waiting delivery given up leaves the queue and shows cancelled on its update; it can
// be sent again while its fields are kept.
func TestDeliveryCancelled(t *testing.T) {
	t.Parallel()
	forEachQueueEngine(t, func(t *testing.T, g *testGateway) {
		g.sim.SetFault(ladiFlow, vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: -1})
		_, _, body := g.do(http.MethodPut, "/customers/c-1", `{"email":"two@example.com","vendors":["ladiflow"],"vendor_refs":{"ladiflow":{"id":"lf-1"}}}`)
		id := decodeResult(t, body).UpdateID
		_, _, body = g.do(http.MethodGet, "/deliveries?status=queued&customer_id=c-1", "")
		var page deliveryPage
		if err := json.Unmarshal(body, &page); err != nil || len(page.Deliveries) != 1 {
			t.Fatalf("waiting deliveries: %s", body)
		}
		d := page.Deliveries[0]
		status, _, body := g.do(http.MethodDelete, "/deliveries/"+d.DeliveryID, "")
		if status != http.StatusOK || !strings.Contains(string(body), `"status":"cancelled"`) {
			t.Fatalf("cancel: %d %s", status, body)
		}
		if u := g.updateOf(t, id); u.Results[ladiFlow].Status != model.StatusCancelled || u.Outcome != model.OutcomeFailed {
			t.Fatalf("the cancelled delivery's update: %+v", u)
		}
		if status, _, body := g.do(http.MethodDelete, "/deliveries/"+d.DeliveryID, ""); status != http.StatusConflict {
			t.Fatalf("cancelling it again: %d %s", status, body)
		}
		g.sim.SetFault(ladiFlow, vendorsim.Fault{})
		if status, _, body := g.do(http.MethodPost, "/deliveries/"+d.DeliveryID+"/retry", ""); status != http.StatusAccepted {
			t.Fatalf("retrying the cancelled delivery: %d %s", status, body)
		}
		waitFor(t, 20*time.Second, "the cancelled-then-retried delivery never reached LadiFlow", func() bool { return ladiFlowEmail(g, "lf-1") == "two@example.com" })
		if status, _, _ := g.do(http.MethodPost, "/deliveries/no-such-delivery/retry", ""); status != http.StatusNotFound {
			t.Fatalf("an unknown delivery: %d", status)
		}
	})
}

// receiver is a webhook endpoint that verifies every webhook with the secret, as a
// receiver following the Standard Webhooks specification does.
type receiver struct {
	mu       sync.Mutex
	verifier *standardwebhooks.Webhook
	fails    int // answer 503 to this many first webhooks
	ids      []string
	bodies   [][]byte
	bad      []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := rc.verifier.Verify(body, r.Header); err != nil {
		rc.bad = append(rc.bad, err.Error())
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	rc.ids = append(rc.ids, r.Header.Get("webhook-id"))
	rc.bodies = append(rc.bodies, body)
	if rc.fails > 0 {
		rc.fails--
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) seen() ([]string, [][]byte, []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.ids...), append([][]byte(nil), rc.bodies...), append([]string(nil), rc.bad...)
}

// When the queued delivery of an update answered 202 ends, one update.completed webhook
// is sent, signed with the secret, with the GET /updates body; a receiver that fails gets
// it again under the same webhook-id.
func TestWebhookWhenAnUpdateCompletes(t *testing.T) {
	t.Parallel()
	secret, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{verifier: verifier, fails: 1}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	sender, err := webhook.New(webhook.Env{URL: srv.URL, Secret: secret, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := gatewayOptions{queue: true, queueConfig: func(c *queue.Config) { c.Webhook, c.Payload = sender, webhook.CompletedPayload }}
	g := newTestGateway(t, opts)
	g.sim.SetFault(ladiFlow, vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: 4})
	_, _, body := g.do(http.MethodPut, "/customers/c-1", followBody)
	id := decodeResult(t, body).UpdateID

	var ids []string
	var bodies [][]byte
	waitFor(t, 30*time.Second, "the webhook was not sent again after the receiver failed", func() bool {
		ids, bodies, _ = rc.seen()
		return len(ids) >= 2
	})
	if _, _, bad := rc.seen(); len(bad) > 0 {
		t.Fatalf("webhooks that do not verify: %v", bad)
	}
	if ids[0] != ids[1] || ids[0] == "" {
		t.Fatalf("webhook ids %v: a retry must keep its id", ids)
	}
	var ev struct {
		Type string             `json:"type"`
		Data model.UpdateRecord `json:"data"`
	}
	if err := json.Unmarshal(bodies[1], &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "update.completed" || ev.Data.UpdateID != id || ev.Data.Outcome != model.OutcomeOK || ev.Data.Results[ladiFlow].Status != model.StatusOK {
		t.Fatalf("webhook: %s", bodies[1])
	}
	if string(bodies[0]) != string(bodies[1]) {
		t.Fatal("a retried webhook's body changed")
	}
}

// GET /deliveries pages with the cursor it gives, whatever the delivery ids look like, and
// refuses a limit out of its range naming it.
func TestDeliveriesPageByCursor(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{queue: true, holdQueue: true})
	for _, c := range []string{"c-1", "c-2", "c-3"} {
		if status, _, body := g.do(http.MethodPut, "/customers/"+c, `{"email":"a@example.com","vendors":["ladiflow"],"vendor_refs":{"ladiflow":{"id":"lf-`+c+`"}}}`, "Prefer", "respond-async"); status != http.StatusAccepted {
			t.Fatalf("PUT %s: %d %s", c, status, body)
		}
	}
	var seen []string
	path := "/deliveries?limit=2"
	for range 3 {
		status, _, body := g.do(http.MethodGet, path, "")
		var page deliveryPage
		if status != http.StatusOK || json.Unmarshal(body, &page) != nil {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
		for _, d := range page.Deliveries {
			seen = append(seen, d.CustomerID)
		}
		if page.NextCursor == nil {
			break
		}
		path = "/deliveries?limit=2&cursor=" + *page.NextCursor
	}
	if strings.Join(seen, ",") != "c-3,c-2,c-1" {
		t.Fatalf("paged %v, want newest first, each once", seen)
	}
	status, _, body := g.do(http.MethodGet, "/deliveries?limit=0", "")
	if status != http.StatusBadRequest || !strings.Contains(string(body), `"field":"limit"`) {
		t.Fatalf("limit=0: %d %s", status, body)
	}
}
