package engagelab

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendorsim"
	engagelabsim "github.com/customergateway/gateway/internal/vendorsim/engagelab"
)

var fuzzMSISDN = regexp.MustCompile(`^[1-9][0-9]{6,14}$`)

// FuzzPlan builds an update from fuzzed values (email, phone, the euid as the literal a
// caller would send, and a field EngageLab does not take), prepares it as the gateway does
// and plans it. It must never panic; a refusal names only EngageLab, in the same order
// every time; and whatever is planned is valid UTF-8 JSON with the euid exactly as sent and
// contacts a non-empty object of non-empty strings (the email as sent, the phone as E.164
// digits), which the simulator accepts.
//
//	go test -run '^$' -fuzz '^FuzzPlan$' -fuzztime 30s ./internal/vendors/engagelab
func FuzzPlan(f *testing.F) {
	f.Add(uint8(0xff), "12@gmail.com", "+18023456879", "10362473", "Kim")
	f.Add(uint8(0xff), "", "010-1234-5678", "9223372036854775807", "")
	f.Add(uint8(0x07), "a@b", "12", "0", "")
	f.Add(uint8(0x05), "\x00", "", "-1", "")
	f.Add(uint8(0x07), "a@b.c", "+84912345678", "1e3", "")
	a := New(Config{BaseURL: "http://engagelab.sim", APIKey: testKey, APISecret: testSecret}, nil)
	el := engagelabsim.New(engagelabsim.Config{APIKey: testKey, APISecret: testSecret})
	sim := vendorsim.New(vendorsim.Config{}, el)
	f.Fuzz(func(t *testing.T, present uint8, email, phone, euid, fullName string) {
		has := func(i int) bool { return present&(1<<i) != 0 }
		in := model.CustomerUpdate{}
		if has(0) {
			in.Email = &email
		}
		if has(1) {
			in.Phone = &phone
		}
		if has(2) {
			in.VendorRefs = model.VendorRefs{Name: {refEUID: json.RawMessage(euid)}}
		}
		if has(3) {
			in.FullName = &fullName
		}
		u, err := model.Prepare("c-1", in, "KR")
		if err != nil {
			return
		}
		plan, err := a.Plan(u)
		if err != nil {
			var fe model.FieldErrors
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("Plan: %v, want field errors", err)
			}
			// EngageLab names the euid before the contacts, not sorted by field (translate.go
			// is not sorted; the fan-out's 422 should sort every vendor's refusals): the
			// order must at least be the same every time.
			_, again := a.Plan(u)
			if !reflect.DeepEqual(err, again) {
				t.Fatalf("refusals differ between two plans: %v, %v", err, again)
			}
			for _, e := range fe {
				if e.Vendor != Name || e.Message == "" {
					t.Fatalf("refusal %+v", e)
				}
			}
			return
		}
		if plan.Request == nil {
			return
		}
		raw := plan.Request.Body
		if !utf8.Valid(raw) {
			t.Fatalf("body is not valid UTF-8: %q", raw)
		}
		var body struct {
			EUID     json.Number       `json:"euid"`
			Contacts map[string]string `json:"contacts"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			t.Fatalf("body: %v\n%s", err, raw)
		}
		if n, err := strconv.ParseInt(string(body.EUID), 10, 64); err != nil || n < 1 || string(body.EUID) != strings.TrimSpace(euid) {
			t.Fatalf("euid %s, sent %q", body.EUID, euid)
		}
		if len(body.Contacts) == 0 {
			t.Fatalf("empty contacts: %s", raw)
		}
		for k, v := range body.Contacts {
			if v == "" || model.TextProblem(v) != "" {
				t.Fatalf("contact %s = %q", k, v)
			}
		}
		if in.Email != nil && body.Contacts["email"] != *in.Email {
			t.Fatalf("email = %q, sent %q", body.Contacts["email"], *in.Email)
		}
		if p, ok := body.Contacts["mobile_phone"]; ok && (u.Phone == nil || p != u.Phone.MSISDN() || !fuzzMSISDN.MatchString(p)) {
			t.Fatalf("mobile_phone = %q", p)
		}
		sim.Reset()
		if answer := serveSim(sim, plan.Request); !bytes.Contains(answer, []byte(`"code":0`)) {
			t.Fatalf("the simulator refused what the adapter planned: %s\n%s", answer, raw)
		}
	})
}

// serveSim serves req on h in-process and answers the body.
func serveSim(h http.Handler, req *model.Request) []byte {
	r := httptest.NewRequest(req.Method, req.URL, bytes.NewReader(req.Body))
	r.Header = req.Header.Clone()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Body.Bytes()
}
