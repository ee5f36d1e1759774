package ladiflow

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/customergateway/gateway/internal/model"
)

// TestPlanGoldenDocumentExample feeds the canonical form of the vendor document's own
// example through model.Prepare, Plan and Send, and compares what LadiFlow receives with
// the document's request body.
func TestPlanGoldenDocumentExample(t *testing.T) {
	var f model.CustomerUpdate
	dec := json.NewDecoder(bytes.NewReader(readTestdata(t, "customer_update.canonical.json")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("canonical example: %v", err)
	}
	srv := newFakeLadiFlow(t, http.StatusOK, string(readTestdata(t, "customer_update.response.json")))
	a := New(Config{BaseURL: srv.URL, APIKey: testKey}, srv.Client())

	p, err := a.Plan(prepare(t, "123", f))
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if p.Skip != model.NotSkipped || p.Request == nil {
		t.Fatalf("Plan skipped: %+v", p)
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings = %q, want none: the example fits LadiFlow entirely", p.Warnings)
	}
	if _, err := a.Send(context.Background(), p.Request); err != nil {
		t.Fatalf("Send with the document's own success answer: %v", err)
	}

	want := decodeObject(t, readTestdata(t, "customer_update.request.json"))
	// Keys of the document's example that the canonical contract cannot produce, each
	// removed for a stated reason; any other difference fails the test.
	dropped := map[string]string{
		"source":       "no canonical field: LadiFlow fills it in itself (its answer says \"API\")",
		"subcribed_at": "no canonical field (and the document spells it so)",
		"phone":        "null in the example: the contract sends nothing for 'leave as it is', never null",
		"skype":        "null in the example: absent means leave as it is",
		"zalo":         "null in the example: absent means leave as it is",
	}
	for k := range dropped {
		if _, ok := want[k]; !ok {
			t.Errorf("dropped key %q is not in the document's example: update the list", k)
		}
		delete(want, k)
	}

	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("LadiFlow got %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	if got.Method != http.MethodPost || got.Path != "/1.0/customer/update" {
		t.Errorf("call = %s %s, want POST /1.0/customer/update", got.Method, got.Path)
	}
	if k := got.Header.Get("Api-Key"); k != testKey {
		t.Errorf("Api-Key = %q, want the configured key", k)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	body := decodeObject(t, got.Body)
	for k, v := range want {
		if !reflect.DeepEqual(body[k], v) {
			t.Errorf("%s = %#v, want %#v (document)", k, body[k], v)
		}
	}
	for k, v := range body {
		if _, ok := want[k]; !ok {
			t.Errorf("%s = %#v sent, but the document's example has no such key", k, v)
		}
	}
}

// TestPlanMapping checks each mapping rule on top of a minimal update that LadiFlow
// accepts (its id and an email).
func TestPlanMapping(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(f *model.CustomerUpdate)
		want     string   // JSON object: keys that must be sent with exactly these values
		absent   []string // keys that must not be sent
		warnings []string
	}{
		{
			name: "identity: _id from vendor_refs and external_customer_id from the customer id",
			edit: func(f *model.CustomerUpdate) {},
			want: `{"_id":"653a3ca502e8ab00122c39c3","external_customer_id":"c-42","email":"a@example.com"}`,
		},
		{
			name: "names",
			edit: func(f *model.CustomerUpdate) {
				f.FullName, f.FirstName = ptr("Nguyễn Văn An"), ptr("An")
			},
			want: `{"full_name":"Nguyễn Văn An","first_name":"An"}`,
		},
		{
			name:     "last_name has no LadiFlow field",
			edit:     func(f *model.CustomerUpdate) { f.FullName, f.LastName = ptr("Nguyễn Văn An"), ptr("Nguyễn") },
			want:     `{"full_name":"Nguyễn Văn An"}`,
			absent:   []string{"last_name"},
			warnings: []string{"last_name has no LadiFlow field; not sent (send full_name)"},
		},
		{
			name: "gender male",
			edit: func(f *model.CustomerUpdate) { f.Gender = ptr(model.GenderMale) },
			want: `{"gender":"male"}`,
		},
		{
			name: "gender female",
			edit: func(f *model.CustomerUpdate) { f.Gender = ptr(model.GenderFemale) },
			want: `{"gender":"female"}`,
		},
		{
			name:     "gender other has no LadiFlow form",
			edit:     func(f *model.CustomerUpdate) { f.Gender = ptr(model.GenderOther) },
			absent:   []string{"gender"},
			warnings: []string{"gender 'other' has no LadiFlow form; not sent"},
		},
		{
			name: "solar birthday sent as it is",
			edit: func(f *model.CustomerUpdate) { f.Birthday = ptr("1989-11-03") },
			want: `{"dob":"1989-11-03"}`,
		},
		{
			name: "explicitly solar birthday",
			edit: func(f *model.CustomerUpdate) {
				f.Birthday, f.BirthdayCalendar = ptr("2000-02-29"), ptr(model.CalendarSolar)
			},
			want: `{"dob":"2000-02-29"}`,
		},
		{
			name: "lunar birthday sent as its solar date",
			edit: func(f *model.CustomerUpdate) {
				f.Birthday, f.BirthdayCalendar = ptr("1956-01-21"), ptr(model.CalendarLunar)
			},
			want:     `{"dob":"1956-03-03"}`,
			warnings: []string{"lunar birthday 1956-01-21 sent as its solar date 1956-03-03"},
		},
		{
			name: "lunar birthday of the contract's example",
			edit: func(f *model.CustomerUpdate) {
				f.Birthday, f.BirthdayCalendar = ptr("1990-01-15"), ptr(model.CalendarLunar)
			},
			want:     `{"dob":"1990-02-10"}`,
			warnings: []string{"lunar birthday 1990-01-15 sent as its solar date 1990-02-10"},
		},
		{
			name: "lunar birthday in a leap month",
			edit: func(f *model.CustomerUpdate) {
				f.Birthday, f.BirthdayCalendar, f.BirthdayLeapMonth = ptr("2017-05-01"), ptr(model.CalendarLunar), ptr(true)
			},
			want:     `{"dob":"2017-06-24"}`,
			warnings: []string{"lunar birthday 2017-05-01 (leap month) sent as its solar date 2017-06-24"},
		},
		{
			name: "the same lunar date outside the leap month",
			edit: func(f *model.CustomerUpdate) {
				f.Birthday, f.BirthdayCalendar, f.BirthdayLeapMonth = ptr("2017-05-01"), ptr(model.CalendarLunar), ptr(false)
			},
			want:     `{"dob":"2017-05-26"}`,
			warnings: []string{"lunar birthday 2017-05-01 sent as its solar date 2017-05-26"},
		},
		{
			name: "lunar birthday outside the table is not sent",
			edit: func(f *model.CustomerUpdate) {
				f.Birthday, f.BirthdayCalendar = ptr("2051-01-01"), ptr(model.CalendarLunar)
			},
			absent: []string{"dob"},
			warnings: []string{"lunar birthday 2051-01-01 not sent as dob: " +
				"lunar date outside the Korean lunar table (1900-01 to 2050-11), so its solar date is unknown"},
		},
		{name: "language vi", edit: func(f *model.CustomerUpdate) { f.Language = ptr("vi") }, want: `{"lang":"vi"}`},
		{name: "language en", edit: func(f *model.CustomerUpdate) { f.Language = ptr("en") }, want: `{"lang":"en"}`},
		{name: "language ko", edit: func(f *model.CustomerUpdate) { f.Language = ptr("ko") }, want: `{"lang":"other"}`},
		{name: "language fr", edit: func(f *model.CustomerUpdate) { f.Language = ptr("fr") }, want: `{"lang":"other"}`},
		{
			name: "address",
			edit: func(f *model.CustomerUpdate) {
				f.Address = &model.Address{
					Line1: ptr("68 Nguyễn Cơ Thạch"), Line2: ptr("Tầng 3"), Ward: ptr("Mỹ Đình 1"),
					District: ptr("Nam Từ Liêm"), City: ptr("Hà Nội"), Country: ptr("VN"),
				}
			},
			want: `{"address":"68 Nguyễn Cơ Thạch","address_2":"Tầng 3","ward":"Mỹ Đình 1",` +
				`"district":"Nam Từ Liêm","city":"Hà Nội","country":"VN"}`,
			absent: []string{"postal_code", "line1", "line2"},
		},
		{
			name:   "an empty line2 is sent as an empty address_2",
			edit:   func(f *model.CustomerUpdate) { f.Address = &model.Address{Line2: ptr("")} },
			want:   `{"address_2":""}`,
			absent: []string{"address"},
		},
		{
			name: "postal code that is a number",
			edit: func(f *model.CustomerUpdate) { f.Address = &model.Address{PostalCode: ptr("100000")} },
			want: `{"postal_code":100000}`,
		},
		{
			name: "postal code zero",
			edit: func(f *model.CustomerUpdate) { f.Address = &model.Address{PostalCode: ptr("0")} },
			want: `{"postal_code":0}`,
		},
		{
			name:     "postal code with a leading zero would lose it",
			edit:     func(f *model.CustomerUpdate) { f.Address = &model.Address{PostalCode: ptr("06236")} },
			absent:   []string{"postal_code"},
			warnings: []string{`address.postal_code "06236" cannot be a LadiFlow number without changing it; not sent`},
		},
		{
			name:     "postal code that is not a number",
			edit:     func(f *model.CustomerUpdate) { f.Address = &model.Address{PostalCode: ptr("SW1A 1AA")} },
			absent:   []string{"postal_code"},
			warnings: []string{`address.postal_code "SW1A 1AA" cannot be a LadiFlow number without changing it; not sent`},
		},
		{
			name:     "postal code too large for a 64-bit number",
			edit:     func(f *model.CustomerUpdate) { f.Address = &model.Address{PostalCode: ptr("99999999999999999999")} },
			absent:   []string{"postal_code"},
			warnings: []string{`address.postal_code "99999999999999999999" cannot be a LadiFlow number without changing it; not sent`},
		},
		{
			name: "company and job title",
			edit: func(f *model.CustomerUpdate) { f.Company, f.JobTitle = ptr("LadiPage"), ptr("Coder") },
			want: `{"company":"LadiPage","job_title":"Coder"}`,
		},
		{
			name: "tags as given",
			edit: func(f *model.CustomerUpdate) {
				f.Tags = []string{"5fffb9ce81cf1245fa091986", "5fffb9c981cf1245fa091985"}
			},
			want: `{"tags":["5fffb9ce81cf1245fa091986","5fffb9c981cf1245fa091985"]}`,
		},
		{
			name: "an empty tag list is sent: the customer has no tags",
			edit: func(f *model.CustomerUpdate) { f.Tags = []string{} },
			want: `{"tags":[]}`,
		},
		{
			name: "attributes become custom_fields sorted by name",
			edit: func(f *model.CustomerUpdate) {
				f.Attributes = map[string]string{"tier": "gold", "Zone": "north", "age_group": "30s", "ldp_pkg_name": "LADIPAGE-PRO"}
			},
			want: `{"custom_fields":[{"name":"Zone","value":"north"},{"name":"age_group","value":"30s"},` +
				`{"name":"ldp_pkg_name","value":"LADIPAGE-PRO"},{"name":"tier","value":"gold"}]}`,
		},
		{
			name: "social",
			edit: func(f *model.CustomerUpdate) {
				f.Social = &model.Social{
					Website: ptr("https://an.vn"), Facebook: ptr("https://fb.com/an"), Twitter: ptr("https://x.com/an"),
					LinkedIn: ptr("https://linkedin.com/in/an"), Zalo: ptr("an.zalo"), Skype: ptr("an.skype"),
				}
			},
			want: `{"website":"https://an.vn","facebook_url":"https://fb.com/an","twitter_url":"https://x.com/an",` +
				`"linkedIn_url":"https://linkedin.com/in/an","zalo":"an.zalo","skype":"an.skype"}`,
			absent: []string{"facebook", "twitter", "linkedin", "linkedin_url"},
		},
		{
			name: "lead score",
			edit: func(f *model.CustomerUpdate) { f.LeadScore = ptr(int64(14)) },
			want: `{"score":14}`,
		},
		{
			name: "a lead score of zero is sent",
			edit: func(f *model.CustomerUpdate) { f.LeadScore = ptr(int64(0)) },
			want: `{"score":0}`,
		},
		{
			name:   "national phone sent as E.164",
			edit:   func(f *model.CustomerUpdate) { f.Email, f.Phone = nil, ptr("0912345678") },
			want:   `{"phone":"+84912345678"}`,
			absent: []string{"email"},
		},
		{
			name: "E.164 phone of another region",
			edit: func(f *model.CustomerUpdate) { f.Phone = ptr("+821012345678") },
			want: `{"phone":"+821012345678","email":"a@example.com"}`,
		},
		{
			name: "several warnings come in field order",
			edit: func(f *model.CustomerUpdate) {
				f.FullName, f.LastName, f.Gender = ptr("An"), ptr("Nguyễn"), ptr(model.GenderOther)
				f.Birthday, f.BirthdayCalendar = ptr("1990-01-15"), ptr(model.CalendarLunar)
				f.Address = &model.Address{PostalCode: ptr("06236")}
			},
			want: `{"full_name":"An","dob":"1990-02-10"}`,
			warnings: []string{
				"last_name has no LadiFlow field; not sent (send full_name)",
				"gender 'other' has no LadiFlow form; not sent",
				"lunar birthday 1990-01-15 sent as its solar date 1990-02-10",
				`address.postal_code "06236" cannot be a LadiFlow number without changing it; not sent`,
			},
		},
	}
	a := New(Config{BaseURL: "http://127.0.0.1:1", APIKey: testKey}, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := model.CustomerUpdate{
				Email:      ptr("a@example.com"),
				VendorRefs: model.VendorRefs{"ladiflow": {"id": model.StringRef("653a3ca502e8ab00122c39c3")}},
			}
			tt.edit(&f)
			p, err := a.Plan(prepare(t, "c-42", f))
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if p.Request == nil {
				t.Fatalf("no request: %+v", p)
			}
			if bytes.Contains(p.Request.Body, []byte("null")) {
				t.Errorf("body has a null, which LadiFlow would store: %s", p.Request.Body)
			}
			body := decodeObject(t, p.Request.Body)
			if tt.want != "" {
				for k, v := range decodeObject(t, []byte(tt.want)) {
					if !reflect.DeepEqual(body[k], v) {
						t.Errorf("%s = %#v, want %#v\nbody: %s", k, body[k], v, p.Request.Body)
					}
				}
			}
			for _, k := range tt.absent {
				if v, ok := body[k]; ok {
					t.Errorf("%s = %#v sent, want absent", k, v)
				}
			}
			if !slices.Equal(p.Warnings, tt.warnings) {
				t.Errorf("warnings = %q, want %q", p.Warnings, tt.warnings)
			}
		})
	}
}

// TestPlanDeterministic guards the body against map order: the same update always gives
// the same bytes, so a dry run and a retry show and send the same thing.
func TestPlanDeterministic(t *testing.T) {
	a := New(Config{APIKey: testKey}, nil)
	u := prepare(t, "c-42", fullUpdate())
	first, err := a.Plan(u)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		p, err := a.Plan(u)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p.Request.Body, first.Request.Body) {
			t.Fatalf("body changed between calls:\n%s\n%s", first.Request.Body, p.Request.Body)
		}
		if !slices.Equal(p.Warnings, first.Warnings) {
			t.Fatalf("warnings changed between calls: %q then %q", first.Warnings, p.Warnings)
		}
	}
	if strings.Contains(string(first.Request.Body), testKey) {
		t.Error("the API key is in the body")
	}
}

// fullUpdate sets every field LadiFlow takes, and a few it warns about.
func fullUpdate() model.CustomerUpdate {
	attrs := map[string]string{}
	for _, k := range []string{"tier", "segment", "ldp_pkg_name", "source_campaign", "region", "zone", "age_group", "plan"} {
		attrs[k] = k + "-value"
	}
	return model.CustomerUpdate{
		FullName: ptr("Nguyễn Văn An"), FirstName: ptr("An"), LastName: ptr("Nguyễn"),
		Email: ptr("an@example.com"), Phone: ptr("0912345678"), Gender: ptr(model.GenderMale),
		Birthday: ptr("1990-01-15"), BirthdayCalendar: ptr(model.CalendarLunar),
		Language: ptr("vi"),
		Address: &model.Address{
			Line1: ptr("68 Nguyễn Cơ Thạch"), Line2: ptr(""), Ward: ptr("Mỹ Đình 1"), District: ptr("Nam Từ Liêm"),
			City: ptr("Hà Nội"), PostalCode: ptr("100000"), Country: ptr("VN"),
		},
		Company: ptr("LadiPage"), JobTitle: ptr("Coder"),
		Tags:       []string{"5fffb9c981cf1245fa091985", "5fffb9ce81cf1245fa091986"},
		Attributes: attrs,
		Social: &model.Social{
			Website: ptr("https://an.vn"), Facebook: ptr("https://fb.com/an"), Twitter: ptr("https://x.com/an"),
			LinkedIn: ptr("https://linkedin.com/in/an"), Zalo: ptr("an.zalo"), Skype: ptr("an.skype"),
		},
		LeadScore:  ptr(int64(14)),
		VendorRefs: model.VendorRefs{"ladiflow": {"id": model.StringRef("653a3ca502e8ab00122c39c3")}},
	}
}
