package vendorsim

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
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
	{model.HappyTalk, pathHTSetUserInfo, nil, `{"token":"sandbox-happytalk-token","uuid":"u","room_id":"r"}`,
		func(r reply) bool { return r.status == 200 && r.str("result") == "success" }},
	{model.LadiFlow, pathLFCustomerUpdate, lfKey, `{"_id":"l1","email":"a@b.c"}`,
		func(r reply) bool { return r.status == 200 && r.code() == 201 }},
	{model.EngageLab, pathELContact, elAuth, `{"euid":1,"contacts":{"email":"a@b.c"}}`,
		func(r reply) bool { return r.status == 200 && r.code() == 0 && r.str("message") == "success" }},
}

func TestFaultModes(t *testing.T) {
	tests := []struct {
		mode       FaultMode
		vendor     model.Vendor
		wantStatus int
		check      func(r reply) bool
	}{
		{ModeHTTP500, model.HappyTalk, 500, nil},
		{ModeHTTP500, model.LadiFlow, 500, nil},
		{ModeHTTP500, model.EngageLab, 500, nil},
		{ModeVendorError, model.HappyTalk, 503, func(r reply) bool { return r.body == nil }},
		{ModeVendorError, model.LadiFlow, 503, func(r reply) bool { return r.code() == 503 }},
		{ModeVendorError, model.EngageLab, 200, func(r reply) bool { return r.code() == EngageLabCodeServerError }},
		{ModeReject, model.HappyTalk, 200, func(r reply) bool {
			return r.str("result") == "fail" && r.code() == HappyTalkCodeInvalidValue
		}},
		{ModeReject, model.LadiFlow, 400, func(r reply) bool { return r.code() == 400 }},
		{ModeReject, model.EngageLab, 200, func(r reply) bool { return r.code() == EngageLabCodeInvalidParams }},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode)+"/"+string(tt.vendor), func(t *testing.T) {
			sim, srv := start(t, testConfig())
			sim.SetFault(tt.vendor, Fault{Mode: tt.mode, Count: 1})
			call := callOf(tt.vendor)
			r := post(t, srv, call.path, call.header, call.body)
			if r.status != tt.wantStatus || (tt.check != nil && !tt.check(r)) {
				t.Fatalf("got %d %s, want %d", r.status, r.raw, tt.wantStatus)
			}
			if got := sim.Received(tt.vendor); len(got) != 1 || got[0].Status != tt.wantStatus {
				t.Errorf("Received = %+v, want one request answered %d", got, tt.wantStatus)
			}
			if tt.vendor == model.HappyTalk {
				if _, stored := sim.HappyTalkUser("u"); stored {
					t.Error("a failed request was applied")
				}
			}
			if r := post(t, srv, call.path, call.header, call.body); !call.ok(r) {
				t.Errorf("after the one failure: %d %s", r.status, r.raw)
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
			sim, srv := start(t, testConfig())
			sim.SetFault(call.vendor, Fault{Mode: ModeDrop, Count: 1})
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
	sim, srv := start(t, testConfig())
	sim.SetFault(model.LadiFlow, Fault{Mode: ModeTimeout, Count: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+pathLFCustomerUpdate, strings.NewReader(`{}`))
	began := time.Now()
	_, err := srv.Client().Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the client's deadline", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("took %v", took)
	}
	waitFor(t, func() bool { return len(sim.Received(model.LadiFlow)) == 1 })
	if got := sim.Received(model.LadiFlow)[0].Status; got != 0 {
		t.Errorf("status %d, want 0 (nothing answered)", got)
	}
	// Other vendors are untouched.
	if r := post(t, srv, pathHTSetUserInfo, nil, callOf(model.HappyTalk).body); r.str("result") != "success" {
		t.Errorf("HappyTalk during a LadiFlow fault: %s", r.raw)
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
			sim, srv := start(t, testConfig())
			sim.SetFault(model.EngageLab, Fault{Mode: ModeHTTP500, Count: tt.count})
			call := callOf(model.EngageLab)
			for i, want := range tt.want {
				if r := post(t, srv, call.path, call.header, call.body); r.status != want {
					t.Fatalf("request %d: %d, want %d", i+1, r.status, want)
				}
			}
			sim.ClearFaults()
			if r := post(t, srv, call.path, call.header, call.body); !call.ok(r) {
				t.Errorf("after ClearFaults: %d %s", r.status, r.raw)
			}
		})
	}
}

func TestSetFaultReplacesAndZeroClears(t *testing.T) {
	sim, srv := start(t, testConfig())
	call := callOf(model.LadiFlow)
	sim.SetFault(model.LadiFlow, Fault{Mode: ModeHTTP500, Count: -1})
	sim.SetFault(model.LadiFlow, Fault{Mode: ModeReject, Count: -1})
	if r := post(t, srv, call.path, call.header, call.body); r.status != 400 {
		t.Errorf("replaced fault: %d", r.status)
	}
	sim.SetFault(model.LadiFlow, Fault{})
	if len(sim.Faults()) != 0 {
		t.Errorf("Faults after the zero Fault: %v", sim.Faults())
	}
	if r := post(t, srv, call.path, call.header, call.body); !call.ok(r) {
		t.Errorf("after the zero Fault: %d %s", r.status, r.raw)
	}
}

func TestLatency(t *testing.T) {
	const latency = 150 * time.Millisecond
	for _, call := range validCalls {
		t.Run(string(call.vendor), func(t *testing.T) {
			sim, srv := start(t, testConfig())
			sim.SetFault(call.vendor, Fault{Latency: latency})
			began := time.Now()
			if r := post(t, srv, call.path, call.header, call.body); !call.ok(r) {
				t.Fatalf("latency alone must not fail: %d %s", r.status, r.raw)
			}
			if took := time.Since(began); took < latency {
				t.Errorf("answered after %v, want at least %v", took, latency)
			}
			other := callOf(model.HappyTalk)
			if call.vendor == model.HappyTalk {
				other = callOf(model.EngageLab)
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
	sim, srv := start(t, testConfig())
	sim.SetFault(model.HappyTalk, Fault{Latency: 10 * time.Second, Mode: ModeHTTP500, Count: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+pathHTSetUserInfo, strings.NewReader(callOf(model.HappyTalk).body))
	if _, err := srv.Client().Do(req); err == nil {
		t.Fatal("want the client's deadline")
	}
	began := time.Now()
	srv.Close() // waits for the handler: it must not sit out the 10 s
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("the handler kept waiting %v after the client gave up", took)
	}
	if got := sim.Received(model.HappyTalk); len(got) != 1 || got[0].Status != 0 {
		t.Errorf("Received = %+v", got)
	}
}

func TestReceived(t *testing.T) {
	sim, srv := start(t, testConfig())
	sim.SetFault(model.LadiFlow, Fault{Mode: ModeHTTP500, Count: 1})
	lf := callOf(model.LadiFlow)
	post(t, srv, lf.path, lf.header, lf.body)
	post(t, srv, lf.path, nil, lf.body)
	post(t, srv, lf.path, lf.header, `{"_id":"l2","phone":"090"}`)
	post(t, srv, pathELRegister, elAuth, registerBody("user_id", "a"))

	got := sim.Received(model.LadiFlow)
	wantStatus := []int{500, 401, 200}
	if len(got) != len(wantStatus) {
		t.Fatalf("%d LadiFlow requests, want %d", len(got), len(wantStatus))
	}
	for i, rec := range got {
		if rec.Status != wantStatus[i] || rec.Path != pathLFCustomerUpdate || !rec.At.Equal(fixedNow) {
			t.Errorf("request %d: %+v", i, rec)
		}
	}
	if string(got[2].Body) != `{"_id":"l2","phone":"090"}` || got[0].Header.Get("Api-Key") != SandboxLadiFlowAPIKey || got[1].Header.Get("Api-Key") != "" {
		t.Errorf("bodies or headers not kept as sent: %+v", got)
	}
	if el := sim.Received(model.EngageLab); len(el) != 1 || el[0].Path != pathELRegister {
		t.Errorf("EngageLab requests: %+v", el)
	}
	if ht := sim.Received(model.HappyTalk); len(ht) != 0 {
		t.Errorf("HappyTalk received %d requests, want 0", len(ht))
	}
	got[2].Body[0] = 'X'
	got[0].Header.Set("Api-Key", "changed")
	if again := sim.Received(model.LadiFlow); again[2].Body[0] != '{' || again[0].Header.Get("Api-Key") != SandboxLadiFlowAPIKey {
		t.Error("Received returned the simulator's own slices")
	}
	sim.ClearReceived()
	if len(sim.Received(model.LadiFlow)) != 0 {
		t.Error("ClearReceived kept requests")
	}
	if _, ok := sim.LadiFlowCustomer("l2"); !ok {
		t.Error("ClearReceived forgot the stored state")
	}
}

func TestReset(t *testing.T) {
	sim, srv := start(t, testConfig())
	for _, c := range validCalls {
		post(t, srv, c.path, c.header, c.body)
	}
	sim.SetFault(model.HappyTalk, Fault{Mode: ModeHTTP500, Count: -1})
	sim.Reset()
	for _, v := range model.Vendors {
		if n := len(sim.Received(v)); n != 0 {
			t.Errorf("%s: %d requests after Reset", v, n)
		}
	}
	_, ht := sim.HappyTalkUser("u")
	_, lf := sim.LadiFlowCustomer("l1")
	_, el := sim.EngageLabContacts(1)
	if ht || lf || el || len(sim.Faults()) != 0 {
		t.Errorf("state after Reset: happytalk %v ladiflow %v engagelab %v faults %v", ht, lf, el, sim.Faults())
	}
}

func TestConcurrentUse(t *testing.T) {
	sim, srv := start(t, testConfig())
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			call := validCalls[i%len(validCalls)]
			post(t, srv, call.path, call.header, call.body)
			post(t, srv, pathELRegister, elAuth, registerBody("user_id", "same"))
			post(t, srv, pathHTServiceHistory, nil, historyBody("2024-02-29 00:00:00", "2024-02-29 23:59:59"))
		})
		wg.Go(func() {
			sim.SetFault(model.Vendors[i%3], Fault{Mode: ModeHTTP500, Count: 1})
			sim.AddHistoryEvent(HistoryEvent{ID: "x", RequestDate: "2024-02-29 12:00:00"})
			_ = sim.Received(model.Vendors[i%3])
			_ = sim.Faults()
			if i%10 == 0 {
				sim.ClearFaults()
			}
		})
	}
	wg.Wait()
	if id, ok := sim.EngageLabEUID("user_id", "same"); !ok || id != firstEUID {
		t.Errorf("30 concurrent registers of one value: euid %d, %v; want one EUID", id, ok)
	}
	total := 0
	for _, v := range model.Vendors {
		total += len(sim.Received(v))
	}
	if total != 90 {
		t.Errorf("%d requests recorded, want 90", total)
	}
}

func TestUnknownPathsAndMethods(t *testing.T) {
	sim, srv := start(t, testConfig())
	if r := post(t, srv, "/user/api/get_user_info/format/json", nil, `{}`); r.status != 404 {
		t.Errorf("unknown path: %d", r.status)
	}
	resp, err := srv.Client().Get(srv.URL + pathLFCustomerUpdate)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET on a POST path: %d", resp.StatusCode)
	}
	if n := len(sim.Received(model.LadiFlow)); n != 0 {
		t.Errorf("a request to no vendor path was recorded: %d", n)
	}
}

func TestNewRefusesAnUnknownGenderFormat(t *testing.T) {
	cfg := SandboxConfig()
	cfg.HappyTalkGenderFormat = "english"
	if cfg.Validate() == nil {
		t.Fatal("Validate accepts an unknown format")
	}
	defer func() {
		if recover() == nil {
			t.Error("New accepted an unknown format")
		}
	}()
	New(cfg)
}
