package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/fanout"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendorsim"
	engagelabsim "github.com/customergateway/gateway/internal/vendorsim/engagelab"
	happytalksim "github.com/customergateway/gateway/internal/vendorsim/happytalk"
	ladiflowsim "github.com/customergateway/gateway/internal/vendorsim/ladiflow"
)

const fullUpdate = `{
  "full_name": "Kim Minji", "first_name": "Minji", "last_name": "Kim",
  "email": "minji@example.com", "phone": "010-1234-5678",
  "gender": "female", "birthday": "1956-01-21", "birthday_calendar": "lunar",
  "language": "ko",
  "address": {"line1": "68 Nguyen Co Thach", "city": "Ha Noi", "postal_code": "100000", "country": "VN"},
  "company": "LadiPage", "job_title": "Coder", "tags": ["5fffb9c981cf1245fa091985"],
  "attributes": {"tier": "gold", "note": "likes tea", "segment": "b2c"},
  "social": {"website": "https://example.com", "zalo": "minji"},
  "lead_score": 14,
  "order": {"order_number": "12345678910"},
  "consultation": {"category_id": "75319", "division_id": "75320"},
  "vendor_refs": {"happytalk": {"uuid": "1000225100_sazob20220921062938", "room_id": "42", "users_id": "minji"},
                  "ladiflow": {"id": "653a3ca502e8ab00122c39c3"},
                  "engagelab": {"euid": 9007199254740993}}
}`

func decodeResult(t *testing.T, body []byte) model.UpdateResult {
	t.Helper()
	var res model.UpdateResult
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("answer is not an update result: %v\n%s", err, body)
	}
	return res
}

func lastBody(t *testing.T, sim *vendorsim.Sim, v model.Vendor) map[string]any {
	t.Helper()
	got := sim.Received(v)
	if len(got) == 0 {
		t.Fatalf("%s received nothing", v)
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(got[len(got)-1].Body)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Every field of DESIGN.md 2.1 reaches each vendor in that vendor's form.
func TestFullUpdateReachesEveryVendorTranslated(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	status, hdr, body := g.do(http.MethodPut, "/customers/c-42", fullUpdate)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	if hdr.Get("X-Request-Id") == "" {
		t.Fatal("no X-Request-Id on the answer")
	}
	res := decodeResult(t, body)
	for _, v := range allVendors {
		if r := res.Results[v]; r.Status != model.StatusOK || r.Attempts != 1 {
			t.Fatalf("%s: %+v", v, r)
		}
	}
	if res.Outcome != model.OutcomeOK || res.CustomerID != "c-42" {
		t.Fatalf("outcome %s for %s", res.Outcome, res.CustomerID)
	}

	ht := lastBody(t, g.sim, happyTalk)
	want := map[string]string{
		"token": happytalksim.SandboxToken, "uuid": "1000225100_sazob20220921062938", "room_id": "42", "users_id": "minji",
		"username": "Kim Minji", "email": "minji@example.com", "phone": "01012345678", "sex": "F",
		"birthday": "1956-01-21", "birth_type": "1", "order_number": "12345678910",
		"category_id": "75319", "division_id": "75320", "parameter1": "gold", "user_parameter": "likes tea",
	}
	for k, v := range want {
		if ht[k] != v {
			t.Errorf("HappyTalk %s = %v, want %q", k, ht[k], v)
		}
	}
	if !containsWarning(res.Results[happyTalk].Warnings, "segment") {
		t.Errorf("HappyTalk should warn that attribute segment has no parameter: %v", res.Results[happyTalk].Warnings)
	}

	lf := lastBody(t, g.sim, ladiFlow)
	wantLF := map[string]string{
		"_id": "653a3ca502e8ab00122c39c3", "external_customer_id": "c-42", "full_name": "Kim Minji", "first_name": "Minji",
		"email": "minji@example.com", "phone": "+821012345678", "gender": "female",
		"dob":  "1956-03-03", // lunar 1956-01-21 is solar 1956-03-03 (KASI), never the lunar date as if solar
		"lang": "other", "address": "68 Nguyen Co Thach", "city": "Ha Noi", "country": "VN",
		"company": "LadiPage", "job_title": "Coder", "website": "https://example.com", "zalo": "minji",
	}
	for k, v := range wantLF {
		if lf[k] != v {
			t.Errorf("LadiFlow %s = %v, want %q", k, lf[k], v)
		}
	}
	if lf["postal_code"] != json.Number("100000") || lf["score"] != json.Number("14") {
		t.Errorf("LadiFlow numbers: postal_code %v, score %v", lf["postal_code"], lf["score"])
	}
	cf, _ := json.Marshal(lf["custom_fields"])
	if string(cf) != `[{"name":"note","value":"likes tea"},{"name":"segment","value":"b2c"},{"name":"tier","value":"gold"}]` {
		t.Errorf("LadiFlow custom_fields %s", cf)
	}

	el := lastBody(t, g.sim, engageLab)
	if el["euid"] != json.Number("9007199254740993") {
		t.Errorf("EngageLab euid %v, want the exact 64-bit integer", el["euid"])
	}
	contacts, _ := el["contacts"].(map[string]any)
	if contacts["email"] != "minji@example.com" || contacts["mobile_phone"] != "821012345678" {
		t.Errorf("EngageLab contacts %v", contacts)
	}
}

func containsWarning(ws []string, part string) bool {
	for _, w := range ws {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}

func TestGenderOtherIsLeftOutWithWarnings(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	status, _, body := g.do(http.MethodPut, "/customers/c-1", `{"email":"a@example.com","gender":"other",
		"vendor_refs":{"happytalk":{"uuid":"u","room_id":"r"},"ladiflow":{"id":"l"}}}`)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	res := decodeResult(t, body)
	if !containsWarning(res.Results[ladiFlow].Warnings, "gender 'other' has no LadiFlow form; not sent") ||
		!containsWarning(res.Results[happyTalk].Warnings, "gender 'other'") {
		t.Fatalf("warnings: %+v", res.Results)
	}
	if _, ok := lastBody(t, g.sim, ladiFlow)["gender"]; ok {
		t.Fatal("LadiFlow got a gender for 'other'")
	}
	if _, ok := lastBody(t, g.sim, happyTalk)["sex"]; ok {
		t.Fatal("HappyTalk got a sex for 'other'")
	}
	if res.Results[engageLab].Status != model.StatusSkipped {
		t.Fatalf("EngageLab with no euid: %+v", res.Results[engageLab])
	}
}

const threeVendors = `{"email":"a@example.com","phone":"+821012345678",
	"vendor_refs":{"happytalk":{"uuid":"u","room_id":"r"},"ladiflow":{"id":"l"},"engagelab":{"euid":7}}}`

// DESIGN.md 2.2's status table, with faults injected at the simulated vendors. Not parallel:
// its attempts time out after 200ms and it counts them, so it runs alone, before the
// parallel tests.
func TestStatusTable(t *testing.T) {
	tests := []struct {
		name       string
		faults     map[model.Vendor]vendorsim.Fault
		wantHTTP   int
		wantStatus map[model.Vendor]model.Status
		attempts   map[model.Vendor]int
	}{
		{"all ok", nil, 200, map[model.Vendor]model.Status{happyTalk: "ok", ladiFlow: "ok", engageLab: "ok"}, nil},
		{"retried then ok", map[model.Vendor]vendorsim.Fault{ladiFlow: {Mode: vendorsim.ModeHTTP500, Count: 2}, engageLab: {Mode: vendorsim.ModeVendorError, Count: 1}},
			200, map[model.Vendor]model.Status{happyTalk: "ok", ladiFlow: "ok", engageLab: "ok"},
			map[model.Vendor]int{happyTalk: 1, ladiFlow: 3, engageLab: 2}},
		{"rejected is not retried", map[model.Vendor]vendorsim.Fault{engageLab: {Mode: vendorsim.ModeReject, Count: -1}},
			207, map[model.Vendor]model.Status{happyTalk: "ok", ladiFlow: "ok", engageLab: "rejected"},
			map[model.Vendor]int{engageLab: 1}},
		{"failed after retries", map[model.Vendor]vendorsim.Fault{happyTalk: {Mode: vendorsim.ModeHTTP500, Count: -1}},
			207, map[model.Vendor]model.Status{happyTalk: "failed", ladiFlow: "ok", engageLab: "ok"},
			map[model.Vendor]int{happyTalk: 3}},
		{"dropped connections fail", map[model.Vendor]vendorsim.Fault{ladiFlow: {Mode: vendorsim.ModeDrop, Count: -1}},
			207, map[model.Vendor]model.Status{happyTalk: "ok", ladiFlow: "failed", engageLab: "ok"}, nil},
		{"slow vendor fails alone", map[model.Vendor]vendorsim.Fault{engageLab: {Latency: 5 * time.Second, Count: -1}},
			207, map[model.Vendor]model.Status{happyTalk: "ok", ladiFlow: "ok", engageLab: "failed"}, nil},
		{"every vendor rejected or failed", map[model.Vendor]vendorsim.Fault{
			happyTalk: {Mode: vendorsim.ModeReject, Count: -1}, ladiFlow: {Mode: vendorsim.ModeReject, Count: -1},
			engageLab: {Mode: vendorsim.ModeHTTP500, Count: -1}},
			502, map[model.Vendor]model.Status{happyTalk: "rejected", ladiFlow: "rejected", engageLab: "failed"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newTestGateway(t, gatewayOptions{policy: fanout.Policy{
				AttemptTimeout: 200 * time.Millisecond, Attempts: 3, Backoff: time.Millisecond, BreakerFailures: 1000, BreakerCooldown: time.Minute,
			}})
			for v, f := range tc.faults {
				g.sim.SetFault(v, f)
			}
			status, _, body := g.do(http.MethodPut, "/customers/c-1", threeVendors)
			if status != tc.wantHTTP {
				t.Fatalf("HTTP %d, want %d: %s", status, tc.wantHTTP, body)
			}
			res := decodeResult(t, body)
			for v, want := range tc.wantStatus {
				if got := res.Results[v]; got.Status != want {
					t.Errorf("%s: %+v, want %s", v, got, want)
				}
			}
			for v, want := range tc.attempts {
				if got := res.Results[v].Attempts; got != want {
					t.Errorf("%s attempts %d, want %d", v, got, want)
				}
				if got := len(g.sim.Received(v)); got != want {
					t.Errorf("%s received %d calls, want %d", v, got, want)
				}
			}
			for v, r := range res.Results {
				if r.Status == model.StatusRejected && (r.Error == nil || r.Error.Code == 0) {
					t.Errorf("%s rejected without the vendor's code: %+v", v, r)
				}
			}
		})
	}
}

// Every 422 is decided before anything is sent: no vendor receives a byte.
func TestUndeliverableSendsNothing(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("가", 21) // 21 characters, 63 bytes
	tests := []struct {
		name      string
		body      string
		disabled  model.Vendor
		wantField string
		wantVend  model.Vendor
	}{
		{"HappyTalk parameter over 20 characters", `{"attributes":{"tier":"` + long + `"},"email":"a@example.com",
			"vendor_refs":{"happytalk":{"uuid":"u","room_id":"r"},"ladiflow":{"id":"l"}}}`, "", "attributes.tier", happyTalk},
		{"user_parameter over 200", `{"attributes":{"note":"` + strings.Repeat("x", 201) + `"},
			"vendor_refs":{"happytalk":{"uuid":"u","room_id":"r"}}}`, "", "attributes.note", happyTalk},
		{"vendor named without its keys", `{"email":"a@example.com","vendors":["engagelab","ladiflow"],"vendor_refs":{"ladiflow":{"id":"l"}}}`, "", "vendors", engageLab},
		{"vendor named but not configured", `{"email":"a@example.com","vendors":["ladiflow"],"vendor_refs":{"ladiflow":{"id":"l"}}}`, ladiFlow, "vendors", ladiFlow},
		{"phone that does not parse", `{"phone":"12345","vendor_refs":{"ladiflow":{"id":"l"}}}`, "", "phone", ""},
		{"LadiFlow without email or phone", `{"full_name":"Kim","vendor_refs":{"happytalk":{"uuid":"u","room_id":"r"},"ladiflow":{"id":"l"}}}`, "", "email", ladiFlow},
		{"half the HappyTalk keys", `{"email":"a@example.com","vendor_refs":{"happytalk":{"uuid":"u"}}}`, "", "vendor_refs.happytalk.room_id", happyTalk},
		{"nothing to send to anyone", `{"email":"a@example.com"}`, "", "vendor_refs.happytalk", happyTalk},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newTestGateway(t, gatewayOptions{disabled: tc.disabled})
			status, hdr, body := g.do(http.MethodPut, "/customers/c-1", tc.body)
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d: %s", status, body)
			}
			if ct := hdr.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q", ct)
			}
			var p Problem
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			if !hasFieldError(p.Errors, tc.wantField, tc.wantVend) {
				t.Fatalf("errors %+v, want field %s vendor %q", p.Errors, tc.wantField, tc.wantVend)
			}
			if p.RequestID == "" || p.RequestID != hdr.Get("X-Request-Id") {
				t.Fatalf("problem request_id %q, header %q", p.RequestID, hdr.Get("X-Request-Id"))
			}
			if n := g.received(); n != 0 {
				t.Fatalf("a 422 sent %d requests to vendors", n)
			}
		})
	}
}

func hasFieldError(errs []model.FieldError, field string, vendor model.Vendor) bool {
	for _, e := range errs {
		if e.Field == field && e.Vendor == vendor {
			return true
		}
	}
	return false
}

// The bad inputs a real caller sends: each 400 names the field, nothing is sent.
func TestBadRequestsNameTheField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path, body string
		ctype            string
		wantStatus       int
		wantFields       []string
	}{
		{"solar date that does not exist", "/customers/c-1", `{"birthday":"1990-02-30"}`, "", 400, []string{"birthday"}},
		{"every field at once", "/customers/c-1", `{"email":"not-an-email","birthday":"1990-02-30","nickname":"x","gender":"M"}`, "", 400, []string{"birthday", "email", "gender", "nickname"}},
		{"lunar day past the month", "/customers/c-1", `{"birthday":"1900-01-30","birthday_calendar":"lunar"}`, "", 400, []string{"birthday"}},
		{"calendar without birthday", "/customers/c-1", `{"birthday_calendar":"lunar"}`, "", 400, []string{"birthday_calendar"}},
		{"malformed JSON", "/customers/c-1", `{"email":"a@example.com",}`, "", 400, []string{"body"}},
		{"array body", "/customers/c-1", `[]`, "", 400, []string{"body"}},
		{"customer id too long", "/customers/" + strings.Repeat("a", 129), `{}`, "", 400, []string{"customer_id"}},
		{"customer id with a space", "/customers/a%20b", `{}`, "", 400, []string{"customer_id"}},
		{"unknown query parameter", "/customers/c-1?dryrun=true", `{"email":"a@example.com","vendor_refs":{"ladiflow":{"id":"l"}}}`, "", 400, []string{"dryrun"}},
		{"data after the JSON object", "/customers/c-1", `{"email":"a@example.com","vendor_refs":{"ladiflow":{"id":"l"}}} garbage{`, "", 400, []string{"body"}},
		{"a stray closing brace after the object", "/customers/c-1", `{"email":"a@example.com","vendor_refs":{"ladiflow":{"id":"l"}}} }`, "", 400, []string{"body"}},
		{"dry_run not a boolean", "/customers/c-1?dry_run=maybe", `{}`, "", 400, []string{"dry_run"}},
		{"form body", "/customers/c-1", `email=a`, "application/x-www-form-urlencoded", 415, nil},
		{"duplicate vendors", "/customers/c-1", `{"email":"a@example.com","vendors":["ladiflow","ladiflow"]}`, "", 400, []string{"vendors[1]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newTestGateway(t, gatewayOptions{})
			var hdr []string
			if tc.ctype != "" {
				hdr = []string{"Content-Type", tc.ctype}
			}
			status, _, body := g.do(http.MethodPut, tc.path, tc.body, hdr...)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tc.wantStatus, body)
			}
			var p Problem
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			var fields []string // one field may break several rules: name it once here
			for _, e := range p.Errors {
				if len(fields) == 0 || fields[len(fields)-1] != e.Field {
					fields = append(fields, e.Field)
				}
			}
			if strings.Join(fields, ",") != strings.Join(tc.wantFields, ",") {
				t.Fatalf("fields %v, want %v (%s)", fields, tc.wantFields, body)
			}
			if g.received() != 0 {
				t.Fatal("a refused request reached a vendor")
			}
		})
	}
}

func TestOversizedBodyIs413(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	big := `{"full_name":"` + strings.Repeat("x", 2<<20) + `"}`
	status, _, _ := g.do(http.MethodPut, "/customers/c-1", big)
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", status)
	}
}

func TestDryRunShowsRequestsAndSendsNothing(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	status, _, body := g.do(http.MethodPut, "/customers/c-42?dry_run=true", threeVendors)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	res := decodeResult(t, body)
	if res.Outcome != model.OutcomeDryRun {
		t.Fatalf("outcome %s", res.Outcome)
	}
	for _, v := range allVendors {
		r := res.Results[v]
		if r.Status != model.StatusDryRun || r.Request == nil || r.Request.Method != http.MethodPost {
			t.Fatalf("%s: %+v", v, r)
		}
	}
	for _, secret := range []string{happytalksim.SandboxToken, ladiflowsim.SandboxAPIKey, engagelabsim.SandboxAPIKey, engagelabsim.SandboxAPISecret, "Basic "} {
		if strings.Contains(string(body), secret) {
			t.Fatalf("dry run shows a credential %q: %s", secret, body)
		}
	}
	if !strings.Contains(string(body), `"euid":7`) {
		t.Fatalf("dry run body lost the integer euid: %s", body)
	}
	if g.received() != 0 {
		t.Fatal("dry run sent requests")
	}
}

func TestRequestIDIsEchoedAndLogged(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	_, hdr, _ := g.do(http.MethodPut, "/customers/c-1", threeVendors, "X-Request-Id", "caller-id-42")
	if got := hdr.Get("X-Request-Id"); got != "caller-id-42" {
		t.Fatalf("X-Request-Id %q", got)
	}
	_, hdr, _ = g.do(http.MethodGet, "/healthz", "", "X-Request-Id", "bad id\twith tab")
	if got := hdr.Get("X-Request-Id"); got == "" || strings.Contains(got, " ") {
		t.Fatalf("an invalid caller id must be replaced, got %q", got)
	}
	lines := strings.Split(strings.TrimSpace(g.logs.String()), "\n")
	vendorLines := 0
	for _, l := range lines {
		var entry map[string]any
		if err := json.Unmarshal([]byte(l), &entry); err != nil {
			t.Fatalf("log line is not JSON: %s", l)
		}
		if entry["request_id"] == nil || entry["request_id"] == "" {
			t.Fatalf("log line without request_id: %s", l)
		}
		if entry["message"] == "vendor delivery" {
			vendorLines++
			if entry["status"] == nil || entry["duration_ms"] == nil {
				t.Fatalf("vendor line without status or duration: %s", l)
			}
		}
	}
	if vendorLines != 3 {
		t.Fatalf("want one log line per vendor, got %d", vendorLines)
	}
}

// No log line holds a credential, a full phone number or an email, even when vendors fail.
func TestLogsHoldNoPersonalDataOrSecrets(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	g.sim.SetFault(engageLab, vendorsim.Fault{Mode: vendorsim.ModeReject, Count: -1})
	g.sim.SetFault(ladiFlow, vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: -1})
	g.do(http.MethodPut, "/customers/c-42", fullUpdate)
	g.do(http.MethodPut, "/customers/c-42", `{"email":"not-an-email","phone":"010-9999-8888"}`)
	g.do(http.MethodPut, "/customers/c-42", `{"phone":"12345678","email":"other@example.com","vendor_refs":{"ladiflow":{"id":"l"}}}`)
	logs := g.logs.String()
	for _, secret := range []string{
		"minji@example.com", "other@example.com", "not-an-email", "01012345678", "1012345678", "9999", "12345678",
		happytalksim.SandboxToken, ladiflowsim.SandboxAPIKey, engagelabsim.SandboxAPIKey, engagelabsim.SandboxAPISecret,
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}

func TestOperationsEndpoints(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	tests := []struct {
		path, want string
		status     int
	}{
		{"/healthz", `"ok"`, 200},
		{"/readyz", `"ok"`, 200},
		{"/openapi.yaml", "openapi: 3.0.3", 200},
		{"/docs/", "swagger", 200},
		{"/metrics", "gateway_http_request_duration_seconds", 200},
		{"/nope", "not-found", 404},
	}
	g.do(http.MethodGet, "/healthz", "")
	for _, tc := range tests {
		status, _, body := g.do(http.MethodGet, tc.path, "")
		if status != tc.status || !strings.Contains(strings.ToLower(string(body)), strings.ToLower(tc.want)) {
			t.Errorf("GET %s: %d, want %d containing %q", tc.path, status, tc.status, tc.want)
		}
	}
	status, _, _ := g.do(http.MethodDelete, "/customers/c-1", "")
	if status != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /customers: %d", status)
	}
}

// benchCustomers are the customers the benchmarks update in turn, twice as many as the
// model remembers phone numbers for, so that each update is read as one of a new customer
// is (the turn goes on from one benchmark run to the next: nextBenchCustomer).
var benchCustomers = func() []string {
	ids := make([]string, 8192)
	for i := range ids {
		ids[i] = fmt.Sprintf("c-%d", i)
	}
	return ids
}()

var benchTurn atomic.Int64

// nextBenchCustomer answers the index in benchCustomers of the customer to update next.
func nextBenchCustomer() int { return int(benchTurn.Add(1) % int64(len(benchCustomers))) }

// BenchmarkValidateAndTranslate is the gateway's own work for one full update: contract
// validation, decoding, the model's rules and all three vendors' requests built.
func BenchmarkValidateAndTranslate(b *testing.B) {
	g := newTestGateway(b, gatewayOptions{})
	c := loadContract(b)
	f := g.fanout
	targets := make([]string, len(benchCustomers))
	for i, id := range benchCustomers {
		targets[i] = "/customers/" + id
	}
	b.ReportAllocs()
	for b.Loop() {
		i := nextBenchCustomer()
		req := httptest.NewRequest(http.MethodPut, targets[i], strings.NewReader(fullUpdate))
		req.Header.Set("Content-Type", "application/json")
		if status, _, errs := c.validate(req); status != 0 {
			b.Fatalf("status %d: %v", status, errs)
		}
		body, err := decodeUpdate(req)
		if err != nil {
			b.Fatal(err)
		}
		u, err := model.Prepare(benchCustomers[i], body, "KR")
		if err != nil {
			b.Fatal(err)
		}
		plans, err := f.Plan(u)
		if err != nil || len(plans) != 3 || plans[2].Request == nil {
			b.Fatalf("plan: %v", err)
		}
	}
}

// BenchmarkDryRunRequest is one full update through the real router as a dry run: the
// above plus routing, middleware and rendering each vendor's request.
func BenchmarkDryRunRequest(b *testing.B) {
	benchPut(b, newTestGateway(b, gatewayOptions{}), "?dry_run=true")
}

// benchPut sends the full update through the gateway's handler, b.N times, each to the next
// of benchCustomers with query (empty, or "?..."), each answered 200.
func benchPut(b *testing.B, g *testGateway, query string) {
	targets := make([]string, len(benchCustomers))
	for i, id := range benchCustomers {
		targets[i] = "/customers/" + id + query
	}
	b.ReportAllocs()
	for b.Loop() {
		i := nextBenchCustomer()
		req := httptest.NewRequest(http.MethodPut, targets[i], strings.NewReader(fullUpdate))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		g.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkUpdateThroughSimulator is the whole round trip: router, validation, translation
// and three concurrent deliveries to the simulator over loopback.
// The "store" case adds what the default SQLite store does per update: refs merged, queued
// deliveries checked, the audit event and the fields delivered recorded.
func BenchmarkUpdateThroughSimulator(b *testing.B) {
	b.Run("no store", func(b *testing.B) {
		benchPut(b, newTestGateway(b, gatewayOptions{}), "")
	})
	b.Run("no store, traced", func(b *testing.B) { // every span exported to a local endpoint
		benchPut(b, newTestGateway(b, gatewayOptions{tracing: true}), "")
	})
	for _, e := range templates.Engines() { // PostgreSQL when GATEWAY_TEST_POSTGRES_URL is set
		b.Run("store/"+e.Name, func(b *testing.B) {
			benchPut(b, newTestGateway(b, gatewayOptions{queue: true, dbURL: e.Fresh(b)}), "")
		})
	}
}

// putAsync sends the full update for customer c-<i> with Prefer: respond-async, and fails
// unless it is answered 202. A customer each: one customer's updates would merge into one
// delivery.
func putAsync(g *testGateway, i int) error {
	req := httptest.NewRequest(http.MethodPut, fmt.Sprintf("/customers/c-%d", i), strings.NewReader(fullUpdate))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Prefer", "respond-async")
	rec := httptest.NewRecorder()
	g.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		return fmt.Errorf("status %d: %s", rec.Code, rec.Body)
	}
	return nil
}

// BenchmarkDrainQueue is the queue's side of Prefer: respond-async: b.N updates queued at
// every vendor (a customer each) while the queue is held, then the time until the queue
// has sent them all to the simulator.
func BenchmarkDrainQueue(b *testing.B) {
	for _, e := range templates.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			g := newTestGateway(b, gatewayOptions{queue: true, holdQueue: true, dbURL: e.Fresh(b)})
			for i := range b.N {
				if err := putAsync(g, i); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			g.workQueue()
			waitFor(b, 5*time.Minute, "the queue drained", func() bool {
				n, err := g.store.CountPending(b.Context())
				return err == nil && n == 0
			})
		})
	}
}

// BenchmarkAcceptAsync is the request window of Prefer: respond-async, 16 callers at a time
// (so the store's group commit has writes to gather), with the queue held: what accepting
// an update costs, its deliveries left out.
func BenchmarkAcceptAsync(b *testing.B) {
	for _, e := range templates.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			g := newTestGateway(b, gatewayOptions{queue: true, holdQueue: true, dbURL: e.Fresh(b)})
			b.ReportAllocs()
			b.SetParallelism(8) // 8 x GOMAXPROCS callers
			var n atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := putAsync(g, int(n.Add(1))); err != nil {
						b.Error(err) // not Fatal: this is not the benchmark's goroutine
						return
					}
				}
			})
		})
	}
}

// A caller that hangs up does not cut a delivery off half-sent: the vendor call completes.
// The caller hangs up once the call has reached LadiFlow, which holds its answer half a
// second (within the attempt's timeout): a caller giving up after a fixed time could, on a
// loaded machine, give up before the gateway had read the request, when there is nothing to
// send yet.
func TestCallerHangingUpDoesNotCancelDelivery(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	g.sim.SetFault(ladiFlow, vendorsim.Fault{Latency: 500 * time.Millisecond, Count: -1})
	ctx, hangUp := context.WithCancel(t.Context())
	defer hangUp()
	go func() {
		defer hangUp()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		deadline := time.After(20 * time.Second)
		for len(g.sim.Received(ladiFlow)) == 0 {
			select {
			case <-tick.C:
			case <-deadline:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, g.url+"/customers/c-1", strings.NewReader(`{"email":"a@example.com","vendor_refs":{"ladiflow":{"id":"l"}}}`))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("the client was meant to give up before the answer")
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if got := g.sim.Received(ladiFlow); len(got) == 1 && got[0].Status == http.StatusOK {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("LadiFlow's delivery did not complete after the caller hung up: %+v", g.sim.Received(ladiFlow))
}
