package engagelab

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/customergateway/gateway/internal/model"
)

var jsonInteger = regexp.MustCompile(`^-?[0-9]+$`)

// documentAuthorization reads the document's sample header and the api_key:api_secret
// pair it encodes.
func documentAuthorization(t *testing.T) (header string, cfg Config) {
	t.Helper()
	line := strings.TrimSpace(string(readTestdata(t, "user_contact.authorization.txt")))
	name, value, ok := strings.Cut(line, ": ")
	if !ok || name != "Authorization" || !strings.HasPrefix(value, "Basic ") {
		t.Fatalf("testdata header is not an Authorization: Basic line: %q", line)
	}
	pair, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(value, "Basic "))
	if err != nil {
		t.Fatalf("document header is not base64: %v", err)
	}
	key, secret, ok := strings.Cut(string(pair), ":")
	if !ok {
		t.Fatalf("document header does not decode to key:secret: %q", pair)
	}
	return value, Config{APIKey: key, APISecret: secret}
}

// TestPlanGoldenDocumentExample feeds the canonical form of the document's own example
// through model.Prepare, Plan and Send, and compares what EngageLab receives with the
// document's request: its body and its Authorization header, computed from the pair the
// document's header encodes.
func TestPlanGoldenDocumentExample(t *testing.T) {
	wantAuth, cfg := documentAuthorization(t)
	srv := newFakeEngageLab(t, http.StatusOK, string(readTestdata(t, "user_contact.response.json")))
	cfg.BaseURL = srv.URL + "/"
	a := New(cfg, srv.Client())

	var f model.CustomerUpdate
	dec := json.NewDecoder(bytes.NewReader(readTestdata(t, "user_contact.canonical.json")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("canonical example: %v", err)
	}
	p, err := a.Plan(prepare(t, "c-42", f))
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if p.Skip != model.NotSkipped || p.Request == nil || p.Vendor != Name {
		t.Fatalf("Plan = %+v, want a request", p)
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings = %q, want none", p.Warnings)
	}
	if _, err := a.Send(context.Background(), p.Request); err != nil {
		t.Fatalf("Send with the document's own success answer: %v", err)
	}

	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("EngageLab got %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	if got.Method != http.MethodPost || got.Path != "/v1/user/contact" {
		t.Errorf("request line = %s %s, want POST /v1/user/contact", got.Method, got.Path)
	}
	if v := got.Header.Get("Authorization"); v != wantAuth {
		t.Errorf("Authorization = %q, want the document's %q", v, wantAuth)
	}
	if v := got.Header.Get("Content-Type"); v != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", v)
	}
	want := decodeJSON(t, readTestdata(t, "user_contact.request.json"))
	if body := decodeJSON(t, got.Body); !reflect.DeepEqual(body, want) {
		t.Errorf("body = %s\nwant the document's %s", got.Body, readTestdata(t, "user_contact.request.json"))
	}
	if raw := rawField(t, got.Body, "euid"); raw != "10362473" {
		t.Errorf("euid written as %s, want the JSON integer 10362473", raw)
	}
}

// TestEUID64BitExact checks that an euid beyond float64's exact range (2^53 + 1) reaches
// the wire and the dry-run view unchanged, as a JSON integer.
func TestEUID64BitExact(t *testing.T) {
	const euid = int64(9007199254740993)
	a := New(Config{APIKey: testKey, APISecret: testSecret}, nil)
	p, err := a.Plan(prepare(t, "c-1", model.CustomerUpdate{Email: ptr("a@example.com"), VendorRefs: refs(euid)}))
	if err != nil || p.Request == nil {
		t.Fatalf("Plan = %+v, %v", p, err)
	}
	if raw := rawField(t, p.Request.Body, "euid"); raw != "9007199254740993" {
		t.Errorf("body euid = %s, want 9007199254740993", raw)
	}

	v := a.View(p.Request)
	body, ok := v.Body.(map[string]any)
	if !ok {
		t.Fatalf("view body = %#v, want an object", v.Body)
	}
	if n, ok := body["euid"].(json.Number); !ok || n.String() != "9007199254740993" {
		t.Errorf("view euid = %#v, want json.Number 9007199254740993", body["euid"])
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"euid":9007199254740993`)) {
		t.Errorf("view as JSON = %s, want euid 9007199254740993 as an integer", out)
	}
}

// TestViewMasksCredentials checks that a dry run shows the request but not the
// credentials, in any form.
func TestViewMasksCredentials(t *testing.T) {
	a := New(Config{BaseURL: "https://ma-api.engagelab.com/", APIKey: testKey, APISecret: testSecret}, nil)
	p, err := a.Plan(prepare(t, "c-1", model.CustomerUpdate{Phone: ptr("010-1234-5678"), VendorRefs: refs(7)}))
	if err != nil || p.Request == nil {
		t.Fatalf("Plan = %+v, %v", p, err)
	}
	v := a.View(p.Request)
	if v.Method != http.MethodPost || v.URL != "https://ma-api.engagelab.com/v1/user/contact" {
		t.Errorf("view request line = %s %s", v.Method, v.URL)
	}
	if v.Headers["Authorization"] != "***" {
		t.Errorf("view Authorization = %q, want ***", v.Headers["Authorization"])
	}
	if v.Headers["Content-Type"] != "application/json" {
		t.Errorf("view Content-Type = %q, want application/json", v.Headers["Content-Type"])
	}
	out, _ := json.Marshal(v)
	for _, secret := range credentialForms(testKey, testSecret) {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("view %s shows a credential", out)
		}
	}
	if p.Request.Header.Get("Authorization") != basicAuth(testKey, testSecret) {
		t.Error("View changed the request it was shown")
	}
}

// credentialForms are the strings that would leak the credentials.
func credentialForms(key, secret string) []string {
	enc := base64.StdEncoding.EncodeToString([]byte(key + ":" + secret))
	return []string{key, secret, enc, "Basic " + enc}
}

// TestPlanOutcomes walks every way Plan can end.
func TestPlanOutcomes(t *testing.T) {
	full := Config{APIKey: testKey, APISecret: testSecret}
	tests := []struct {
		name   string
		cfg    Config
		update func(t *testing.T) *model.Update
		// wantSkip and wantReason are checked when wantErr is empty.
		wantSkip   model.SkipKind
		wantReason string
		wantBody   string
		// wantErr lists the canonical fields the FieldErrors must name.
		wantErr []string
	}{
		{
			name:       "no credentials",
			cfg:        Config{},
			update:     withFields(model.CustomerUpdate{Email: ptr("a@example.com"), VendorRefs: refs(1)}),
			wantSkip:   model.SkipNoKeys,
			wantReason: "EngageLab is not configured",
		},
		{
			name:       "key without secret",
			cfg:        Config{APIKey: testKey},
			update:     withFields(model.CustomerUpdate{Email: ptr("a@example.com"), VendorRefs: refs(1)}),
			wantSkip:   model.SkipNoKeys,
			wantReason: "EngageLab is not configured",
		},
		{
			name:       "secret without key",
			cfg:        Config{APISecret: testSecret},
			update:     withFields(model.CustomerUpdate{Email: ptr("a@example.com"), VendorRefs: refs(1)}),
			wantSkip:   model.SkipNoKeys,
			wantReason: "EngageLab is not configured",
		},
		{
			name:       "no vendor_refs",
			cfg:        full,
			update:     withFields(model.CustomerUpdate{Email: ptr("a@example.com")}),
			wantSkip:   model.SkipNoKeys,
			wantReason: "no EngageLab euid known for this customer",
		},
		{
			name:       "vendor_refs without engagelab",
			cfg:        full,
			update:     withFields(model.CustomerUpdate{Email: ptr("a@example.com"), VendorRefs: model.VendorRefs{"ladiflow": {"id": model.StringRef("x")}}}),
			wantSkip:   model.SkipNoKeys,
			wantReason: "no EngageLab euid known for this customer",
		},
		{
			name:       "euid 0",
			cfg:        full,
			update:     withFields(model.CustomerUpdate{Email: ptr("a@example.com"), VendorRefs: refs(0)}),
			wantSkip:   model.SkipNoKeys,
			wantReason: "no EngageLab euid known for this customer",
		},
		{
			name: "no email and no phone",
			cfg:  full,
			update: withFields(model.CustomerUpdate{
				FullName: ptr("Kim"), Gender: ptr(model.GenderFemale), Birthday: ptr("1990-01-02"),
				Tags: []string{"vip"}, Attributes: map[string]string{"tier": "gold"}, VendorRefs: refs(1),
			}),
			wantSkip:   model.SkipNothingToSend,
			wantReason: "nothing in the update concerns EngageLab",
		},
		{
			name:     "email only",
			cfg:      full,
			update:   withFields(model.CustomerUpdate{Email: ptr("a@example.com"), FullName: ptr("Kim"), VendorRefs: refs(42)}),
			wantBody: `{"euid":42,"contacts":{"email":"a@example.com"}}`,
		},
		{
			name:     "Korean national phone only",
			cfg:      full,
			update:   withFields(model.CustomerUpdate{Phone: ptr("010-1234-5678"), VendorRefs: refs(42)}),
			wantBody: `{"euid":42,"contacts":{"mobile_phone":"821012345678"}}`,
		},
		{
			name:     "Vietnamese E.164 phone keeps its country code",
			cfg:      full,
			update:   withFields(model.CustomerUpdate{Phone: ptr("+84912345678"), VendorRefs: refs(42)}),
			wantBody: `{"euid":42,"contacts":{"mobile_phone":"84912345678"}}`,
		},
		{
			name:     "email and phone",
			cfg:      full,
			update:   withFields(model.CustomerUpdate{Email: ptr("a@example.com"), Phone: ptr("+821012345678"), VendorRefs: refs(42)}),
			wantBody: `{"euid":42,"contacts":{"email":"a@example.com","mobile_phone":"821012345678"}}`,
		},
		{
			name:    "empty email is refused, never sent",
			cfg:     full,
			update:  withFields(model.CustomerUpdate{Email: ptr(""), Phone: ptr("+821012345678"), VendorRefs: refs(42)}),
			wantErr: []string{"email"},
		},
		{
			name: "phone the model did not parse is refused",
			cfg:  full,
			update: func(*testing.T) *model.Update {
				return &model.Update{CustomerID: "c-1", Fields: model.CustomerUpdate{Phone: ptr(""), VendorRefs: refs(42)}}
			},
			wantErr: []string{"phone"},
		},
		{
			name:    "negative euid",
			cfg:     full,
			update:  withFields(model.CustomerUpdate{Email: ptr("a@example.com"), VendorRefs: refs(-5)}),
			wantErr: []string{"vendor_refs.engagelab.euid"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(tt.cfg, nil)
			p, err := a.Plan(tt.update(t))
			if len(tt.wantErr) > 0 {
				assertFieldErrors(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if p.Vendor != Name {
				t.Errorf("Vendor = %q", p.Vendor)
			}
			if len(p.Warnings) != 0 {
				t.Errorf("Warnings = %q, want none", p.Warnings)
			}
			if tt.wantBody == "" {
				if p.Skip != tt.wantSkip || p.Reason != tt.wantReason || p.Request != nil {
					t.Errorf("Plan = {Skip:%d Reason:%q Request:%v}, want {Skip:%d Reason:%q no request}", p.Skip, p.Reason, p.Request, tt.wantSkip, tt.wantReason)
				}
				return
			}
			if p.Skip != model.NotSkipped || p.Request == nil {
				t.Fatalf("Plan = %+v, want a request", p)
			}
			if got, want := decodeJSON(t, p.Request.Body), decodeJSON(t, []byte(tt.wantBody)); !reflect.DeepEqual(got, want) {
				t.Errorf("body = %s, want %s", p.Request.Body, tt.wantBody)
			}
			if raw := rawField(t, p.Request.Body, "euid"); !jsonInteger.MatchString(raw) {
				t.Errorf("euid written as %s, want a JSON integer", raw)
			}
		})
	}
}

func withFields(f model.CustomerUpdate) func(t *testing.T) *model.Update {
	return func(t *testing.T) *model.Update { return prepare(t, "c-1", f) }
}

func assertFieldErrors(t *testing.T, err error, fields []string) {
	t.Helper()
	var fe model.FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want model.FieldErrors", err)
	}
	var got []string
	for _, e := range fe {
		if e.Vendor != Name {
			t.Errorf("FieldError %v does not name EngageLab", e)
		}
		got = append(got, e.Field)
	}
	if !reflect.DeepEqual(got, fields) {
		t.Errorf("FieldErrors name %q, want %q", got, fields)
	}
}

// TestNewBaseURL checks where the adapter sends for each form of the base URL.
func TestNewBaseURL(t *testing.T) {
	tests := []struct{ base, want string }{
		{"", "https://ma-api.engagelab.com/v1/user/contact"},
		{"https://ma-api.engagelab.com", "https://ma-api.engagelab.com/v1/user/contact"},
		{"https://ma-api.engagelab.com/", "https://ma-api.engagelab.com/v1/user/contact"},
		{"http://127.0.0.1:9000/engagelab//", "http://127.0.0.1:9000/engagelab/v1/user/contact"},
	}
	for _, tt := range tests {
		a := New(Config{BaseURL: tt.base, APIKey: testKey, APISecret: testSecret}, nil)
		p, err := a.Plan(prepare(t, "c-1", model.CustomerUpdate{Email: ptr("a@example.com"), VendorRefs: refs(1)}))
		if err != nil || p.Request == nil {
			t.Fatalf("Plan(%q) = %+v, %v", tt.base, p, err)
		}
		if p.Request.URL != tt.want {
			t.Errorf("base %q: URL = %q, want %q", tt.base, p.Request.URL, tt.want)
		}
	}
}

// TestPlanRequestsDoNotShareHeaders checks that a caller changing one request's header
// (a retry wrapper adding a trace header, say) cannot change the next plan's.
func TestPlanRequestsDoNotShareHeaders(t *testing.T) {
	a := New(Config{APIKey: testKey, APISecret: testSecret}, nil)
	u := prepare(t, "c-1", model.CustomerUpdate{Email: ptr("a@example.com"), VendorRefs: refs(1)})
	p1, _ := a.Plan(u)
	p1.Request.Header.Set("Authorization", "changed")
	p2, _ := a.Plan(u)
	if got := p2.Request.Header.Get("Authorization"); got != basicAuth(testKey, testSecret) {
		t.Errorf("second plan's Authorization = %q: the header template was shared", got)
	}
}

func TestVendorAndEnabled(t *testing.T) {
	if v := New(Config{}, nil).Name(); v != Name {
		t.Errorf("Vendor = %q", v)
	}
	tests := []struct {
		cfg  Config
		want bool
	}{
		{Config{}, false},
		{Config{APIKey: testKey}, false},
		{Config{APISecret: testSecret}, false},
		{Config{APIKey: testKey, APISecret: testSecret}, true},
	}
	for _, tt := range tests {
		if got := New(tt.cfg, nil).Enabled(); got != tt.want {
			t.Errorf("Enabled(key set %t, secret set %t) = %t, want %t", tt.cfg.APIKey != "", tt.cfg.APISecret != "", got, tt.want)
		}
	}
}

func BenchmarkPlan(b *testing.B) {
	a := New(Config{BaseURL: DefaultBaseURL, APIKey: testKey, APISecret: testSecret}, nil)
	u := prepare(b, "c-42", model.CustomerUpdate{
		Email: ptr("customer@example.com"), Phone: ptr("+821012345678"), FullName: ptr("Kim"),
		VendorRefs: refs(9007199254740993),
	})
	b.ReportAllocs()
	for b.Loop() {
		p, err := a.Plan(u)
		if err != nil || p.Request == nil {
			b.Fatalf("Plan: %v %+v", err, p)
		}
	}
}
