package vendorsim_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendorsim"
	"github.com/customergateway/gateway/internal/vendorsim/engagelab"
	"github.com/customergateway/gateway/internal/vendorsim/happytalk"
	"github.com/customergateway/gateway/internal/vendorsim/ladiflow"
)

// vendorCall is one valid request to a vendor, answered with success when no fault is set.
type vendorCall struct {
	vendor model.Vendor
	path   string
	header http.Header
	body   string
	ok     func(r reply) bool
}

var validCalls = []vendorCall{
	{happytalk.Name, happytalk.PathSetUserInfo, nil, `{"token":"sandbox-happytalk-token","uuid":"u","room_id":"r"}`,
		func(r reply) bool { return r.Status == 200 && r.Str("result") == "success" }},
	{ladiflow.Name, ladiflow.PathCustomerUpdate, lfKey, `{"_id":"l1","email":"a@b.c"}`,
		func(r reply) bool { return r.Status == 200 && r.Code() == 201 }},
	{engagelab.Name, engagelab.PathContact, elAuth, `{"euid":1,"contacts":{"email":"a@b.c"}}`,
		func(r reply) bool { return r.Status == 200 && r.Code() == 0 && r.Str("message") == "success" }},
}

func TestFaultModes(t *testing.T) {
	tests := []struct {
		mode       vendorsim.FaultMode
		vendor     model.Vendor
		wantStatus int
		check      func(r reply) bool
	}{
		{vendorsim.ModeHTTP500, happytalk.Name, 500, nil},
		{vendorsim.ModeHTTP500, ladiflow.Name, 500, nil},
		{vendorsim.ModeHTTP500, engagelab.Name, 500, nil},
		{vendorsim.ModeVendorError, happytalk.Name, 503, func(r reply) bool { return r.Body == nil }},
		{vendorsim.ModeVendorError, ladiflow.Name, 503, func(r reply) bool { return r.Code() == 503 }},
		{vendorsim.ModeVendorError, engagelab.Name, 200, func(r reply) bool { return r.Code() == engagelab.CodeServerError }},
		{vendorsim.ModeReject, happytalk.Name, 200, func(r reply) bool {
			return r.Str("result") == "fail" && r.Code() == happytalk.CodeInvalidValue
		}},
		{vendorsim.ModeReject, ladiflow.Name, 400, func(r reply) bool { return r.Code() == 400 }},
		{vendorsim.ModeReject, engagelab.Name, 200, func(r reply) bool { return r.Code() == engagelab.CodeInvalidParams }},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode)+"/"+string(tt.vendor), func(t *testing.T) {
			sim, srv := start(t)
			sim.SetFault(tt.vendor, vendorsim.Fault{Mode: tt.mode, Count: 1})
			call := callOf(tt.vendor)
			r := post(t, srv, call.path, call.header, call.body)
			if r.Status != tt.wantStatus || (tt.check != nil && !tt.check(r)) {
				t.Fatalf("got %d %s, want %d", r.Status, r.Raw, tt.wantStatus)
			}
			if got := sim.Received(tt.vendor); len(got) != 1 || got[0].Status != tt.wantStatus {
				t.Errorf("Received = %+v, want one request answered %d", got, tt.wantStatus)
			}
			if tt.vendor == happytalk.Name {
				if _, stored := sim.ht.User("u"); stored {
					t.Error("a failed request was applied")
				}
			}
			if r := post(t, srv, call.path, call.header, call.body); !call.ok(r) {
				t.Errorf("after the one failure: %d %s", r.Status, r.Raw)
			}
		})
	}
}

func callOf(v model.Vendor) vendorCall {
	for _, c := range validCalls {
		if c.vendor == v {
			return c
		}
	}
	panic("no call for " + v)
}

func TestFaultDrop(t *testing.T) {
	for _, call := range validCalls {
		t.Run(string(call.vendor), func(t *testing.T) {
			sim, srv := start(t)
			sim.SetFault(call.vendor, vendorsim.Fault{Mode: vendorsim.ModeDrop, Count: 1})
			req, _ := http.NewRequest(http.MethodPost, srv.URL+call.path, strings.NewReader(call.body))
			req.Header = call.header.Clone()
			if req.Header == nil {
				req.Header = http.Header{}
			}
			resp, err := srv.Client().Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("got HTTP %d, want the connection closed", resp.StatusCode)
			}
			if got := sim.Received(call.vendor); len(got) != 1 || got[0].Status != 0 {
				t.Errorf("Received = %+v, want one request with status 0", got)
			}
		})
	}
}

func TestFaultTimeoutHangsUntilTheClientGivesUp(t *testing.T) {
	sim, srv := start(t)
	sim.SetFault(ladiflow.Name, vendorsim.Fault{Mode: vendorsim.ModeTimeout, Count: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+ladiflow.PathCustomerUpdate, strings.NewReader(`{}`))
	began := time.Now()
	_, err := srv.Client().Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the client's deadline", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("took %v", took)
	}
	waitFor(t, func() bool { return len(sim.Received(ladiflow.Name)) == 1 })
	if got := sim.Received(ladiflow.Name)[0].Status; got != 0 {
		t.Errorf("status %d, want 0 (nothing answered)", got)
	}
	// Other vendors are untouched.
	if r := post(t, srv, happytalk.PathSetUserInfo, nil, callOf(happytalk.Name).body); r.Str("result") != "success" {
		t.Errorf("HappyTalk during a LadiFlow fault: %s", r.Raw)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition never met")
}

func TestFaultCount(t *testing.T) {
	tests := []struct {
		name  string
		count int
		want  []int // statuses of six requests in a row
	}{
		{"two", 2, []int{500, 500, 200, 200, 200, 200}},
		{"every request", -1, []int{500, 500, 500, 500, 500, 500}},
		{"none", 0, []int{200, 200, 200, 200, 200, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, srv := start(t)
			sim.SetFault(engagelab.Name, vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: tt.count})
			call := callOf(engagelab.Name)
			for i, want := range tt.want {
				if r := post(t, srv, call.path, call.header, call.body); r.Status != want {
					t.Fatalf("request %d: %d, want %d", i+1, r.Status, want)
				}
			}
			sim.ClearFaults()
			if r := post(t, srv, call.path, call.header, call.body); !call.ok(r) {
				t.Errorf("after ClearFaults: %d %s", r.Status, r.Raw)
			}
		})
	}
}

func TestSetFaultReplacesAndZeroClears(t *testing.T) {
	sim, srv := start(t)
	call := callOf(ladiflow.Name)
	sim.SetFault(ladiflow.Name, vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: -1})
	sim.SetFault(ladiflow.Name, vendorsim.Fault{Mode: vendorsim.ModeReject, Count: -1})
	if r := post(t, srv, call.path, call.header, call.body); r.Status != 400 {
		t.Errorf("replaced fault: %d", r.Status)
	}
	sim.SetFault(ladiflow.Name, vendorsim.Fault{})
	if len(sim.Faults()) != 0 {
		t.Errorf("Faults after the zero Fault: %v", sim.Faults())
	}
	if r := post(t, srv, call.path, call.header, call.body); !call.ok(r) {
		t.Errorf("after the zero Fault: %d %s", r.Status, r.Raw)
	}
}

func TestLatency(t *testing.T) {
	const latency = 150 * time.Millisecond
	for _, call := range validCalls {
		t.Run(string(call.vendor), func(t *testing.T) {
			sim, srv := start(t)
			sim.SetFault(call.vendor, vendorsim.Fault{Latency: latency})
			began := time.Now()
			if r := post(t, srv, call.path, call.header, call.body); !call.ok(r) {
				t.Fatalf("latency alone must not fail: %d %s", r.Status, r.Raw)
			}
			if took := time.Since(began); took < latency {
				t.Errorf("answered after %v, want at least %v", took, latency)
			}
			other := callOf(happytalk.Name)
			if call.vendor == happytalk.Name {
				other = callOf(engagelab.Name)
			}
			began = time.Now()
			post(t, srv, other.path, other.header, other.body)
			if took := time.Since(began); took >= latency {
				t.Errorf("another vendor was slowed too: %v", took)
			}
		})
	}
}

func TestLatencyStopsWhenTheClientGivesUp(t *testing.T) {
	sim, srv := start(t)
	sim.SetFault(happytalk.Name, vendorsim.Fault{Latency: 10 * time.Second, Mode: vendorsim.ModeHTTP500, Count: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+happytalk.PathSetUserInfo, strings.NewReader(callOf(happytalk.Name).body))
	if _, err := srv.Client().Do(req); err == nil {
		t.Fatal("want the client's deadline")
	}
	began := time.Now()
	srv.Close() // waits for the handler: it must not sit out the 10 s
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("the handler kept waiting %v after the client gave up", took)
	}
	if got := sim.Received(happytalk.Name); len(got) != 1 || got[0].Status != 0 {
		t.Errorf("Received = %+v", got)
	}
}

func TestReceived(t *testing.T) {
	sim, srv := start(t)
	sim.SetFault(ladiflow.Name, vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: 1})
	lf := callOf(ladiflow.Name)
	post(t, srv, lf.path, lf.header, lf.body)
	post(t, srv, lf.path, nil, lf.body)
	post(t, srv, lf.path, lf.header, `{"_id":"l2","phone":"090"}`)
	post(t, srv, engagelab.PathRegister, elAuth, registerBody("user_id", "a"))

	got := sim.Received(ladiflow.Name)
	wantStatus := []int{500, 401, 200}
	if len(got) != len(wantStatus) {
		t.Fatalf("%d LadiFlow requests, want %d", len(got), len(wantStatus))
	}
	for i, rec := range got {
		if rec.Status != wantStatus[i] || rec.Path != ladiflow.PathCustomerUpdate || !rec.At.Equal(fixedNow) {
			t.Errorf("request %d: %+v", i, rec)
		}
	}
	if string(got[2].Body) != `{"_id":"l2","phone":"090"}` || got[0].Header.Get("Api-Key") != ladiflow.SandboxAPIKey || got[1].Header.Get("Api-Key") != "" {
		t.Errorf("bodies or headers not kept as sent: %+v", got)
	}
	if el := sim.Received(engagelab.Name); len(el) != 1 || el[0].Path != engagelab.PathRegister {
		t.Errorf("EngageLab requests: %+v", el)
	}
	if ht := sim.Received(happytalk.Name); len(ht) != 0 {
		t.Errorf("HappyTalk received %d requests, want 0", len(ht))
	}
	got[2].Body[0] = 'X'
	got[0].Header.Set("Api-Key", "changed")
	if again := sim.Received(ladiflow.Name); again[2].Body[0] != '{' || again[0].Header.Get("Api-Key") != ladiflow.SandboxAPIKey {
		t.Error("Received returned the simulator's own slices")
	}
	sim.ClearReceived()
	if len(sim.Received(ladiflow.Name)) != 0 {
		t.Error("ClearReceived kept requests")
	}
	if _, ok := sim.lf.Customer("l2"); !ok {
		t.Error("ClearReceived forgot the stored state")
	}
}

func TestReset(t *testing.T) {
	sim, srv := start(t)
	for _, c := range validCalls {
		post(t, srv, c.path, c.header, c.body)
	}
	sim.SetFault(happytalk.Name, vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: -1})
	sim.Reset()
	for _, v := range vendors {
		if n := len(sim.Received(v)); n != 0 {
			t.Errorf("%s: %d requests after Reset", v, n)
		}
	}
	_, ht := sim.ht.User("u")
	_, lf := sim.lf.Customer("l1")
	_, el := sim.el.Contacts(1)
	if ht || lf || el || len(sim.Faults()) != 0 {
		t.Errorf("state after Reset: happytalk %v ladiflow %v engagelab %v faults %v", ht, lf, el, sim.Faults())
	}
}

func TestConcurrentUse(t *testing.T) {
	sim, srv := start(t)
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			call := validCalls[i%len(validCalls)]
			post(t, srv, call.path, call.header, call.body)
			post(t, srv, engagelab.PathRegister, elAuth, registerBody("user_id", "same"))
			post(t, srv, happytalk.PathServiceHistory, nil, historyBody("2024-02-29 00:00:00", "2024-02-29 23:59:59"))
		})
		wg.Go(func() {
			sim.SetFault(vendors[i%3], vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: 1})
			sim.ht.AddHistoryEvent(happytalk.HistoryEvent{ID: "x", RequestDate: "2024-02-29 12:00:00"})
			_ = sim.Received(vendors[i%3])
			_ = sim.Faults()
			if i%10 == 0 {
				sim.ClearFaults()
			}
		})
	}
	wg.Wait()
	if id, ok := sim.el.EUID("user_id", "same"); !ok || id != firstEUID {
		t.Errorf("30 concurrent registers of one value: euid %d, %v; want one EUID", id, ok)
	}
	total := 0
	for _, v := range vendors {
		total += len(sim.Received(v))
	}
	if total != 90 {
		t.Errorf("%d requests recorded, want 90", total)
	}
}

func TestUnknownPathsAndMethods(t *testing.T) {
	sim, srv := start(t)
	if r := post(t, srv, "/user/api/get_user_info/format/json", nil, `{}`); r.Status != 404 {
		t.Errorf("unknown path: %d", r.Status)
	}
	resp, err := srv.Client().Get(srv.URL + ladiflow.PathCustomerUpdate)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET on a POST path: %d", resp.StatusCode)
	}
	if n := len(sim.Received(ladiflow.Name)); n != 0 {
		t.Errorf("a request to no vendor path was recorded: %d", n)
	}
}
