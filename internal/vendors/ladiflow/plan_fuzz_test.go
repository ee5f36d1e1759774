package ladiflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendorsim"
	ladiflowsim "github.com/customergateway/gateway/internal/vendorsim/ladiflow"
)

// fuzzUpdate builds a canonical update from fuzzed values; bit i of present says whether
// field i is set at all (absent and "" differ in the contract).
func fuzzUpdate(present uint16, fullName, firstName, email, phone, gender, birthday, calendar string, leap bool,
	language, postal, city, tag, attrName, attrValue, id string) model.CustomerUpdate {
	has := func(i int) bool { return present&(1<<i) != 0 }
	str := func(i int, s string) *string {
		if !has(i) {
			return nil
		}
		return &s
	}
	f := model.CustomerUpdate{FullName: str(0, fullName), FirstName: str(1, firstName), Email: str(2, email), Phone: str(3, phone),
		Birthday: str(5, birthday), Language: str(8, language)}
	if has(4) {
		g := model.Gender(gender)
		f.Gender = &g
	}
	if has(6) {
		c := model.Calendar(calendar)
		f.BirthdayCalendar = &c
	}
	if has(7) {
		f.BirthdayLeapMonth = &leap
	}
	if has(9) || has(10) {
		f.Address = &model.Address{PostalCode: str(9, postal), City: str(10, city)}
	}
	if has(11) {
		f.Tags = []string{tag}
	}
	if has(12) {
		f.Attributes = map[string]string{attrName: attrValue, "tier": "gold"}
	}
	if has(13) {
		f.VendorRefs = model.VendorRefs{Name: {refID: model.StringRef(id)}}
	}
	return f
}

// FuzzPlan builds an update from fuzzed strings, prepares it as the gateway does and plans
// it. It must never panic; a refusal names only LadiFlow and is sorted by field; and
// whatever is planned has LadiFlow's required fields (a non-empty _id, a non-empty email or
// phone), a dob that is a solar date, custom_fields sorted by name, every value unchanged
// as valid UTF-8 text, and is accepted by the simulator.
//
//	go test -run '^$' -fuzz '^FuzzPlan$' -fuzztime 30s ./internal/vendors/ladiflow
func FuzzPlan(f *testing.F) {
	f.Add(uint16(0x3fff), "Nguyễn An", "An", "an@example.com", "0912345678", "female", "1990-02-30", "lunar", false,
		"vi", "100000", "Hà Nội", "5fffb9c981cf1245fa091985", "ldp_pkg_name", "LADIPAGE-PRO", "653a3ca502e8ab00122c39c3")
	f.Add(uint16(0x3fff), "", "", "", "+821012345678", "other", "2017-05-01", "lunar", true, "ko", "06236", "", "", "a", "", "x")
	f.Add(uint16(0x2005), "An", "", "", "", "", "", "", false, "", "", "", "", "", "", "x")
	f.Add(uint16(0x3fff), "a\x00", "\xff", "a@b", "12", "M", "1990-13-01", "0", false, "xx", "0", "\u0085", "", "", "", "")
	a := New(Config{BaseURL: "http://ladiflow.sim", APIKey: testKey}, nil)
	lf := ladiflowsim.New(ladiflowsim.Config{APIKey: testKey, Now: func() time.Time { return time.Unix(0, 0) }})
	sim := vendorsim.New(vendorsim.Config{}, lf)
	f.Fuzz(func(t *testing.T, present uint16, fullName, firstName, email, phone, gender, birthday, calendar string, leap bool,
		language, postal, city, tag, attrName, attrValue, id string) {
		in := fuzzUpdate(present, fullName, firstName, email, phone, gender, birthday, calendar, leap, language, postal, city, tag, attrName, attrValue, id)
		u, err := model.Prepare("c-1", in, "VN")
		if err != nil {
			return
		}
		plan, err := a.Plan(u)
		if err != nil {
			var fe model.FieldErrors
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("Plan: %v, want field errors", err)
			}
			if !slices.IsSortedFunc(fe, func(x, y model.FieldError) int { return strings.Compare(x.Field, y.Field) }) {
				t.Fatalf("refusals not sorted by field: %v", fe)
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
		fuzzCheckPlanned(t, in, plan.Request.Body)
		sim.Reset()
		if answer := serveSim(sim, plan.Request); !bytes.Contains(answer, []byte(`"code":201`)) {
			t.Fatalf("the simulator refused what the adapter planned: %s\n%s", answer, plan.Request.Body)
		}
	})
}

func fuzzCheckPlanned(t *testing.T, in model.CustomerUpdate, raw []byte) {
	t.Helper()
	if !utf8.Valid(raw) {
		t.Fatalf("body is not valid UTF-8: %q", raw)
	}
	var b customerBody
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("body: %v\n%s", err, raw)
	}
	if b.ID == "" || b.ID != in.VendorRefs.Of(Name).String(refID) || b.ExternalCustomerID != "c-1" {
		t.Fatalf("keys: %s", raw)
	}
	if (b.Email == nil || *b.Email == "") && (b.Phone == nil || *b.Phone == "") {
		t.Fatalf("neither a non-empty email nor a phone: %s", raw)
	}
	if b.DOB != "" {
		if _, err := time.Parse(time.DateOnly, b.DOB); err != nil {
			t.Fatalf("dob %q is no solar date", b.DOB)
		}
	}
	if b.Gender != "" && b.Gender != "male" && b.Gender != "female" {
		t.Fatalf("gender %q", b.Gender)
	}
	if b.Lang != "" && b.Lang != "vi" && b.Lang != "en" && b.Lang != "other" {
		t.Fatalf("lang %q", b.Lang)
	}
	if !slices.IsSortedFunc(b.CustomFields, func(x, y customField) int { return strings.Compare(x.Name, y.Name) }) {
		t.Fatalf("custom_fields not sorted: %v", b.CustomFields)
	}
	for _, cf := range b.CustomFields {
		if cf.Name == "" || in.Attributes[cf.Name] != cf.Value {
			t.Fatalf("custom field %q = %q, sent %q", cf.Name, cf.Value, in.Attributes[cf.Name])
		}
	}
	same := func(field string, got, want *string) {
		if want != nil && (got == nil || *got != *want) && !(field == "email" && *want == "") {
			t.Fatalf("%s = %v, want %q", field, got, *want)
		}
	}
	same("full_name", b.FullName, in.FullName)
	same("first_name", b.FirstName, in.FirstName)
	same("email", b.Email, in.Email)
	if in.Address != nil {
		same("city", b.City, in.Address.City)
	}
	var all any
	_ = json.Unmarshal(raw, &all)
	walkStrings(all, func(s string) {
		if p := model.TextProblem(s); p != "" {
			t.Fatalf("sent text that %s: %q", p, s)
		}
	})
}

func walkStrings(v any, fn func(string)) {
	switch v := v.(type) {
	case string:
		fn(v)
	case []any:
		for _, x := range v {
			walkStrings(x, fn)
		}
	case map[string]any:
		for k, x := range v {
			fn(k)
			walkStrings(x, fn)
		}
	}
}

// serveSim serves req on h in-process and answers the body.
func serveSim(h http.Handler, req *model.Request) []byte {
	r := httptest.NewRequest(req.Method, req.URL, bytes.NewReader(req.Body))
	r.Header = req.Header.Clone()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Body.Bytes()
}

// An empty email names nobody: without a phone it is a 422 here, not LadiFlow's refusal
// after the other vendors were sent to; with a phone it is sent, and clears the email.
func TestEmptyEmailIsNoContact(t *testing.T) {
	a := New(Config{APIKey: testKey}, nil)
	ref := model.VendorRefs{Name: {refID: model.StringRef("lf-1")}}
	_, err := a.Plan(prepare(t, "c-1", model.CustomerUpdate{Email: ptr(""), FullName: ptr("An"), VendorRefs: ref}))
	var fe model.FieldErrors
	if !errors.As(err, &fe) || len(fe) != 1 || fe[0].Field != "email" {
		t.Fatalf("err = %v, want a 422 naming email", err)
	}
	p, err := a.Plan(prepare(t, "c-1", model.CustomerUpdate{Email: ptr(""), Phone: ptr("0912345678"), VendorRefs: ref}))
	if err != nil || p.Request == nil || !bytes.Contains(p.Request.Body, []byte(`"email":""`)) {
		t.Fatalf("Plan = %+v, %v; want the email cleared", p, err)
	}
}
