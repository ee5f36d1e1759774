package vendorsim_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendorsim"
	"github.com/customergateway/gateway/internal/vendorsim/engagelab"
	"github.com/customergateway/gateway/internal/vendorsim/happytalk"
	"github.com/customergateway/gateway/internal/vendorsim/internal/simtest"
	"github.com/customergateway/gateway/internal/vendorsim/ladiflow"
)

func TestOversizedBodyGetsEachVendorsOwnRefusal(t *testing.T) {
	huge := `{"x":"` + strings.Repeat("a", vendorsim.MaxBodyBytes) + `"}`
	tests := []struct {
		vendor     model.Vendor
		wantStatus int
		wantCode   int
	}{
		{happytalk.Name, http.StatusOK, happytalk.CodeBadRequest},
		{ladiflow.Name, http.StatusBadRequest, http.StatusBadRequest},
		{engagelab.Name, http.StatusOK, engagelab.CodeInvalidParams},
	}
	for _, tt := range tests {
		t.Run(string(tt.vendor), func(t *testing.T) {
			t.Parallel() // each reads 4 MiB: slow under the race detector
			sim, srv := start(t)
			call := callOf(tt.vendor)
			r := post(t, srv, call.path, call.header, huge)
			if r.Status != tt.wantStatus || r.Code() != tt.wantCode {
				t.Errorf("got %d %s, want %d with code %d", r.Status, r.Raw, tt.wantStatus, tt.wantCode)
			}
			if got := sim.Received(tt.vendor); len(got) != 1 || len(got[0].Body) != vendorsim.MaxBodyBytes {
				t.Errorf("Received kept %d requests", len(got))
			}
		})
	}
}

// fakeVendor is a vendor the core knows nothing about: one path that echoes the body.
type fakeVendor struct {
	name   model.Vendor
	paths  []string
	resets int
}

func (f *fakeVendor) Name() model.Vendor { return f.name }

func (f *fakeVendor) Routes() []vendorsim.Route {
	var rs []vendorsim.Route
	for _, p := range f.paths {
		rs = append(rs, vendorsim.Route{Path: p, Handle: func(_ *http.Request, body []byte) vendorsim.Answer {
			return vendorsim.Answer{Status: http.StatusCreated, Body: map[string]any{"echo": string(body)}}
		}})
	}
	return rs
}

func (f *fakeVendor) BadBody(msg string) vendorsim.Answer {
	return vendorsim.Answer{Status: 422, Body: map[string]any{"bad": msg}}
}
func (f *fakeVendor) VendorError() vendorsim.Answer {
	return vendorsim.Answer{Status: 502, Body: map[string]any{"down": true}}
}
func (f *fakeVendor) Rejection() vendorsim.Answer {
	return vendorsim.Answer{Status: 409, Body: map[string]any{"no": true}}
}
func (f *fakeVendor) Reset() { f.resets++ }

func TestAnyVendorMounts(t *testing.T) {
	acme := &fakeVendor{name: "acme", paths: []string{"/acme/v2/push"}}
	sim := vendorsim.New(vendorsim.Config{}, acme)
	srv := simtest.Serve(t, sim)
	began := time.Now()
	if r := post(t, srv, "/acme/v2/push", nil, `{"a":1}`); r.Status != 201 || r.Str("echo") != `{"a":1}` {
		t.Errorf("the vendor's own answer: %d %s", r.Status, r.Raw)
	}
	if got := sim.Received("acme"); len(got) != 1 || got[0].Status != 201 || got[0].At.Before(began.Add(-time.Second)) {
		t.Errorf("Received = %+v (the default clock is the real one)", got)
	}
	for mode, want := range map[vendorsim.FaultMode]int{vendorsim.ModeVendorError: 502, vendorsim.ModeReject: 409} {
		sim.SetFault("acme", vendorsim.Fault{Mode: mode, Count: 1})
		if r := post(t, srv, "/acme/v2/push", nil, `{}`); r.Status != want {
			t.Errorf("%s: %d %s, want %d", mode, r.Status, r.Raw, want)
		}
	}
	cut := httptest.NewRecorder()
	sim.ServeHTTP(cut, httptest.NewRequest(http.MethodPost, "/acme/v2/push", iotest.ErrReader(errors.New("cut off"))))
	if cut.Code != 422 || !strings.Contains(cut.Body.String(), `"bad"`) {
		t.Errorf("a body that cannot be read: %d %s, want the vendor's BadBody", cut.Code, cut.Body)
	}
	if r := control(t, srv, http.MethodPut, "/_sim/faults/happytalk", `{"mode":"http500"}`); r.Status != 404 || r.Str("error") != "unknown vendor happytalk: want acme" {
		t.Errorf("a vendor that is not mounted: %d %s", r.Status, r.Raw)
	}
	sim.Reset()
	if acme.resets != 1 || len(sim.Received("acme")) != 0 {
		t.Errorf("Reset: vendor reset %d times, %d requests kept", acme.resets, len(sim.Received("acme")))
	}
}

func TestUnknownVendorNamesTheMountedOnes(t *testing.T) {
	_, srv := start(t)
	r := control(t, srv, http.MethodGet, "/_sim/requests/hubspot", "")
	if want := "unknown vendor hubspot: want happytalk, ladiflow or engagelab"; r.Status != 404 || r.Str("error") != want {
		t.Errorf("got %d %s, want 404 %q", r.Status, r.Raw, want)
	}
}

func TestNewRefusesConflictingVendors(t *testing.T) {
	tests := []struct {
		name    string
		vendors []vendorsim.Vendor
	}{
		{"no name", []vendorsim.Vendor{&fakeVendor{paths: []string{"/a"}}}},
		{"a name that cannot be a path segment", []vendorsim.Vendor{&fakeVendor{name: "a/b", paths: []string{"/a"}}}},
		{"the same name twice", []vendorsim.Vendor{&fakeVendor{name: "a", paths: []string{"/a"}}, &fakeVendor{name: "a", paths: []string{"/b"}}}},
		{"the same path twice", []vendorsim.Vendor{&fakeVendor{name: "a", paths: []string{"/x"}}, &fakeVendor{name: "b", paths: []string{"/x"}}}},
		{"a relative path", []vendorsim.Vendor{&fakeVendor{name: "a", paths: []string{"x"}}}},
		{"a pattern", []vendorsim.Vendor{&fakeVendor{name: "a", paths: []string{"/x/{id}"}}}},
		{"under the control API", []vendorsim.Vendor{&fakeVendor{name: "a", paths: []string{"/_sim/reset2"}}}},
		{"a real vendor twice", []vendorsim.Vendor{happytalk.Sandbox(), happytalk.Sandbox()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("New accepted it")
				}
			}()
			vendorsim.New(vendorsim.Config{}, tt.vendors...)
		})
	}
}
