package vendorsim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// control sends a control API request.
func control(t *testing.T, srv *httptest.Server, method, path, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return do(t, srv.Client(), req)
}

func TestControlHealthz(t *testing.T) {
	_, srv := start(t, testConfig())
	if r := control(t, srv, http.MethodGet, "/_sim/healthz", ""); r.status != 200 || r.str("status") != "ok" {
		t.Errorf("healthz: %d %s", r.status, r.raw)
	}
}

func TestControlPutFault(t *testing.T) {
	tests := []struct {
		name, vendor, body string
		wantStatus         int
		want               Fault
	}{
		{"brief's example", "happytalk", `{"latency":"200ms","mode":"http500","count":3}`, 200, Fault{Latency: 200 * time.Millisecond, Mode: ModeHTTP500, Count: 3}},
		{"mode without count fails every request", "ladiflow", `{"mode":"timeout"}`, 200, Fault{Mode: ModeTimeout, Count: -1}},
		{"latency only", "engagelab", `{"latency":"1s"}`, 200, Fault{Latency: time.Second}},
		{"every mode: vendor_error", "engagelab", `{"mode":"vendor_error","count":1}`, 200, Fault{Mode: ModeVendorError, Count: 1}},
		{"every mode: reject", "engagelab", `{"mode":"reject","count":-1}`, 200, Fault{Mode: ModeReject, Count: -1}},
		{"every mode: drop", "engagelab", `{"mode":"drop","count":2}`, 200, Fault{Mode: ModeDrop, Count: 2}},
		{"unknown vendor", "hubspot", `{"mode":"http500"}`, 404, Fault{}},
		{"unknown mode", "happytalk", `{"mode":"explode"}`, 400, Fault{}},
		{"bad latency", "happytalk", `{"latency":"soon"}`, 400, Fault{}},
		{"negative latency", "happytalk", `{"latency":"-1s"}`, 400, Fault{}},
		{"count below -1", "happytalk", `{"mode":"http500","count":-2}`, 400, Fault{}},
		{"unknown field", "happytalk", `{"mode":"http500","times":2}`, 400, Fault{}},
		{"not JSON", "happytalk", `mode=http500`, 400, Fault{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, srv := start(t, testConfig())
			r := control(t, srv, http.MethodPut, "/_sim/faults/"+tt.vendor, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("got %d %s, want %d", r.status, r.raw, tt.wantStatus)
			}
			got := sim.Faults()[model.Vendor(tt.vendor)]
			if got != tt.want {
				t.Errorf("fault set: %+v, want %+v", got, tt.want)
			}
			if tt.wantStatus != 200 && r.str("error") == "" {
				t.Errorf("no error message: %s", r.raw)
			}
		})
	}
}

func TestControlFaultsTakeEffect(t *testing.T) {
	sim, srv := start(t, testConfig())
	control(t, srv, http.MethodPut, "/_sim/faults/happytalk", `{"mode":"http500","count":1}`)
	control(t, srv, http.MethodPut, "/_sim/faults/engagelab", `{"mode":"vendor_error"}`)
	var listed map[string]FaultJSON
	decodeInto(t, control(t, srv, http.MethodGet, "/_sim/faults", "").raw, &listed)
	if len(listed) != 2 || listed["engagelab"].Mode != ModeVendorError || *listed["engagelab"].Count != -1 {
		t.Errorf("GET /_sim/faults: %+v", listed)
	}
	ht := callOf(model.HappyTalk)
	if r := post(t, srv, ht.path, ht.header, ht.body); r.status != 500 {
		t.Errorf("HappyTalk with its fault: %d", r.status)
	}
	if r := control(t, srv, http.MethodDelete, "/_sim/faults", ""); r.status != 204 {
		t.Errorf("DELETE /_sim/faults: %d", r.status)
	}
	el := callOf(model.EngageLab)
	if r := post(t, srv, el.path, el.header, el.body); !el.ok(r) || len(sim.Faults()) != 0 {
		t.Errorf("EngageLab after DELETE /_sim/faults: %s", r.raw)
	}
}

func TestControlRequests(t *testing.T) {
	sim, srv := start(t, testConfig())
	lf := callOf(model.LadiFlow)
	post(t, srv, lf.path, lf.header, lf.body)
	post(t, srv, lf.path, lf.header, `not json`)

	r := control(t, srv, http.MethodGet, "/_sim/requests/ladiflow", "")
	var got []ReceivedJSON
	decodeInto(t, r.raw, &got)
	if r.status != 200 || len(got) != 2 {
		t.Fatalf("GET /_sim/requests/ladiflow: %d %s", r.status, r.raw)
	}
	var body map[string]any
	decodeInto(t, got[0].Body, &body)
	if body["_id"] != "l1" || got[0].Status != 200 || got[0].Path != pathLFCustomerUpdate || !got[0].At.Equal(fixedNow) || got[0].Header.Get("Api-Key") == "" {
		t.Errorf("first request: %+v", got[0])
	}
	if string(got[1].Body) != `"not json"` || got[1].Status != 400 {
		t.Errorf("a body that is not JSON is listed as a JSON string: %s, status %d", got[1].Body, got[1].Status)
	}
	if r := control(t, srv, http.MethodGet, "/_sim/requests/happytalk", ""); strings.TrimSpace(string(r.raw)) != "[]" {
		t.Errorf("a vendor with no requests: %s", r.raw)
	}
	if r := control(t, srv, http.MethodGet, "/_sim/requests/nobody", ""); r.status != 404 {
		t.Errorf("unknown vendor: %d", r.status)
	}
	if r := control(t, srv, http.MethodDelete, "/_sim/requests", ""); r.status != 204 || len(sim.Received(model.LadiFlow)) != 0 {
		t.Errorf("DELETE /_sim/requests: %d", r.status)
	}
	if _, ok := sim.LadiFlowCustomer("l1"); !ok {
		t.Error("DELETE /_sim/requests forgot the stored state")
	}
	if r := control(t, srv, http.MethodPost, "/_sim/reset", ""); r.status != 204 {
		t.Errorf("POST /_sim/reset: %d", r.status)
	}
	if _, ok := sim.LadiFlowCustomer("l1"); ok {
		t.Error("POST /_sim/reset kept the stored state")
	}
	// Control calls are not vendor requests.
	for _, v := range model.Vendors {
		if n := len(sim.Received(v)); n != 0 {
			t.Errorf("%s recorded %d requests after reset", v, n)
		}
	}
}
