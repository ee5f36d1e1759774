package vendorsim_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendorsim"
	"github.com/customergateway/gateway/internal/vendorsim/engagelab"
	"github.com/customergateway/gateway/internal/vendorsim/happytalk"
	"github.com/customergateway/gateway/internal/vendorsim/ladiflow"
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
	_, srv := start(t)
	if r := control(t, srv, http.MethodGet, "/_sim/healthz", ""); r.Status != 200 || r.Str("status") != "ok" {
		t.Errorf("healthz: %d %s", r.Status, r.Raw)
	}
}

func TestControlPutFault(t *testing.T) {
	tests := []struct {
		name, vendor, body string
		wantStatus         int
		want               vendorsim.Fault
	}{
		{"brief's example", "happytalk", `{"latency":"200ms","mode":"http500","count":3}`, 200, vendorsim.Fault{Latency: 200 * time.Millisecond, Mode: vendorsim.ModeHTTP500, Count: 3}},
		{"mode without count fails every request", "ladiflow", `{"mode":"timeout"}`, 200, vendorsim.Fault{Mode: vendorsim.ModeTimeout, Count: -1}},
		{"latency only", "engagelab", `{"latency":"1s"}`, 200, vendorsim.Fault{Latency: time.Second}},
		{"every mode: vendor_error", "engagelab", `{"mode":"vendor_error","count":1}`, 200, vendorsim.Fault{Mode: vendorsim.ModeVendorError, Count: 1}},
		{"every mode: reject", "engagelab", `{"mode":"reject","count":-1}`, 200, vendorsim.Fault{Mode: vendorsim.ModeReject, Count: -1}},
		{"every mode: drop", "engagelab", `{"mode":"drop","count":2}`, 200, vendorsim.Fault{Mode: vendorsim.ModeDrop, Count: 2}},
		{"unknown vendor", "hubspot", `{"mode":"http500"}`, 404, vendorsim.Fault{}},
		{"unknown mode", "happytalk", `{"mode":"explode"}`, 400, vendorsim.Fault{}},
		{"bad latency", "happytalk", `{"latency":"soon"}`, 400, vendorsim.Fault{}},
		{"negative latency", "happytalk", `{"latency":"-1s"}`, 400, vendorsim.Fault{}},
		{"count below -1", "happytalk", `{"mode":"http500","count":-2}`, 400, vendorsim.Fault{}},
		{"unknown field", "happytalk", `{"mode":"http500","times":2}`, 400, vendorsim.Fault{}},
		{"not JSON", "happytalk", `mode=http500`, 400, vendorsim.Fault{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, srv := start(t)
			r := control(t, srv, http.MethodPut, "/_sim/faults/"+tt.vendor, tt.body)
			if r.Status != tt.wantStatus {
				t.Fatalf("got %d %s, want %d", r.Status, r.Raw, tt.wantStatus)
			}
			got := sim.Faults()[model.Vendor(tt.vendor)]
			if got != tt.want {
				t.Errorf("fault set: %+v, want %+v", got, tt.want)
			}
			if tt.wantStatus != 200 && r.Str("error") == "" {
				t.Errorf("no error message: %s", r.Raw)
			}
		})
	}
}

func TestControlFaultsTakeEffect(t *testing.T) {
	sim, srv := start(t)
	control(t, srv, http.MethodPut, "/_sim/faults/happytalk", `{"mode":"http500","count":1}`)
	control(t, srv, http.MethodPut, "/_sim/faults/engagelab", `{"mode":"vendor_error"}`)
	var listed map[string]vendorsim.FaultJSON
	decodeInto(t, control(t, srv, http.MethodGet, "/_sim/faults", "").Raw, &listed)
	if len(listed) != 2 || listed["engagelab"].Mode != vendorsim.ModeVendorError || *listed["engagelab"].Count != -1 {
		t.Errorf("GET /_sim/faults: %+v", listed)
	}
	ht := callOf(happytalk.Name)
	if r := post(t, srv, ht.path, ht.header, ht.body); r.Status != 500 {
		t.Errorf("HappyTalk with its fault: %d", r.Status)
	}
	if r := control(t, srv, http.MethodDelete, "/_sim/faults", ""); r.Status != 204 {
		t.Errorf("DELETE /_sim/faults: %d", r.Status)
	}
	el := callOf(engagelab.Name)
	if r := post(t, srv, el.path, el.header, el.body); !el.ok(r) || len(sim.Faults()) != 0 {
		t.Errorf("EngageLab after DELETE /_sim/faults: %s", r.Raw)
	}
}

func TestControlRequests(t *testing.T) {
	sim, srv := start(t)
	lf := callOf(ladiflow.Name)
	post(t, srv, lf.path, lf.header, lf.body)
	post(t, srv, lf.path, lf.header, `not json`)

	r := control(t, srv, http.MethodGet, "/_sim/requests/ladiflow", "")
	var got []vendorsim.ReceivedJSON
	decodeInto(t, r.Raw, &got)
	if r.Status != 200 || len(got) != 2 {
		t.Fatalf("GET /_sim/requests/ladiflow: %d %s", r.Status, r.Raw)
	}
	var body map[string]any
	decodeInto(t, got[0].Body, &body)
	if body["_id"] != "l1" || got[0].Status != 200 || got[0].Path != ladiflow.PathCustomerUpdate || !got[0].At.Equal(fixedNow) || got[0].Header.Get("Api-Key") == "" {
		t.Errorf("first request: %+v", got[0])
	}
	if string(got[1].Body) != `"not json"` || got[1].Status != 400 {
		t.Errorf("a body that is not JSON is listed as a JSON string: %s, status %d", got[1].Body, got[1].Status)
	}
	if r := control(t, srv, http.MethodGet, "/_sim/requests/happytalk", ""); strings.TrimSpace(string(r.Raw)) != "[]" {
		t.Errorf("a vendor with no requests: %s", r.Raw)
	}
	if r := control(t, srv, http.MethodGet, "/_sim/requests/nobody", ""); r.Status != 404 {
		t.Errorf("unknown vendor: %d", r.Status)
	}
	if r := control(t, srv, http.MethodDelete, "/_sim/requests", ""); r.Status != 204 || len(sim.Received(ladiflow.Name)) != 0 {
		t.Errorf("DELETE /_sim/requests: %d", r.Status)
	}
	if _, ok := sim.lf.Customer("l1"); !ok {
		t.Error("DELETE /_sim/requests forgot the stored state")
	}
	if r := control(t, srv, http.MethodPost, "/_sim/reset", ""); r.Status != 204 {
		t.Errorf("POST /_sim/reset: %d", r.Status)
	}
	if _, ok := sim.lf.Customer("l1"); ok {
		t.Error("POST /_sim/reset kept the stored state")
	}
	// Control calls are not vendor requests.
	for _, v := range vendors {
		if n := len(sim.Received(v)); n != 0 {
			t.Errorf("%s recorded %d requests after reset", v, n)
		}
	}
}
