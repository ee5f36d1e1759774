package happytalk

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/customergateway/gateway/internal/model"
)

// docUpdate is the canonical form of HappyTalk's own set_user_info sample.
func docUpdate(phone string) model.CustomerUpdate {
	r := refs()
	r[Name][refUsersID] = model.StringRef("test_account")
	return model.CustomerUpdate{
		FullName:     ptr("test"),
		Phone:        ptr(phone),
		Email:        ptr("happytalk@happytalk.io"),
		Gender:       ptr(model.GenderMale),
		Birthday:     ptr("2021-09-23"),
		Consultation: &model.Consultation{CategoryID: ptr("75319"), DivisionID: ptr("75320")},
		Order: &model.Order{
			OrderNumber:   ptr("12345678910"),
			ProductNumber: ptr("13245678912"),
			ParcelNumber:  ptr("12345678910111213"),
		},
		Attributes: map[string]string{"tier": "parameter1", "note": "user_parameter"},
		VendorRefs: r,
	}
}

func TestPlanMatchesDocumentSamples(t *testing.T) {
	tests := []struct {
		name   string
		format GenderFormat
		phone  string
		golden string
	}{
		{"sex code, E.164 phone", GenderCode, "+821011111111", "set_user_info_sex_code.json"},
		{"sex code, national phone", GenderCode, "010-1111-1111", "set_user_info_sex_code.json"},
		{"sex korean", GenderKorean, "010-1111-1111", "set_user_info_sex_korean.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("https://patch-customer.happytalk.io/")
			cfg.GenderFormat = tt.format
			plan, err := newTestAdapter(cfg).Plan(prepare(t, docUpdate(tt.phone)))
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if plan.Vendor != Name || plan.Skip != model.NotSkipped || len(plan.Warnings) != 0 {
				t.Fatalf("plan = %+v, want a request with no warnings", plan)
			}
			req := plan.Request
			if req.Method != http.MethodPost || req.URL != "https://patch-customer.happytalk.io/user/api/set_user_info/format/json" {
				t.Errorf("request line = %s %s", req.Method, req.URL)
			}
			if ct := req.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			assertSameJSON(t, req.Body, readGolden(t, tt.golden))
		})
	}
}

func TestPlanTranslation(t *testing.T) {
	tests := []struct {
		name     string
		format   GenderFormat
		update   model.CustomerUpdate
		wantSkip model.SkipKind
		// wantBody lists the body fields beyond token, uuid and room_id.
		wantBody     map[string]any
		wantWarnings []string
	}{
		{
			name:     "male as code",
			update:   model.CustomerUpdate{Gender: ptr(model.GenderMale)},
			wantBody: map[string]any{"sex": "M"},
		},
		{
			name:     "female as code",
			update:   model.CustomerUpdate{Gender: ptr(model.GenderFemale)},
			wantBody: map[string]any{"sex": "F"},
		},
		{
			name:     "male in Korean",
			format:   GenderKorean,
			update:   model.CustomerUpdate{Gender: ptr(model.GenderMale)},
			wantBody: map[string]any{"sex": "남"},
		},
		{
			name:     "female in Korean",
			format:   GenderKorean,
			update:   model.CustomerUpdate{Gender: ptr(model.GenderFemale)},
			wantBody: map[string]any{"sex": "여"},
		},
		{
			name:         "gender other is left out with a warning",
			update:       model.CustomerUpdate{Gender: ptr(model.GenderOther), Email: ptr("a@example.com")},
			wantBody:     map[string]any{"email": "a@example.com"},
			wantWarnings: []string{"gender 'other' has no HappyTalk form; not sent"},
		},
		{
			name:         "gender other alone leaves nothing to send",
			update:       model.CustomerUpdate{Gender: ptr(model.GenderOther)},
			wantSkip:     model.SkipNothingToSend,
			wantWarnings: []string{"gender 'other' has no HappyTalk form; not sent"},
		},
		{
			name:     "solar birthday",
			update:   model.CustomerUpdate{Birthday: ptr("1990-01-15")},
			wantBody: map[string]any{"birthday": "1990-01-15", "birth_type": "0"},
		},
		{
			name:     "lunar birthday is sent as the lunar date",
			update:   model.CustomerUpdate{Birthday: ptr("1990-01-15"), BirthdayCalendar: ptr(model.CalendarLunar)},
			wantBody: map[string]any{"birthday": "1990-01-15", "birth_type": "1"},
		},
		{
			name:     "lunar 30th that no solar month has",
			update:   model.CustomerUpdate{Birthday: ptr("2021-02-30"), BirthdayCalendar: ptr(model.CalendarLunar)},
			wantBody: map[string]any{"birthday": "2021-02-30", "birth_type": "1"},
		},
		{
			name: "lunar leap-month birthday is left out",
			update: model.CustomerUpdate{
				Birthday: ptr("2020-04-10"), BirthdayCalendar: ptr(model.CalendarLunar), BirthdayLeapMonth: ptr(true),
				Email: ptr("a@example.com"),
			},
			wantBody:     map[string]any{"email": "a@example.com"},
			wantWarnings: []string{warnLeapMonth},
		},
		{
			name:     "Korean phone as national digits",
			update:   model.CustomerUpdate{Phone: ptr("+82 10-1234-5678")},
			wantBody: map[string]any{"phone": "01012345678"},
		},
		{
			name:     "foreign phone is left out",
			update:   model.CustomerUpdate{Phone: ptr("+84912345678"), FullName: ptr("Nguyen Van A")},
			wantBody: map[string]any{"username": "Nguyen Van A"},
			wantWarnings: []string{
				"phone is a number of region VN; HappyTalk keeps national digits without a country code, so it is not sent",
			},
		},
		{
			name:     "first and last name are not HappyTalk's",
			update:   model.CustomerUpdate{FirstName: ptr("Minji"), LastName: ptr("Kim")},
			wantSkip: model.SkipNothingToSend,
		},
		{
			name:     "users_id alone is something to send",
			update:   model.CustomerUpdate{VendorRefs: model.VendorRefs{Name: {refUUID: model.StringRef("1000225100_sazob20220921062938"), refRoomID: model.StringRef("상담방 번호"), refUsersID: model.StringRef("u-1")}}},
			wantBody: map[string]any{"users_id": "u-1"},
		},
		{
			name:     "an empty value is passed on, not dropped",
			update:   model.CustomerUpdate{FullName: ptr(""), Attributes: map[string]string{"tier": ""}},
			wantBody: map[string]any{"username": "", "parameter1": ""},
		},
		{
			name:     "order and consultation",
			update:   model.CustomerUpdate{Order: &model.Order{ParcelNumber: ptr("P-1")}, Consultation: &model.Consultation{DivisionID: ptr("7")}},
			wantBody: map[string]any{"parcel_number": "P-1", "division_id": "7"},
		},
		{
			name: "unmapped attributes warn in sorted order",
			update: model.CustomerUpdate{
				Gender:     ptr(model.GenderOther),
				Attributes: map[string]string{"zeta": "1", "alpha": "2", "tier": "gold", "note": "n", "mid": "3"},
			},
			wantBody: map[string]any{"parameter1": "gold", "user_parameter": "n"},
			wantWarnings: []string{
				"attribute 'alpha' has no HappyTalk parameter (HAPPYTALK_PARAMETER_MAP); not sent",
				"attribute 'mid' has no HappyTalk parameter (HAPPYTALK_PARAMETER_MAP); not sent",
				"attribute 'zeta' has no HappyTalk parameter (HAPPYTALK_PARAMETER_MAP); not sent",
				"gender 'other' has no HappyTalk form; not sent",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("https://customer.happytalk.io")
			if tt.format != "" {
				cfg.GenderFormat = tt.format
			}
			if tt.update.VendorRefs == nil {
				tt.update.VendorRefs = refs()
			}
			plan, err := newTestAdapter(cfg).Plan(prepare(t, tt.update))
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if plan.Skip != tt.wantSkip {
				t.Fatalf("Skip = %v (%s), want %v", plan.Skip, plan.Reason, tt.wantSkip)
			}
			if !reflect.DeepEqual(plan.Warnings, tt.wantWarnings) {
				t.Errorf("warnings = %q, want %q", plan.Warnings, tt.wantWarnings)
			}
			if tt.wantSkip == model.SkipNothingToSend {
				if plan.Request != nil || plan.Reason != "nothing in the update concerns HappyTalk" {
					t.Errorf("plan = %+v, want no request and the nothing-to-send reason", plan)
				}
				return
			}
			want := map[string]any{"token": docToken, "uuid": "1000225100_sazob20220921062938", "room_id": "상담방 번호"}
			for k, v := range tt.wantBody {
				want[k] = v
			}
			wantJSON, _ := json.Marshal(want)
			assertSameJSON(t, plan.Request.Body, wantJSON)
		})
	}
}

func TestPlanSkips(t *testing.T) {
	email := ptr("a@example.com")
	tests := []struct {
		name       string
		token      string
		update     model.CustomerUpdate
		wantSkip   model.SkipKind
		wantReason string
	}{
		{"not configured", "", model.CustomerUpdate{Email: email, VendorRefs: refs()}, model.SkipNoKeys, "HappyTalk is not configured"},
		{"no vendor_refs", docToken, model.CustomerUpdate{Email: email}, model.SkipNoKeys, "no HappyTalk uuid and room_id known for this customer"},
		{"other vendors' refs only", docToken, model.CustomerUpdate{Email: email, VendorRefs: model.VendorRefs{"ladiflow": {"id": model.StringRef("x")}}}, model.SkipNoKeys, "no HappyTalk uuid and room_id known for this customer"},
		{"empty happytalk refs", docToken, model.CustomerUpdate{Email: email, VendorRefs: model.VendorRefs{Name: {}}}, model.SkipNoKeys, "no HappyTalk uuid and room_id known for this customer"},
		{"keys but nothing for HappyTalk", docToken, model.CustomerUpdate{Company: ptr("ACME"), Tags: []string{"t"}, VendorRefs: refs()}, model.SkipNothingToSend, "nothing in the update concerns HappyTalk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("https://customer.happytalk.io")
			cfg.Token = tt.token
			a := newTestAdapter(cfg)
			if a.Enabled() != (tt.token != "") {
				t.Errorf("Enabled() = %v with token %q", a.Enabled(), tt.token)
			}
			plan, err := a.Plan(prepare(t, tt.update))
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if plan.Skip != tt.wantSkip || plan.Reason != tt.wantReason || plan.Request != nil || plan.Vendor != Name {
				t.Errorf("plan = %+v, want skip %v %q", plan, tt.wantSkip, tt.wantReason)
			}
		})
	}
}

func TestPlanFieldErrors(t *testing.T) {
	korean20 := strings.Repeat("가", 20) // 60 bytes: a byte count would refuse it
	korean200 := strings.Repeat("나", 200)
	limitErr := func(name, param string, limit, n int) model.FieldError {
		return model.FieldError{Field: "attributes." + name, Vendor: Name,
			Message: "HappyTalk keeps only " + strconv.Itoa(limit) + " characters of " + param + "; this value has " + strconv.Itoa(n)}
	}
	tests := []struct {
		name     string
		attrs    map[string]string
		ref      model.Refs
		wantErrs model.FieldErrors
	}{
		{name: "20 Korean characters fit parameter1", attrs: map[string]string{"tier": korean20}},
		{name: "200 Korean characters fit user_parameter", attrs: map[string]string{"note": korean200}},
		{
			name:     "21 characters do not fit parameter1",
			attrs:    map[string]string{"tier": korean20 + "a"},
			wantErrs: model.FieldErrors{limitErr("tier", "parameter1", 20, 21)},
		},
		{
			name:     "201 characters do not fit user_parameter",
			attrs:    map[string]string{"note": korean200 + "다"},
			wantErrs: model.FieldErrors{limitErr("note", "user_parameter", 200, 201)},
		},
		{
			name:  "every cut value is named",
			attrs: map[string]string{"tier": strings.Repeat("x", 25), "note": strings.Repeat("y", 300), "code": strings.Repeat("z", 21)},
			wantErrs: model.FieldErrors{
				limitErr("code", "parameter10", 20, 21),
				limitErr("note", "user_parameter", 200, 300),
				limitErr("tier", "parameter1", 20, 25),
			},
		},
		{
			name:  "uuid without room_id",
			attrs: map[string]string{"tier": "gold"},
			ref:   model.Refs{refUUID: model.StringRef("u")},
			wantErrs: model.FieldErrors{{Field: "vendor_refs.happytalk.room_id", Vendor: Name,
				Message: "HappyTalk needs both uuid and room_id; room_id is missing"}},
		},
		{
			name:  "room_id without uuid, and a cut value",
			attrs: map[string]string{"tier": strings.Repeat("x", 21)},
			ref:   model.Refs{refRoomID: model.StringRef("r"), refUsersID: model.StringRef("x")},
			wantErrs: model.FieldErrors{
				limitErr("tier", "parameter1", 20, 21),
				{Field: "vendor_refs.happytalk.uuid", Vendor: Name, Message: "HappyTalk needs both uuid and room_id; uuid is missing"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("https://customer.happytalk.io")
			cfg.ParameterMap = ParameterMap{"tier": "parameter1", "note": "user_parameter", "code": "parameter10"}
			f := model.CustomerUpdate{Attributes: tt.attrs, VendorRefs: refs()}
			if tt.ref != nil {
				f.VendorRefs = model.VendorRefs{Name: tt.ref}
			}
			plan, err := newTestAdapter(cfg).Plan(prepare(t, f))
			if tt.wantErrs == nil {
				if err != nil || plan.Request == nil {
					t.Fatalf("Plan = %+v, %v; want a request", plan, err)
				}
				return
			}
			got, ok := err.(model.FieldErrors)
			if !ok {
				t.Fatalf("err = %#v, want model.FieldErrors", err)
			}
			if !reflect.DeepEqual(got, tt.wantErrs) {
				t.Errorf("errors =\n %q\nwant\n %q", got, tt.wantErrs)
			}
			if plan.Request != nil {
				t.Error("a refused update still has a request")
			}
		})
	}
}

// A map built by hand (not parsed) must still give the same answer on every call.
func TestHandMadeParameterMapIsDeterministic(t *testing.T) {
	cfg := testConfig("https://customer.happytalk.io")
	cfg.ParameterMap = ParameterMap{"b": "parameter2", "a": "parameter2", "c": "parameter99", "": "parameter3"}
	a := newTestAdapter(cfg)
	for range 20 {
		plan, err := a.Plan(prepare(t, model.CustomerUpdate{Attributes: map[string]string{"a": "1", "b": "2", "c": "3"}, VendorRefs: refs()}))
		if err != nil {
			t.Fatal(err)
		}
		assertSameJSON(t, plan.Request.Body, []byte(`{"token":"고객사 토큰","uuid":"1000225100_sazob20220921062938","room_id":"상담방 번호","parameter2":"1"}`))
		want := []string{
			"attribute 'b' has no HappyTalk parameter (HAPPYTALK_PARAMETER_MAP); not sent",
			"attribute 'c' has no HappyTalk parameter (HAPPYTALK_PARAMETER_MAP); not sent",
		}
		if !reflect.DeepEqual(plan.Warnings, want) {
			t.Fatalf("warnings = %q", plan.Warnings)
		}
	}
}

func BenchmarkPlan(b *testing.B) {
	cfg := testConfig("https://customer.happytalk.io")
	cfg.ParameterMap = ParameterMap{"tier": "parameter1", "note": "user_parameter", "segment": "parameter2"}
	a := New(cfg, nil)
	f := docUpdate("+821011111111")
	f.Attributes = map[string]string{"tier": "gold", "note": "VIP since 2019", "segment": "retail", "unmapped": "x"}
	u, err := model.Prepare("c-42", f, "KR")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Plan(u); err != nil {
			b.Fatal(err)
		}
	}
}
