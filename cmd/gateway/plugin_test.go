package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/customergateway/gateway/internal/config"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
	"github.com/customergateway/gateway/internal/vendorsim"
)

// acme is a fourth vendor that exists only in this test: a contact API that takes
// {"id", "email"} with an Api-Key header. It is written the way README's "Adding a vendor"
// says, and plugged in the way it says: one entry in registered, its entries in the
// contract, and nothing else.
const acme model.Vendor = "acme"

// acmeEnv is acme's part of the environment.
type acmeEnv struct {
	BaseURL string `env:"ACME_BASE_URL, default=https://api.acme.invalid"`
	APIKey  string `env:"ACME_API_KEY"`
}

// acmeAdapter is acme's plug-in.
type acmeAdapter struct {
	url, key string
	client   *http.Client
}

func acmeFromEnv(getenv func(string) string) (vendors.Vendor, error) {
	var e acmeEnv
	if err := config.Process(getenv, &e); err != nil {
		return nil, err
	}
	return &acmeAdapter{url: vendorhttp.BaseURL(e.BaseURL, "") + "/v1/contacts", key: e.APIKey, client: vendorhttp.NewClient()}, nil
}

func (a *acmeAdapter) Name() model.Vendor  { return acme }
func (a *acmeAdapter) DisplayName() string { return "Acme" }
func (a *acmeAdapter) Enabled() bool       { return a.key != "" }

func (a *acmeAdapter) Plan(u *model.Update) (model.Plan, error) {
	p := model.Plan{Vendor: acme}
	id := u.Fields.VendorRefs.Of(acme).String("id")
	switch {
	case !a.Enabled():
		p.Skip, p.Reason = model.SkipNoKeys, "Acme is not configured"
	case id == "":
		p.Skip, p.Reason = model.SkipNoKeys, "no Acme id known for this customer"
	case u.Fields.Email == nil:
		p.Skip, p.Reason = model.SkipNothingToSend, "nothing in the update concerns Acme"
	default:
		body, err := json.Marshal(map[string]string{"id": id, "email": *u.Fields.Email})
		if err != nil {
			return model.Plan{}, err
		}
		h := vendorhttp.JSONHeader()
		h.Set("Api-Key", a.key)
		p.Request = &model.Request{Method: http.MethodPost, URL: a.url, Header: h, Body: body}
	}
	return p, nil
}

func (a *acmeAdapter) Send(ctx context.Context, req *model.Request) ([]byte, error) {
	status, body, err := vendorhttp.Do(ctx, a.client, req)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, &model.VendorError{Vendor: "Acme", Code: status, Message: "refused", Retryable: status >= 500}
	}
	return body, nil
}

func (a *acmeAdapter) View(req *model.Request) model.RequestView {
	return vendorhttp.View(req, []string{"Api-Key"}, nil)
}

// acmeSim is acme's simulator: it checks the key and keeps each contact's email.
type acmeSim struct {
	mu       sync.Mutex
	contacts map[string]string
}

func (s *acmeSim) Name() model.Vendor { return acme }

func (s *acmeSim) Routes() []vendorsim.Route {
	return []vendorsim.Route{{Path: "/v1/contacts", Handle: func(r *http.Request, body []byte) vendorsim.Answer {
		if r.Header.Get("Api-Key") != "sandbox-acme-key" {
			return vendorsim.Answer{Status: http.StatusUnauthorized, Body: map[string]string{"error": "bad key"}}
		}
		var c struct{ ID, Email string }
		if json.Unmarshal(body, &c) != nil || c.ID == "" || c.Email == "" {
			return s.BadBody("id and email are required")
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.contacts[c.ID] = c.Email
		return vendorsim.Answer{Status: http.StatusOK, Body: map[string]string{"status": "stored"}}
	}}}
}

func (s *acmeSim) BadBody(msg string) vendorsim.Answer {
	return vendorsim.Answer{Status: http.StatusBadRequest, Body: map[string]string{"error": msg}}
}

func (s *acmeSim) VendorError() vendorsim.Answer {
	return vendorsim.Answer{Status: http.StatusServiceUnavailable, Body: map[string]string{"error": "busy"}}
}

func (s *acmeSim) Rejection() vendorsim.Answer {
	return vendorsim.Answer{Status: http.StatusBadRequest, Body: map[string]string{"error": "refused"}}
}

func (s *acmeSim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.contacts = map[string]string{}
}

func (s *acmeSim) email(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.contacts[id]
}

// withAcme registers acme as the gateway would a real vendor, with its contract entries,
// until the test ends, and answers its simulator.
func withAcme(t *testing.T) *acmeSim {
	t.Helper()
	sim := &acmeSim{contacts: map[string]string{}}
	plugins, doc := registered, document
	t.Cleanup(func() { registered, document = plugins, doc })
	registered = append(append([]plugin(nil), registered...), plugin{
		fromEnv: acmeFromEnv,
		env:     acmeEnv{},
		sandbox: func(_ func(string) string, base string) (vendorsim.Vendor, map[string]string, error) {
			return sim, map[string]string{"ACME_BASE_URL": base, "ACME_API_KEY": "sandbox-acme-key"}, nil
		},
	})
	document = contractWith(t, acme, map[string]*openapi3.Schema{"id": openapi3.NewStringSchema().WithMinLength(1)})
	return sim
}

// contractWith is the contract with vendor v's entries added, as its author would write
// them in api/openapi.yaml: its name in VendorName and its refs in VendorRefs.
func contractWith(t *testing.T, v model.Vendor, refs map[string]*openapi3.Schema) []byte {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(document)
	if err != nil {
		t.Fatal(err)
	}
	name := doc.Components.Schemas["VendorName"].Value
	name.Enum = append(name.Enum, string(v))
	obj := openapi3.NewObjectSchema().WithProperties(refs)
	obj.AdditionalProperties = openapi3.AdditionalProperties{Has: openapi3.Ptr(false)}
	doc.Components.Schemas["VendorRefs"].Value.Properties[string(v)] = openapi3.NewSchemaRef("", obj)
	b, err := doc.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFourthVendorPlugsIn is the proof that the plug-in seam holds: a vendor no package
// knows, registered through the same list, goes through planning (a 422 for missing keys),
// a dry run, a delivery, vendor_refs remembered by the store, and the durable queue.
func TestFourthVendorPlugsIn(t *testing.T) {
	sim := withAcme(t)
	g := startInProcess(t, map[string]string{"GATEWAY_QUEUE_BACKOFF": "50ms", "GATEWAY_QUEUE_POLL_INTERVAL": "20ms", "GATEWAY_RETRY_ATTEMPTS": "1"}, "--sandbox")

	t.Run("planned: named without its keys is a 422", func(t *testing.T) {
		status, _, body := g.do(t, http.MethodPut, "/customers/c-1", `{"email":"a@example.com","vendors":["acme"]}`)
		if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), `"vendor":"acme"`) {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("dry run shows its request, its key masked", func(t *testing.T) {
		status, _, body := g.do(t, http.MethodPut, "/customers/c-1?dry_run=true", `{"email":"a@example.com","vendors":["acme"],"vendor_refs":{"acme":{"id":"ac-1"}}}`)
		res := result(t, status, body, http.StatusOK)
		r := res.Results[acme]
		if r.Status != model.StatusDryRun || r.Request == nil || r.Request.Headers["Api-Key"] != "***" || !strings.Contains(fmt.Sprint(r.Request.Body), "a@example.com") {
			t.Fatalf("dry run: %s", body)
		}
		if sim.email("ac-1") != "" {
			t.Fatal("a dry run reached Acme")
		}
	})
	t.Run("delivered beside the others, its refs remembered", func(t *testing.T) {
		status, _, body := g.do(t, http.MethodPut, "/customers/c-1", `{"email":"a@example.com","vendor_refs":{"acme":{"id":"ac-1"},"ladiflow":{"id":"lf-1"}}}`)
		if res := result(t, status, body, http.StatusOK); res.Results[acme].Status != model.StatusOK || res.Results["ladiflow"].Status != model.StatusOK {
			t.Fatalf("delivery: %s", body)
		}
		status, _, body = g.do(t, http.MethodPut, "/customers/c-1", `{"email":"b@example.com","vendors":["acme"]}`)
		if res := result(t, status, body, http.StatusOK); res.Results[acme].Status != model.StatusOK || sim.email("ac-1") != "b@example.com" {
			t.Fatalf("the remembered ref did not reach Acme's record: %s, Acme has %q", body, sim.email("ac-1"))
		}
	})
	t.Run("queued while down, delivered once back", func(t *testing.T) {
		fault(t, g, "acme", `{"mode":"http500","count":-1}`)
		status, _, body := g.do(t, http.MethodPut, "/customers/c-1", `{"email":"c@example.com","vendors":["acme"]}`)
		if res := result(t, status, body, http.StatusAccepted); res.Results[acme].Status != model.StatusQueued {
			t.Fatalf("want acme queued: %s", body)
		}
		fault(t, g, "", "")
		waitUntil(t, 20*time.Second, "the queued update never reached Acme", func() bool { return sim.email("ac-1") == "c@example.com" })
	})
}

// result reads an update answer, wanting status.
func result(t *testing.T, status int, body []byte, want int) model.UpdateResult {
	t.Helper()
	if status != want {
		t.Fatalf("status %d, want %d: %s", status, want, body)
	}
	var res model.UpdateResult
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// fault sets vendor's fault on the sandbox's simulator through its control API; with no
// vendor it clears every fault.
func fault(t *testing.T, g inProcess, vendor, spec string) {
	t.Helper()
	sim := simURL(t, g)
	method, url := http.MethodPut, sim+"/_sim/faults/"+vendor
	if vendor == "" {
		method, url = http.MethodDelete, sim+"/_sim/faults"
	}
	req, err := http.NewRequest(method, url, strings.NewReader(spec))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d", method, url, resp.StatusCode)
	}
}

// simURL is the sandbox's simulator, as its start-up log line says.
func simURL(t *testing.T, g inProcess) string {
	t.Helper()
	for _, line := range strings.Split(g.logs.String(), "\n") {
		var l struct {
			URL string `json:"vendors_url"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.URL != "" {
			return l.URL
		}
	}
	t.Fatalf("no sandbox line in the logs:\n%s", g.logs)
	return ""
}
