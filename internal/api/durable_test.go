package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors/engagelab"
	"github.com/customergateway/gateway/internal/vendorsim"
)

// forEachQueueEngine runs a gateway with the durable queue on each engine, in parallel, each
// on a migrated database of its own.
func forEachQueueEngine(t *testing.T, test func(t *testing.T, g *testGateway)) {
	forEachQueueEngineWith(t, gatewayOptions{}, test)
}

// forEachQueueEngineWith is forEachQueueEngine with the gateway built from opts.
func forEachQueueEngineWith(t *testing.T, opts gatewayOptions, test func(t *testing.T, g *testGateway)) {
	for _, e := range templates.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			o := opts
			o.queue, o.dbURL = true, e.Fresh(t)
			test(t, newTestGateway(t, o))
		})
	}
}

// waitFor polls cond until it holds or within passes.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool, last ...func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			for _, l := range last {
				what += "; last seen: " + l()
			}
			t.Fatalf("after %v: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ladiFlowEmail(g *testGateway, id string) any {
	c, _ := g.lf.Customer(id)
	return c["email"]
}

// A vendor that fails retryably is queued (202) and receives the update once it is back;
// the audit trail shows the update and, later, the delivery.
func TestFailedDeliveryQueuedThenDelivered(t *testing.T) {
	t.Parallel()
	forEachQueueEngine(t, func(t *testing.T, g *testGateway) {
		g.sim.SetFault(ladiFlow, vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: -1})
		status, _, body := g.do(http.MethodPut, "/customers/c-1", `{"email":"kim@example.com",
			"vendor_refs":{"happytalk":{"uuid":"u-1","room_id":"r-1"},"ladiflow":{"id":"lf-1"}}}`)
		res := decodeResult(t, body)
		lf := res.Results[ladiFlow]
		if status != http.StatusAccepted || res.Outcome != model.OutcomeQueued || lf.Status != model.StatusQueued ||
			lf.QueuedUntil == nil || lf.Attempts != 3 || res.Results[happyTalk].Status != model.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		if !strings.Contains(lf.Reason, "keeps trying in the background until") {
			t.Errorf("reason %q does not say the delivery is retried", lf.Reason)
		}
		if _, _, metrics := g.do(http.MethodGet, "/metrics", ""); !strings.Contains(string(metrics), "\ngateway_deliveries_queued 1\n") {
			t.Errorf("/metrics does not count the queued delivery")
		}

		g.sim.SetFault(ladiFlow, vendorsim.Fault{})
		waitFor(t, 20*time.Second, "LadiFlow never got the queued update", func() bool { return ladiFlowEmail(g, "lf-1") == "kim@example.com" })

		waitFor(t, 20*time.Second, "no vendor_delivery event in the audit trail", func() bool {
			from, to := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			_, _, body = g.do(http.MethodGet, "/audit-history?from="+from+"&to="+to+"&source=gateway&customer_id=c-1", "")
			return strings.Contains(string(body), `"kind":"vendor_delivery"`)
		}, func() string { return string(body) })
		if !strings.Contains(string(body), `"kind":"customer_update"`) || !strings.Contains(string(body), `"ladiflow":"queued"`) {
			t.Errorf("audit trail lacks the update with LadiFlow queued: %s", body)
		}
		if strings.Contains(string(body), "kim@example.com") {
			t.Errorf("audit trail holds a value: %s", body)
		}
	})
}

// An update that comes while an earlier one is queued for a vendor joins the queue instead
// of overtaking it: the vendor ends up with the later value.
//
// The queue works nothing until the second update is answered. Otherwise a background retry
// of the first (three more requests to LadiFlow, which still fails) may land while the second
// is being answered, and be counted as if the second had been sent: seen under load as "6
// requests, 3 before" although the second update was held.
func TestLaterUpdateJoinsTheQueue(t *testing.T) {
	t.Parallel()
	forEachQueueEngineWith(t, gatewayOptions{holdQueue: true}, func(t *testing.T, g *testGateway) {
		g.sim.SetFault(ladiFlow, vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: -1})
		status, _, body := g.do(http.MethodPut, "/customers/c-2", `{"email":"first@example.com","full_name":"Kim","vendor_refs":{"ladiflow":{"id":"lf-2"}}}`)
		if status != http.StatusAccepted {
			t.Fatalf("first update %d: %s", status, body)
		}
		before := len(g.sim.Received(ladiFlow))
		status, _, body = g.do(http.MethodPut, "/customers/c-2", `{"email":"second@example.com","vendors":["ladiflow"]}`)
		res := decodeResult(t, body)
		if status != http.StatusAccepted || !strings.Contains(res.Results[ladiFlow].Reason, "earlier update") {
			t.Fatalf("second update %d: %s", status, body)
		}
		if n := len(g.sim.Received(ladiFlow)); n != before {
			t.Errorf("the second update was sent (%d requests, %d before) while the first waited", n, before)
		}
		g.workQueue()
		g.sim.SetFault(ladiFlow, vendorsim.Fault{})
		waitFor(t, 20*time.Second, "LadiFlow never got the queued updates", func() bool {
			c, _ := g.lf.Customer("lf-2")
			return c["email"] == "second@example.com" && c["full_name"] == "Kim"
		})
	})
}

// Prefer: respond-async answers 202 before anything is sent, every delivery queued, and
// the deliveries follow. The queue works nothing until the requests sent at the answer are
// counted, so that count is the request's own sends, never the queue's.
func TestPreferRespondAsync(t *testing.T) {
	t.Parallel()
	forEachQueueEngineWith(t, gatewayOptions{holdQueue: true}, func(t *testing.T, g *testGateway) {
		status, header, body := g.do(http.MethodPut, "/customers/c-3", `{"email":"kim@example.com",
			"vendor_refs":{"happytalk":{"uuid":"u-3","room_id":"r-3"},"ladiflow":{"id":"lf-3"}},"vendors":["happytalk","ladiflow"]}`, "Prefer", "wait=5, respond-async")
		sentAtAnswer := g.received()
		res := decodeResult(t, body)
		if status != http.StatusAccepted || header.Get("Preference-Applied") != "respond-async" ||
			res.Results[happyTalk].Status != model.StatusQueued || res.Results[ladiFlow].Status != model.StatusQueued {
			t.Fatalf("status %d, Preference-Applied %q: %s", status, header.Get("Preference-Applied"), body)
		}
		if sentAtAnswer != 0 {
			t.Errorf("%d vendor requests were sent before the 202", sentAtAnswer)
		}
		g.workQueue()
		waitFor(t, 20*time.Second, "the queued deliveries never arrived", func() bool {
			return ladiFlowEmail(g, "lf-3") == "kim@example.com" && len(g.sim.Received(happyTalk)) == 1
		})
	})
}

// Without a queue the preference is ignored: the update is sent and answered as usual.
func TestPreferRespondAsyncWithoutStore(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	status, header, body := g.do(http.MethodPut, "/customers/c-4", `{"email":"kim@example.com","vendor_refs":{"ladiflow":{"id":"lf-4"}}}`, "Prefer", "respond-async")
	if status != http.StatusOK || header.Get("Preference-Applied") != "" {
		t.Fatalf("status %d, Preference-Applied %q: %s", status, header.Get("Preference-Applied"), body)
	}
}

// A rejection is the caller's data, not the vendor's health: never queued.
func TestRejectionIsNotQueued(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{queue: true})
	g.sim.SetFault(ladiFlow, vendorsim.Fault{Mode: vendorsim.ModeReject, Count: -1})
	status, _, body := g.do(http.MethodPut, "/customers/c-5", `{"email":"kim@example.com","vendor_refs":{"ladiflow":{"id":"lf-5"}},"vendors":["ladiflow"]}`)
	if status != http.StatusBadGateway || decodeResult(t, body).Results[ladiFlow].Status != model.StatusRejected {
		t.Fatalf("status %d: %s", status, body)
	}
	if n, err := g.store.CountPending(t.Context()); err != nil || n != 0 {
		t.Fatalf("%d deliveries pending (err %v) after a rejection", n, err)
	}
}

func TestPrefersAsync(t *testing.T) {
	t.Parallel()
	for h, want := range map[string]bool{
		"respond-async": true, "Respond-Async": true, "wait=10, respond-async": true,
		"respond-async; foo=bar": true, "return=minimal": false, "": false, "respond-asynchronously": false,
	} {
		r, _ := http.NewRequest(http.MethodPut, "/", nil)
		if h != "" {
			r.Header.Set("Prefer", h)
		}
		if got := prefersAsync(r); got != want {
			t.Errorf("Prefer %q: %v, want %v", h, got, want)
		}
	}
}

// EngageLab down when a customer has no euid yet: the register call fails, the others are
// delivered, EngageLab's delivery is queued, and once EngageLab is back the queue resolves
// the euid and sends the update with it. Named alone in "vendors", EngageLab is queued too
// rather than refused.
func TestUnresolvedEUIDIsQueued(t *testing.T) {
	t.Parallel()
	forEachQueueEngine(t, func(t *testing.T, g *testGateway) {
		g.sim.SetFault(engageLab, vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: -1})
		status, _, body := g.do(http.MethodPut, "/customers/c-6", `{"email":"kim@example.com","vendor_refs":{"ladiflow":{"id":"lf-6"}}}`)
		res := decodeResult(t, body)
		el := res.Results[engageLab]
		if status != http.StatusAccepted || el.Status != model.StatusQueued || !strings.Contains(el.Reason, "euid") ||
			res.Results[ladiFlow].Status != model.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		status, _, body = g.do(http.MethodPut, "/customers/c-6", `{"phone":"010-1234-5678","vendors":["engagelab"]}`)
		if status != http.StatusAccepted || decodeResult(t, body).Results[engageLab].Status != model.StatusQueued {
			t.Fatalf("EngageLab named alone: %d %s", status, body)
		}

		g.sim.SetFault(engageLab, vendorsim.Fault{})
		waitFor(t, 20*time.Second, "EngageLab never got the queued update", func() bool {
			euid, ok := g.el.EUID("user_id", "c-6")
			if !ok {
				return false
			}
			contacts, _ := g.el.Contacts(euid)
			return contacts["email"] == "kim@example.com" && contacts["mobile_phone"] != ""
		})
		refs, ok, err := g.store.Refs(t.Context(), "c-6")
		if euid := refs.Of(engageLab).Int64("euid"); err != nil || !ok || euid == 0 || euid == unresolvedEUID {
			t.Fatalf("stored refs %+v, %v, %v: want the euid EngageLab gave", refs, ok, err)
		}
		for _, r := range g.sim.Received(engageLab) {
			if strings.Contains(string(r.Body), itoa(unresolvedEUID)) { // engagelab.PlaceholderKeys' euid
				t.Fatalf("the stand-in euid reached EngageLab: %s", r.Body)
			}
		}
	})
}

// unresolvedEUID is the euid EngageLab's adapter plans with while the real one is unknown.
var unresolvedEUID = engagelab.New(engagelab.Config{}, nil).PlaceholderKeys().Int64("euid")
