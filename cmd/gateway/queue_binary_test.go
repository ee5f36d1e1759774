package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	ladiflowsim "github.com/customergateway/gateway/internal/vendorsim/ladiflow"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/store/storetest"
	"github.com/customergateway/gateway/internal/vendors/happytalk"
	"github.com/customergateway/gateway/internal/vendors/ladiflow"
	"github.com/customergateway/gateway/internal/vendorsim"
)

// simVendors is every registered vendor's simulator, served by the test on loopback, so it
// outlives gateway processes that are killed and restarted.
type simVendors struct {
	sim   *vendorsim.Sim
	names []model.Vendor
	lf    *ladiflowsim.Sim
	env   []string // the gateway variables that point at it
}

func startVendors(t *testing.T) simVendors {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	v := simVendors{env: []string{
		// These tests are about the queue, not callers.
		"GATEWAY_AUTH=none",
		// One attempt per request and short background delays keep the test short.
		"GATEWAY_RETRY_ATTEMPTS=1", "GATEWAY_REQUEST_TIMEOUT=3s",
		"GATEWAY_QUEUE_BACKOFF=100ms", "GATEWAY_QUEUE_MAX_BACKOFF=500ms", "GATEWAY_QUEUE_POLL_INTERVAL=50ms",
		// The vendors are down on purpose, which opens each vendor's breaker: its default
		// 30 s cooldown, not the queue, would then decide when the deliveries arrive.
		"GATEWAY_BREAKER_COOLDOWN=500ms",
	}}
	var sims []vendorsim.Vendor
	for _, p := range registered {
		sim, env, err := p.sandbox(func(string) string { return "" }, base)
		if err != nil {
			t.Fatal(err)
		}
		sims, v.names = append(sims, sim), append(v.names, sim.Name())
		if lf, ok := sim.(*ladiflowsim.Sim); ok {
			v.lf = lf
		}
		for k, val := range env {
			v.env = append(v.env, k+"="+val)
		}
	}
	v.sim = vendorsim.New(vendorsim.Config{}, sims...)
	srv := httptest.NewUnstartedServer(v.sim)
	_ = srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return v
}

func (v simVendors) down() {
	for _, name := range v.names {
		v.sim.SetFault(name, vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: -1})
	}
}

func (v simVendors) up() { v.sim.ClearFaults() }

// gatewayOn starts a gateway process on dbURL against the vendors and waits until it is ready.
func gatewayOn(t *testing.T, bin string, v simVendors, dbURL string) (*gatewayProcess, string) {
	t.Helper()
	env := append([]string{"GATEWAY_ADDR=127.0.0.1:0", "GATEWAY_DATABASE_URL=" + dbURL}, v.env...)
	p := startProcess(t, bin, nil, env...)
	base := "http://" + listenAddr(t, p.output, p.wait)
	waitReady(t, p, base+"/readyz", 30*time.Second)
	return p, base
}

// killBetweenJobs kills p with SIGKILL at a moment when none of its River jobs is running
// and ready (nil: no further condition) holds in the database at path. It holds SQLite's
// write lock (BEGIN IMMEDIATE) while it looks and kills, so no job can be fetched or
// finished in between. These tests are about what waits in the queue; a job running at the
// kill is River's case, handed on by its rescuer up to about a minute later (README "What a
// restart keeps"), which on a loaded machine came close to the tests' deadline.
func killBetweenJobs(t *testing.T, p *gatewayProcess, path string, ready func(ctx context.Context, conn *sql.Conn) (bool, error)) {
	t.Helper()
	db := openDatabase(t, "sqlite://"+path)
	ctx := t.Context()
	waitUntil(t, 30*time.Second, "a moment with no job running", func() bool {
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return false // the gateway held the lock past the busy timeout: try again
		}
		defer func() { _, _ = conn.ExecContext(ctx, "ROLLBACK") }()
		var running int
		if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM river_job WHERE state = 'running'").Scan(&running); err != nil {
			t.Fatal(err)
		}
		if running > 0 {
			return false
		}
		if ready != nil {
			if ok, err := ready(ctx, conn); err != nil {
				t.Fatal(err)
			} else if !ok {
				return false
			}
		}
		kill(t, p)
		return true
	})
}

// openDatabase opens the gateways' database dbURL (a GATEWAY_DATABASE_URL, SQLite waiting
// out the gateways' write lock), closed when the test ends.
func openDatabase(t *testing.T, dbURL string) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", dbURL
	if path, ok := strings.CutPrefix(dbURL, "sqlite://"); ok {
		driver, dsn = "sqlite", "file:"+path+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// queueSettled reports whether the gateways sharing db have nothing left to deliver: no
// pending delivery and no delivery job that could still run. Vendors are sent to only from
// a running job, so once this holds nothing more is on its way.
func queueSettled(t *testing.T, db *sql.DB) bool {
	t.Helper()
	var live int
	err := db.QueryRowContext(t.Context(), `SELECT (SELECT COUNT(*) FROM pending_deliveries) +
		(SELECT COUNT(*) FROM river_job WHERE kind = 'vendor_delivery' AND state NOT IN ('completed', 'cancelled', 'discarded'))`).Scan(&live)
	if err != nil {
		t.Fatal(err)
	}
	return live == 0
}

func kill(t *testing.T, p *gatewayProcess) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if exited, _ := p.wait(10 * time.Second); !exited {
		t.Fatal("SIGKILL did not stop the gateway")
	}
}

// updates are two updates per customer, the second changing the email the first set and
// adding a name: what must arrive is the second's email with the name.
func updates(customer string) []string {
	refs := fmt.Sprintf(`"vendor_refs":{"happytalk":{"uuid":"u-%[1]s","room_id":"r-%[1]s"},"ladiflow":{"id":"lf-%[1]s"}},"vendors":["happytalk","ladiflow"]`, customer)
	return []string{
		fmt.Sprintf(`{"email":"old-%s@example.com","phone":"010-1234-5678",%s}`, customer, refs),
		fmt.Sprintf(`{"email":"new-%s@example.com","full_name":"Kim %s","vendors":["happytalk","ladiflow"]}`, customer, customer),
	}
}

// sendQueued sends every update of every customer to the gateways in turn; each must be
// answered 202 with both vendors queued.
func sendQueued(t *testing.T, customers []string, bases ...string) {
	t.Helper()
	n := 0
	for round := range 2 {
		for _, c := range customers {
			base := bases[n%len(bases)]
			n++
			status, _, reply := put(t, base+"/customers/"+c, updates(c)[round], "")
			if status != http.StatusAccepted || strings.Count(reply, `"status":"queued"`) != 2 {
				t.Fatalf("update %d of %s: %d %s", round+1, c, status, reply)
			}
		}
	}
}

// arrivedAsLastSaid waits until every customer's records at both vendors hold what the
// last update said, then answers how many successful requests each vendor got per customer.
func arrivedAsLastSaid(t *testing.T, v simVendors, customers []string, within time.Duration) map[string]int {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		missing := ""
		for _, c := range customers {
			lf, _ := v.lf.Customer("lf-" + c)
			if lf["email"] != "new-"+c+"@example.com" || lf["full_name"] != "Kim "+c || lf["phone"] == nil {
				missing = "LadiFlow " + c
				break
			}
			if ht := lastHappyTalk(t, v, c); ht["email"] != "new-"+c+"@example.com" {
				missing = "HappyTalk " + c
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, %s does not hold the last update", within, missing)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ok := map[string]int{}
	for _, name := range []model.Vendor{happytalk.Name, ladiflow.Name} {
		for _, r := range v.sim.Received(name) {
			if r.Status != http.StatusOK {
				continue
			}
			var b map[string]any
			if err := json.Unmarshal(r.Body, &b); err != nil {
				t.Fatal(err)
			}
			ok[fmt.Sprintf("%s %v%v", name, b["_id"], b["uuid"])]++
		}
	}
	return ok
}

func lastHappyTalk(t *testing.T, v simVendors, customer string) map[string]any {
	t.Helper()
	var last map[string]any
	for _, r := range v.sim.Received(happytalk.Name) {
		var b map[string]any
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatal(err)
		}
		if b["uuid"] == "u-"+customer && r.Status == http.StatusOK {
			last = b
		}
	}
	return last
}

func customerIDs(n int) []string {
	var cs []string
	for i := range n {
		cs = append(cs, fmt.Sprintf("c%02d", i))
	}
	return cs
}

// TestBinaryQueueSurvivesSIGKILL: vendors down, updates queued, the gateway killed with
// SIGKILL between two of its jobs' attempts, restarted on the same SQLite file, vendors
// back: every queued delivery arrives as its last update says, and the audit trail records
// each delivery.
func TestBinaryQueueSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	bin := buildGateway(t)
	v := startVendors(t)
	path := t.TempDir() + "/gateway.db"
	customers := customerIDs(10)

	v.down()
	p, base := gatewayOn(t, bin, v, "sqlite://"+path)
	sendQueued(t, customers, base)
	killBetweenJobs(t, p, path, nil)

	v.up()
	v.sim.ClearReceived()
	_, base = gatewayOn(t, bin, v, "sqlite://"+path)
	arrivedAsLastSaid(t, v, customers, 60*time.Second)

	// A delivery's event is committed after the vendor answered it: wait for the last ones.
	from, to := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	delivered := 0
	waitUntil(t, 20*time.Second, "not one delivery event with result ok per customer and vendor", func() bool {
		delivered = deliveryEvents(t, base+"/audit-history?source=gateway&kind=vendor_delivery&limit=500&from="+from+"&to="+to)
		return delivered >= 2*len(customers)
	})
	if delivered != 2*len(customers) {
		t.Errorf("%d delivery events with result ok, want one per customer and vendor (%d)", delivered, 2*len(customers))
	}
}

// deliveryEvents counts the audit events with result ok that url answers.
func deliveryEvents(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("audit history: %s", resp.Status)
	}
	var page struct {
		Events []model.AuditEvent `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	delivered := 0
	for _, e := range page.Events {
		if e.Result == "ok" {
			delivered++
		}
	}
	return delivered
}

// TestBinaryTwoReplicasShareOneQueue: two gateway processes on one database (a PostgreSQL
// schema of their own when storetest.PostgresEnv names a server, as .ci/run does; else one
// SQLite file), vendors down while updates go to both in turn, then back: every queued
// delivery is sent, and in this normal operation none twice.
func TestBinaryTwoReplicasShareOneQueue(t *testing.T) {
	t.Parallel()
	bin := buildGateway(t)
	v := startVendors(t)
	db := "sqlite://" + t.TempDir() + "/gateway.db"
	if os.Getenv(storetest.PostgresEnv) != "" {
		db = storetest.Postgres(t)
	}
	customers := customerIDs(16)

	v.down()
	_, first := gatewayOn(t, bin, v, db)
	_, second := gatewayOn(t, bin, v, db)
	sendQueued(t, customers, first, second)
	// One pool for every look below: a new PostgreSQL session is costly (README "Tests and CI").
	shared := openDatabase(t, db)
	if queueSettled(t, shared) {
		t.Fatal("the queue holds nothing while the vendors are down")
	}

	v.sim.ClearReceived()
	v.up()
	arrivedAsLastSaid(t, v, customers, 60*time.Second)
	// A duplicate could only be on its way from a live job: count once none is left.
	waitUntil(t, 60*time.Second, "the queue settled (no delivery waiting, no job live)", func() bool {
		return queueSettled(t, shared)
	})
	sent := arrivedAsLastSaid(t, v, customers, time.Second)
	for _, c := range customers {
		for _, key := range []string{"happytalk <nil>u-" + c, "ladiflow lf-" + c + "<nil>"} {
			if sent[key] != 1 {
				t.Errorf("%s: delivered %d times, want once", key, sent[key])
			}
		}
	}
}
