package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/delivery"
	"github.com/customergateway/gateway/internal/fanout"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/store"
	"github.com/customergateway/gateway/internal/vendors/ladiflow"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
	"github.com/customergateway/gateway/internal/vendorsim"
	ladiflowsim "github.com/customergateway/gateway/internal/vendorsim/ladiflow"
)

// ladiFlow is the one vendor the queue tests deliver to.
const ladiFlow model.Vendor = "ladiflow"

// bench is LadiFlow (simulated) behind a fan-out, and a store the queues share.
type bench struct {
	t     *testing.T
	sim   *vendorsim.Sim
	lf    *ladiflowsim.Sim
	url   string // the database
	store *store.Store
	f     *fanout.Fanout
	gate  *gate // in front of the simulator: a test can hold LadiFlow's answers
}

func newBench(t *testing.T, dbURL string) *bench {
	t.Helper()
	lfSim := ladiflowsim.Sandbox()
	sim := vendorsim.New(vendorsim.Config{}, lfSim)
	b := &bench{t: t, sim: sim, lf: lfSim, url: dbURL, gate: &gate{}}
	srv := httptest.NewServer(b.gate.wrap(sim))
	t.Cleanup(srv.Close)
	lf := ladiflow.New(ladiflow.Config{BaseURL: srv.URL, APIKey: ladiflowsim.SandboxAPIKey}, vendorhttp.NewClient())
	// Attempts time out late: a request answered on a loaded machine must not time out and
	// be sent again, which the tests that count requests would see.
	policy := fanout.Policy{AttemptTimeout: 5 * time.Second, Attempts: 1, Backoff: time.Millisecond, BreakerFailures: 1000, BreakerCooldown: time.Minute}
	b.f = fanout.New(policy, nil, lf)
	b.store = b.open()
	return b
}

func (b *bench) open() *store.Store {
	b.t.Helper()
	st, err := store.Open(b.t.Context(), b.url)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { _ = st.Close() })
	return st
}

// waitLimit bounds each wait on the queue. A job the queue inserts is scheduled, and only
// River's leader makes it available, when its scheduler runs (every 5s, first within a
// second of the leader starting); a loaded machine stretches that and every send. The waits
// end as soon as their condition holds.
const waitLimit = 30 * time.Second

// testConfig retries quickly. Each queue polls its database every PollInterval: at 50ms
// (not less) the pollers of the tests running at once leave the cores to the tests' work.
func testConfig() Config {
	return Config{MaxAge: time.Minute, Backoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Workers: 4,
		PollInterval: 50 * time.Millisecond, SendTimeout: 5 * time.Second}
}

// queue builds a queue on st (a process of its own when st is a store of its own) and
// starts it; it stops when the test ends.
func (b *bench) queue(st *store.Store, cfg Config) *Queue {
	b.t.Helper()
	q, start := b.heldQueue(st, cfg)
	start()
	return q
}

// heldQueue builds a queue like queue does, and answers it with the function that starts
// it: until then deliveries are queued and none is sent.
func (b *bench) heldQueue(st *store.Store, cfg Config) (*Queue, func()) {
	b.t.Helper()
	q, err := New(st, cfg, zerolog.New(zerolog.NewTestWriter(b.t)))
	if err != nil {
		b.t.Fatal(err)
	}
	// The update use case sends what the queue hands it, as in the gateway.
	svc := delivery.New(delivery.Config{Fanout: b.f, Store: st, Queue: q, Region: "KR", Deadline: cfg.SendTimeout})
	return q, func() {
		b.t.Helper()
		if err := q.Start(context.Background(), svc); err != nil {
			b.t.Fatal(err)
		}
		b.t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := q.Stop(ctx); err != nil {
				b.t.Errorf("stop: %v", err)
			}
		})
	}
}

// fields is the update body as queued, stamped seq.
func (b *bench) fields(body string, seq int64) model.PendingFields {
	b.t.Helper()
	var u model.CustomerUpdate
	if err := json.Unmarshal([]byte(body), &u); err != nil {
		b.t.Fatal(err)
	}
	fields, err := model.QueuedFields(u, seq)
	if err != nil {
		b.t.Fatal(err)
	}
	return fields
}

func (b *bench) enqueue(q *Queue, customer, body string, seq int64) {
	b.t.Helper()
	if _, err := q.Enqueue(b.t.Context(), customer, ladiFlow, b.fields(body, seq), model.Origin{RequestID: fmt.Sprintf("req-%d", seq)}, time.Now()); err != nil {
		b.t.Fatal(err)
	}
}

// refs stores LadiFlow ids, so a queued update can reach the customer's record.
func (b *bench) refs(customers ...string) {
	for _, c := range customers {
		if _, _, err := b.store.MergeRefs(b.t.Context(), c, model.VendorRefs{ladiFlow: {"id": model.StringRef("lf-" + c)}}); err != nil {
			b.t.Fatal(err)
		}
	}
}

// onTheWire waits until the worker's first request has reached LadiFlow, whose answers
// the test held (b.gate.hold), and answers the function that lets it (and every later one)
// through: what the test queues before calling that is merged while the request is being
// sent, however long queueing takes on a loaded machine.
func (b *bench) onTheWire() (release func()) {
	b.t.Helper()
	b.waitFor(waitLimit, "the worker sent nothing", func() bool { return b.gate.heldCount() > 0 })
	return b.gate.open
}

// gate lets requests through to the simulator, or, between hold and open, holds them and
// counts them.
type gate struct {
	mu     sync.Mutex
	closed chan struct{} // nil while open
	held   int
}

func (g *gate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		wait := g.closed
		if wait != nil {
			g.held++
		}
		g.mu.Unlock()
		if wait != nil {
			select {
			case <-wait:
			case <-r.Context().Done():
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (g *gate) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed, g.held = make(chan struct{}), 0
}

func (g *gate) heldCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held
}

func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed != nil {
		close(g.closed)
		g.closed = nil
	}
}

// refused waits until LadiFlow has refused at least n requests: the queue has tried what
// waits and failed.
func (b *bench) refused(n int) {
	b.t.Helper()
	b.waitFor(waitLimit, fmt.Sprintf("LadiFlow refused fewer than %d requests", n), func() bool {
		failed := 0
		for _, r := range b.sim.Received(ladiFlow) {
			if r.Status >= 400 {
				failed++
			}
		}
		return failed >= n
	})
}

// settled waits until no delivery job of q's (its own or a batch's) is live (available,
// pending, running, retryable or scheduled): nothing will be sent any more.
func (b *bench) settled(q *Queue) {
	b.t.Helper()
	live := []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled}
	b.waitFor(waitLimit, "a delivery job is still live", func() bool {
		return len(b.jobs(q, deliverArgs{}.Kind(), live...))+len(b.jobs(q, batchArgs{}.Kind(), live...)) == 0
	})
}

// waitFor polls cond until it holds, or fails the test after within.
func (b *bench) waitFor(within time.Duration, what string, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			b.t.Fatalf("after %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// oneCustomer is the usual start: customer c-1 with a LadiFlow id, LadiFlow behaving as
// fault says, and a queue with the test settings.
func (b *bench) oneCustomer(fault vendorsim.Fault) *Queue {
	b.t.Helper()
	b.refs("c-1")
	b.sim.SetFault(ladiFlow, fault)
	return b.queue(b.store, testConfig())
}

// drained waits until nothing is pending.
func (b *bench) drained(within time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		n, err := b.store.CountPending(b.t.Context())
		if err != nil {
			b.t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.t.Fatalf("deliveries still pending after %v", within)
}

func (b *bench) ladiflow(customer string) map[string]any {
	b.t.Helper()
	c, ok := b.lf.Customer("lf-" + customer)
	if !ok {
		b.t.Fatalf("LadiFlow never received customer %s", customer)
	}
	return c
}

// deliveryEvents answers the vendor_delivery events recorded for customer.
func (b *bench) deliveryEvents(customer string) []model.AuditEvent {
	b.t.Helper()
	evs, err := b.store.Events(b.t.Context(), model.Window{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)})
	if err != nil {
		b.t.Fatal(err)
	}
	var out []model.AuditEvent
	for _, e := range evs {
		if e.Kind == model.KindVendorDelivery && e.CustomerID == customer {
			out = append(out, e)
		}
	}
	return out
}

// forEachEngine runs test once per engine, in parallel, each on a migrated database of its own.
func forEachEngine(t *testing.T, test func(t *testing.T, b *bench)) {
	for _, e := range templates.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			test(t, newBench(t, e.Fresh(t)))
		})
	}
}

func TestQueuedDeliveryRetriedUntilTheVendorIsBack(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, b *bench) {
		q := b.oneCustomer(vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: 3})
		b.enqueue(q, "c-1", `{"email":"kim@example.com","full_name":"Kim"}`, 1)
		b.drained(waitLimit)

		if got := b.ladiflow("c-1"); got["email"] != "kim@example.com" || got["full_name"] != "Kim" {
			t.Fatalf("LadiFlow holds %v", got)
		}
		if n := len(b.sim.Received(ladiFlow)); n != 4 {
			t.Errorf("LadiFlow got %d requests, want 3 failed + 1 ok", n)
		}
		evs := b.deliveryEvents("c-1")
		if len(evs) != 1 || evs[0].Result != "ok" || fmt.Sprint(evs[0].Details["fields"]) != "[email full_name]" {
			t.Fatalf("delivery events = %+v", evs)
		}
		if strings.Contains(fmt.Sprint(evs[0].Details), "kim@example.com") {
			t.Error("the audit event holds a field value")
		}
	})
}

// TestOlderUpdateQueuedLateNeverWins: the newer update is queued first, the older one
// (lower sequence) merged after it; the vendor ends up with the newer value, and with the
// older update's other fields.
func TestOlderUpdateQueuedLateNeverWins(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, b *bench) {
		q := b.oneCustomer(vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: -1})
		b.enqueue(q, "c-1", `{"email":"new@example.com"}`, 20)
		b.enqueue(q, "c-1", `{"email":"old@example.com","full_name":"Old Name"}`, 10)
		b.refused(1)
		b.sim.SetFault(ladiFlow, vendorsim.Fault{})
		b.drained(waitLimit)
		if got := b.ladiflow("c-1"); got["email"] != "new@example.com" || got["full_name"] != "Old Name" {
			t.Fatalf("LadiFlow holds %v, want the newer email and the older name", got)
		}
	})
}

// TestUpdateMergedWhileSendingIsSentToo: an update queued while the worker's request is on
// the wire is not lost when that request succeeds: the row's version moved, so it is sent
// again.
func TestUpdateMergedWhileSendingIsSentToo(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, b *bench) {
		b.gate.hold()
		q := b.oneCustomer(vendorsim.Fault{})
		b.enqueue(q, "c-1", `{"email":"first@example.com"}`, 1)
		release := b.onTheWire()
		b.enqueue(q, "c-1", `{"email":"second@example.com"}`, 2)
		release()
		b.drained(waitLimit)
		if got := b.ladiflow("c-1"); got["email"] != "second@example.com" {
			t.Fatalf("LadiFlow holds %v, want the second email", got["email"])
		}
	})
}

func TestQueuedDeliveryGivenUpAfterItsTimeLimit(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, b *bench) {
		b.refs("c-1")
		b.sim.SetFault(ladiFlow, vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: -1})
		cfg := testConfig()
		cfg.MaxAge = 300 * time.Millisecond
		q := b.queue(b.store, cfg)
		b.enqueue(q, "c-1", `{"email":"kim@example.com"}`, 1)
		b.drained(waitLimit)
		evs := b.deliveryEvents("c-1")
		if len(evs) != 1 || evs[0].Result != "failed" || !strings.Contains(fmt.Sprint(evs[0].Details["reason"]), "time limit passed") {
			t.Fatalf("delivery events = %+v", evs)
		}
		if got := evs[0].Details["attempts"]; fmt.Sprint(got) != fmt.Sprint(len(b.sim.Received(ladiFlow))) {
			t.Errorf("event says %v attempts, LadiFlow saw %d", got, len(b.sim.Received(ladiFlow)))
		}
	})
}

func TestRejectedDeliveryIsNotRetried(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, b *bench) {
		q := b.oneCustomer(vendorsim.Fault{Mode: vendorsim.ModeReject, Count: -1})
		b.enqueue(q, "c-1", `{"email":"kim@example.com"}`, 1)
		b.drained(waitLimit)
		b.settled(q)
		if n := len(b.sim.Received(ladiFlow)); n != 1 {
			t.Errorf("LadiFlow got %d requests, want 1: a rejection is not retried", n)
		}
		if evs := b.deliveryEvents("c-1"); len(evs) != 1 || evs[0].Result != "rejected" {
			t.Fatalf("delivery events = %+v", evs)
		}
	})
}

// TestTwoProcessesSendEachDeliveryOnce runs two queues, each on a store of its own over
// one database, as two gateway processes would: every queued delivery arrives, none twice.
func TestTwoProcessesSendEachDeliveryOnce(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, b *bench) {
		const n = 30
		var customers []string
		for i := range n {
			customers = append(customers, fmt.Sprintf("c-%02d", i))
		}
		b.refs(customers...)
		b.sim.SetFault(ladiFlow, vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: -1})
		first := b.queue(b.store, testConfig())
		second := b.queue(b.open(), testConfig())
		var wg sync.WaitGroup
		for i, c := range customers {
			q := first
			if i%2 == 1 {
				q = second
			}
			wg.Go(func() { b.enqueue(q, c, fmt.Sprintf(`{"email":"%s@example.com"}`, c), int64(i)) })
		}
		wg.Wait()
		// Every delivery fails at least once before LadiFlow is back. Only the 200s are
		// counted below, so the failed requests need not be cleared (clearing them raced
		// with a request recorded before and answered after the fault was lifted).
		b.waitFor(waitLimit, "not every delivery was tried while LadiFlow failed", func() bool {
			tried := map[string]bool{}
			for _, r := range b.sim.Received(ladiFlow) {
				var body struct {
					ID string `json:"_id"`
				}
				if r.Status >= 400 && json.Unmarshal(r.Body, &body) == nil {
					tried[body.ID] = true
				}
			}
			return len(tried) == n
		})
		b.sim.SetFault(ladiFlow, vendorsim.Fault{})
		b.drained(waitLimit)

		sent := map[string]int{}
		for _, r := range b.sim.Received(ladiFlow) {
			var body struct {
				ID string `json:"_id"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
			if r.Status == 200 {
				sent[body.ID]++
			}
		}
		for _, c := range customers {
			if sent["lf-"+c] != 1 {
				t.Errorf("%s delivered %d times, want once", c, sent["lf-"+c])
			}
		}
	})
}

// TestNewerUpdateSurvivesARejectionOfTheOlder: the vendor refuses the first send while a
// newer update is merged in; the refusal does not drop the newer data, which is sent.
func TestNewerUpdateSurvivesARejectionOfTheOlder(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, b *bench) {
		b.gate.hold()
		q := b.oneCustomer(vendorsim.Fault{Mode: vendorsim.ModeReject, Count: 1})
		b.enqueue(q, "c-1", `{"email":"first@example.com"}`, 1)
		release := b.onTheWire()
		b.enqueue(q, "c-1", `{"full_name":"Kim"}`, 2)
		release()
		b.drained(waitLimit)
		if got := b.ladiflow("c-1"); got["full_name"] != "Kim" {
			t.Fatalf("LadiFlow holds %v: the newer update was dropped with the rejected one", got)
		}
	})
}

// TestQueuedFieldsADirectDeliveryOvertookAreNotSent: a newer update reached the vendor
// directly after an older one was queued; the older one's overlapping fields are not sent.
// The queue starts once the newer update is recorded, so no attempt can have checked what
// was delivered before it.
func TestQueuedFieldsADirectDeliveryOvertookAreNotSent(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, b *bench) {
		b.refs("c-1")
		b.sim.SetFault(ladiFlow, vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: -1})
		q, start := b.heldQueue(b.store, testConfig())
		// LadiFlow needs email or phone in every update: the phone carries this one.
		b.enqueue(q, "c-1", `{"email":"old@example.com","phone":"+821012345678","full_name":"Kim"}`, 10)
		newer, err := model.QueuedFields(model.CustomerUpdate{Email: ptr("new@example.com")}, 20)
		if err != nil {
			t.Fatal(err)
		}
		e := model.AuditEvent{OccurredAt: time.Now(), Kind: model.KindCustomerUpdate, CustomerID: "c-1"}
		if err := b.store.RecordUpdate(t.Context(), e, model.UpdateRecord{UpdateResult: model.UpdateResult{CustomerID: "c-1"}}, map[model.Vendor]model.PendingFields{ladiFlow: newer}); err != nil {
			t.Fatal(err)
		}
		b.sim.SetFault(ladiFlow, vendorsim.Fault{})
		start()
		b.drained(waitLimit)
		if got := b.ladiflow("c-1"); got["email"] != nil || got["full_name"] != "Kim" || got["phone"] == nil {
			t.Fatalf("LadiFlow got %v: want the name and phone, and not the older email", got)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestRetryDelayDoublesToItsCapWithJitter(t *testing.T) {
	t.Parallel()
	q := &Queue{cfg: Config{Backoff: time.Second, MaxBackoff: time.Minute}}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 7: time.Minute, 1000: time.Minute} {
		for range 50 {
			if d := q.retryDelay(attempt); d < want*3/4 || d > want*5/4 {
				t.Fatalf("attempt %d: %v, want %v ± 25%%", attempt, d, want)
			}
		}
	}
	// A long backoff with many attempts neither overflows nor panics.
	q.cfg = Config{Backoff: time.Hour, MaxBackoff: 100 * time.Hour}
	if d := q.retryDelay(10_000); d < 75*time.Hour || d > 125*time.Hour {
		t.Fatalf("long backoff: %v", d)
	}
}
