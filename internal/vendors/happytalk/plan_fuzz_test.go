package happytalk

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendorsim"
	happytalksim "github.com/customergateway/gateway/internal/vendorsim/happytalk"
)

// fuzzUpdate builds a canonical update from fuzzed values; bit i of present says whether
// field i is set at all (absent and "" differ in the contract).
func fuzzUpdate(present uint16, fullName, email, phone, gender, birthday, calendar string, leap bool,
	tier, note, otherName, otherValue, order, uuid, roomID string) model.CustomerUpdate {
	has := func(i int) bool { return present&(1<<i) != 0 }
	str := func(i int, s string) *string {
		if !has(i) {
			return nil
		}
		return &s
	}
	f := model.CustomerUpdate{FullName: str(0, fullName), Email: str(1, email), Phone: str(2, phone), Birthday: str(4, birthday)}
	if has(3) {
		g := model.Gender(gender)
		f.Gender = &g
	}
	if has(5) {
		c := model.Calendar(calendar)
		f.BirthdayCalendar = &c
	}
	if has(6) {
		f.BirthdayLeapMonth = &leap
	}
	attrs := map[string]string{}
	if has(7) {
		attrs["tier"] = tier
	}
	if has(8) {
		attrs["note"] = note
	}
	if has(9) {
		attrs[otherName] = otherValue
	}
	if len(attrs) > 0 {
		f.Attributes = attrs
	}
	if has(10) {
		f.Order = &model.Order{OrderNumber: &order}
	}
	refs := model.Refs{}
	if has(11) {
		refs[refUUID] = model.StringRef(uuid)
	}
	if has(12) {
		refs[refRoomID] = model.StringRef(roomID)
	}
	f.VendorRefs = model.VendorRefs{Name: refs}
	return f
}

var (
	fuzzDigits = regexp.MustCompile(`^[0-9]+$`)
	fuzzDate   = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|30)$`)
)

// FuzzPlan builds an update from fuzzed strings, prepares it as the gateway does and plans
// it. It must never panic; a refusal names only HappyTalk and is sorted by field; and
// whatever is planned stays within HappyTalk's documented limits (parameter1..10 at most
// 20 characters, user_parameter 200, phone digits only, birth_type "0"/"1" with a date of
// that calendar), carries every value unchanged as valid text, and is accepted by the
// simulator, which stores it without cutting anything.
//
//	go test -run '^$' -fuzz '^FuzzPlan$' -fuzztime 30s ./internal/vendors/happytalk
func FuzzPlan(f *testing.F) {
	f.Add(uint16(0x1fff), "Kim Minji", "minji@example.com", "010-1234-5678", "female", "1990-02-30", "lunar", false,
		"gold", "likes tea", "segment", "b2c", "12345678910", "1000225100_sazob20220921062938", "42")
	f.Add(uint16(0x1fff), "김민지", "a@b.c", "+84912345678", "male", "2017-05-01", "lunar", true,
		strings.Repeat("가", 20), strings.Repeat("나", 200), "tier2", "x", "", "u", "r")
	f.Add(uint16(0x19ff), "a\x00b", "", "12", "other", "1990-02-29", "solar", false, strings.Repeat("x", 21), "\xff", "", "", "", "u", "")
	f.Add(uint16(0x1881), "", "", "", "", "", "", false, "", "", "", "", "", "", "r")
	cfg := testConfig("http://happytalk.sim")
	cfg.ParameterMap = ParameterMap{"tier": "parameter1", "note": "user_parameter", "segment": "parameter10"}
	a := newTestAdapter(cfg)
	ht := happytalksim.New(happytalksim.Config{Token: docToken, GenderFormat: happytalksim.GenderCode, Timezone: time.UTC})
	sim := vendorsim.New(vendorsim.Config{}, ht)
	f.Fuzz(func(t *testing.T, present uint16, fullName, email, phone, gender, birthday, calendar string, leap bool,
		tier, note, otherName, otherValue, order, uuid, roomID string) {
		in := fuzzUpdate(present, fullName, email, phone, gender, birthday, calendar, leap, tier, note, otherName, otherValue, order, uuid, roomID)
		u, err := model.Prepare("c-1", in, "KR")
		if err != nil {
			return
		}
		plan, err := a.Plan(u)
		if err != nil {
			fuzzCheckRefusal(t, err)
			return
		}
		if plan.Request == nil {
			return
		}
		body := fuzzCheckBody(t, plan.Request.Body)
		fuzzCheckUnchanged(t, in, u, body)
		sim.Reset()
		if answer := serveSim(sim, plan.Request); !bytes.Contains(answer, []byte(`"result":"success"`)) {
			t.Fatalf("the simulator refused what the adapter planned: %s\n%s", answer, plan.Request.Body)
		}
		stored, _ := ht.User(body["uuid"])
		for k, v := range body {
			if k != "token" && stored[k] != v {
				t.Fatalf("HappyTalk stored %s = %q, sent %q: cut or changed", k, stored[k], v)
			}
		}
	})
}

// fuzzCheckRefusal asserts a refusal is field errors naming HappyTalk, sorted by field.
func fuzzCheckRefusal(t *testing.T, err error) {
	t.Helper()
	var fe model.FieldErrors
	if !errors.As(err, &fe) || len(fe) == 0 {
		t.Fatalf("Plan: %v, want field errors", err)
	}
	if !slices.IsSortedFunc(fe, func(x, y model.FieldError) int { return strings.Compare(x.Field, y.Field) }) {
		t.Fatalf("refusals not sorted by field: %v", fe)
	}
	for _, e := range fe {
		if e.Vendor != Name || e.Message == "" || model.TextProblem(e.Field) != "" {
			t.Fatalf("refusal %+v", e)
		}
	}
}

// fuzzCheckBody asserts the planned body is valid UTF-8 JSON of strings within HappyTalk's
// limits, and answers it.
func fuzzCheckBody(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	if !utf8.Valid(raw) {
		t.Fatalf("body is not valid UTF-8: %q", raw)
	}
	var body map[string]string
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("body is not an object of strings: %v\n%s", err, raw)
	}
	if body["token"] != docToken || body["uuid"] == "" || body["room_id"] == "" {
		t.Fatalf("keys: %s", raw)
	}
	for k, v := range body {
		if p := model.TextProblem(v); p != "" {
			t.Fatalf("%s %s", k, p)
		}
		n := utf8.RuneCountInString(v)
		switch {
		case k == userParameter && n > userParameterLimit, strings.HasPrefix(k, "parameter") && n > parameterLimit:
			t.Fatalf("%s has %d characters: HappyTalk would cut it", k, n)
		}
	}
	if p, ok := body["phone"]; ok && !fuzzDigits.MatchString(p) {
		t.Fatalf("phone %q is not digits only", p)
	}
	if s, ok := body["sex"]; ok && s != "M" && s != "F" {
		t.Fatalf("sex %q", s)
	}
	bd, hasBD := body["birthday"]
	bt, hasBT := body["birth_type"]
	switch {
	case hasBD != hasBT:
		t.Fatalf("birthday without birth_type or the other way round: %s", raw)
	case hasBT && bt == birthTypeSolar:
		if _, err := time.Parse(time.DateOnly, bd); err != nil {
			t.Fatalf("solar birthday %q is no date", bd)
		}
	case hasBT && bt == birthTypeLunar:
		if !fuzzDate.MatchString(bd) {
			t.Fatalf("lunar birthday %q is no lunar date", bd)
		}
	case hasBT:
		t.Fatalf("birth_type %q", bt)
	}
	return body
}

// fuzzCheckUnchanged asserts every value the caller sent reaches HappyTalk as sent.
func fuzzCheckUnchanged(t *testing.T, in model.CustomerUpdate, u *model.Update, body map[string]string) {
	t.Helper()
	same := func(field string, want *string) {
		if got, ok := body[field]; want != nil && (!ok || got != *want) {
			t.Fatalf("%s = %q, want %q", field, got, *want)
		}
	}
	same("username", in.FullName)
	same("email", in.Email)
	same("parameter1", attrPtr(in.Attributes, "tier"))
	same("user_parameter", attrPtr(in.Attributes, "note"))
	same("parameter10", attrPtr(in.Attributes, "segment"))
	if in.Order != nil {
		same("order_number", in.Order.OrderNumber)
	}
	if u.Birthday != nil && !u.Birthday.LeapMonth {
		bd := u.Birthday.Date.String()
		same("birthday", &bd)
	}
}

func attrPtr(m map[string]string, k string) *string {
	if v, ok := m[k]; ok {
		return &v
	}
	return nil
}

// serveSim serves req on h in-process and answers the body.
func serveSim(h http.Handler, req *model.Request) []byte {
	r := httptest.NewRequest(req.Method, req.URL, bytes.NewReader(req.Body))
	r.Header = req.Header.Clone()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Body.Bytes()
}
