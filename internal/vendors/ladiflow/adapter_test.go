package ladiflow

import (
	"errors"
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/customergateway/gateway/internal/model"
)

func TestPlanOutcomes(t *testing.T) {
	ref := model.VendorRefs{Name: {refID: model.StringRef("653a3ca502e8ab00122c39c3")}}
	tests := []struct {
		name     string
		key      string
		update   model.CustomerUpdate
		skip     model.SkipKind
		reason   string
		warnings []string
		wantErr  model.FieldErrors
	}{
		{
			name:   "not configured",
			key:    "",
			update: model.CustomerUpdate{Email: ptr("a@example.com"), VendorRefs: ref},
			skip:   model.SkipNoKeys,
			reason: "LadiFlow is not configured",
		},
		{
			name:   "no vendor_refs",
			key:    testKey,
			update: model.CustomerUpdate{Email: ptr("a@example.com")},
			skip:   model.SkipNoKeys,
			reason: "no LadiFlow id known for this customer",
		},
		{
			name: "refs of other vendors only",
			key:  testKey,
			update: model.CustomerUpdate{Email: ptr("a@example.com"),
				VendorRefs: model.VendorRefs{"happytalk": {"uuid": model.StringRef("u"), "room_id": model.StringRef("r")}}},
			skip:   model.SkipNoKeys,
			reason: "no LadiFlow id known for this customer",
		},
		{
			name:   "empty LadiFlow id",
			key:    testKey,
			update: model.CustomerUpdate{Email: ptr("a@example.com"), VendorRefs: model.VendorRefs{Name: {}}},
			skip:   model.SkipNoKeys,
			reason: "no LadiFlow id known for this customer",
		},
		{
			name:   "the id alone changes nothing",
			key:    testKey,
			update: model.CustomerUpdate{VendorRefs: ref},
			skip:   model.SkipNothingToSend,
			reason: "nothing in the update concerns LadiFlow",
		},
		{
			name: "HappyTalk-only fields",
			key:  testKey,
			update: model.CustomerUpdate{
				Order:        &model.Order{OrderNumber: ptr("o-1")},
				Consultation: &model.Consultation{CategoryID: ptr("7")},
				Vendors:      []model.Vendor{Name},
				VendorRefs:   model.VendorRefs{Name: ref[Name], "happytalk": {"uuid": model.StringRef("u"), "room_id": model.StringRef("r")}},
			},
			skip:   model.SkipNothingToSend,
			reason: "nothing in the update concerns LadiFlow",
		},
		{
			name:     "only fields LadiFlow cannot hold: skipped, and the warnings say why",
			key:      testKey,
			update:   model.CustomerUpdate{LastName: ptr("Nguyễn"), Gender: ptr(model.GenderOther), VendorRefs: ref},
			skip:     model.SkipNothingToSend,
			reason:   "nothing in the update concerns LadiFlow",
			warnings: []string{warnLastName, warnGenderOther},
		},
		{
			name:   "neither email nor phone",
			key:    testKey,
			update: model.CustomerUpdate{FullName: ptr("An"), VendorRefs: ref},
			wantErr: model.FieldErrors{{Field: "email", Vendor: Name,
				Message: "LadiFlow requires email or phone in every update"}},
		},
		{
			name:   "email alone is an update",
			key:    testKey,
			update: model.CustomerUpdate{Email: ptr("a@example.com"), VendorRefs: ref},
			skip:   model.NotSkipped,
		},
		{
			name:   "phone without email",
			key:    testKey,
			update: model.CustomerUpdate{Phone: ptr("+84912345678"), FullName: ptr("An"), VendorRefs: ref},
			skip:   model.NotSkipped,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(Config{APIKey: tt.key}, nil)
			if a.Enabled() != (tt.key != "") {
				t.Errorf("Enabled = %v with key %q", a.Enabled(), tt.key)
			}
			p, err := a.Plan(prepare(t, "c-42", tt.update))
			if tt.wantErr != nil {
				var fe model.FieldErrors
				if !errors.As(err, &fe) || !reflect.DeepEqual(fe, tt.wantErr) {
					t.Fatalf("err = %#v, want %#v", err, tt.wantErr)
				}
				if p.Request != nil {
					t.Error("a request came with the error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if p.Vendor != Name || p.Skip != tt.skip || p.Reason != tt.reason {
				t.Errorf("plan = {%s %d %q}, want {ladiflow %d %q}", p.Vendor, p.Skip, p.Reason, tt.skip, tt.reason)
			}
			if (p.Request != nil) != (tt.skip == model.NotSkipped) {
				t.Errorf("request = %v with skip %d", p.Request, p.Skip)
			}
			if !slices.Equal(p.Warnings, tt.warnings) {
				t.Errorf("warnings = %q, want %q", p.Warnings, tt.warnings)
			}
		})
	}
}

func TestPlanRequest(t *testing.T) {
	tests := []struct {
		base string
		url  string
	}{
		{"https://api.service.ladiflow.com", "https://api.service.ladiflow.com/1.0/customer/update"},
		{"https://api.service.ladiflow.com/", "https://api.service.ladiflow.com/1.0/customer/update"},
		{"http://127.0.0.1:8081/ladiflow/", "http://127.0.0.1:8081/ladiflow/1.0/customer/update"},
		{"", DefaultBaseURL + "/1.0/customer/update"},
	}
	u := prepare(t, "c-42", model.CustomerUpdate{Email: ptr("a@example.com"),
		VendorRefs: model.VendorRefs{"ladiflow": {"id": model.StringRef("x")}}})
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			a := New(Config{BaseURL: tt.base, APIKey: testKey}, nil)
			if a.Name() != Name {
				t.Errorf("Vendor = %q", a.Name())
			}
			p, err := a.Plan(u)
			if err != nil {
				t.Fatal(err)
			}
			r := p.Request
			if r.Method != http.MethodPost || r.URL != tt.url {
				t.Errorf("request = %s %s, want POST %s", r.Method, r.URL, tt.url)
			}
			want := http.Header{"Api-Key": {testKey}, "Content-Type": {"application/json"}}
			if !reflect.DeepEqual(r.Header, want) {
				t.Errorf("header = %v, want %v", r.Header, want)
			}
			// A wrapper adding a header to one request must not reach the next one.
			r.Header.Set("X-Request-Id", "r-1")
			r.Header.Set("Api-Key", "changed")
			p2, _ := a.Plan(u)
			if !reflect.DeepEqual(p2.Request.Header, want) {
				t.Errorf("next request's header = %v: the template was shared", p2.Request.Header)
			}
		})
	}
}

func BenchmarkPlan(b *testing.B) {
	a := New(Config{BaseURL: DefaultBaseURL, APIKey: testKey}, nil)
	u := prepare(b, "c-42", fullUpdate())
	b.ReportAllocs()
	for b.Loop() {
		p, err := a.Plan(u)
		if err != nil || p.Request == nil {
			b.Fatalf("Plan: %v %+v", err, p)
		}
	}
}
