package ladiflow

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
)

var lfKey = http.Header{"Api-Key": {SandboxAPIKey}}

func TestLadiFlowDocumentSample(t *testing.T) {
	sim, srv := start(t, testConfig())
	r := post(t, srv, PathCustomerUpdate, lfKey, readTestdata(t, "ladiflow_customer_update.json"))
	if r.Status != 200 || r.Code() != 201 || r.Str("message") != "Thành công" {
		t.Fatalf("got %d %s, want 200 with code 201", r.Status, r.Raw)
	}
	data, _ := r.Body["data"].(map[string]any)
	checks := map[string]any{
		"_id": "653a3ca502e8ab00122c39c3", "email": "test@gmail.com", "gender": "male",
		"dob": "1989-11-03T00:00:00.000Z", "dob_year": 1989.0, "dob_month": 10.0, "dob_day": 3.0,
		"dob_month_day": "1003", "postal_code": 100000.0, "score": 14.0, "name": "test",
		"key": "test@gmail.com-5f9fa8a09b5c4d6ce6e3a77d", "isNewSubscriber": true,
	}
	for k, want := range checks {
		if data[k] != want {
			t.Errorf("data.%s = %v, want %v", k, data[k], want)
		}
	}
	golden(t, "ladiflow_customer_update.golden.json", r.Raw)

	stored, ok := sim.Customer("653a3ca502e8ab00122c39c3")
	if !ok || stored["postal_code"] != json.Number("100000") || stored["city"] != "Hà Nội" || stored["phone"] != nil {
		t.Errorf("stored customer = %v, %v", stored, ok)
	}
	again := post(t, srv, PathCustomerUpdate, lfKey, `{"_id":"653a3ca502e8ab00122c39c3","phone":"0901234567"}`)
	if d, _ := again.Body["data"].(map[string]any); d["isNewSubscriber"] != false || d["email"] != "test@gmail.com" || d["phone"] != "0901234567" {
		t.Errorf("second update of the same _id: %s", again.Raw)
	}
}

func TestLadiFlowAuth(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
	}{
		{"no Api-Key", nil},
		{"wrong Api-Key", http.Header{"Api-Key": {"other"}}},
		{"key as a bearer token", http.Header{"Authorization": {"Bearer " + SandboxAPIKey}}},
		{"empty Api-Key", http.Header{"Api-Key": {""}}},
	}
	_, srv := start(t, testConfig())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, srv, PathCustomerUpdate, tt.header, readTestdata(t, "ladiflow_customer_update.json"))
			if r.Status != 401 || r.Code() != 401 || r.Str("message") == "" {
				t.Errorf("got %d %s, want 401 with code 401", r.Status, r.Raw)
			}
		})
	}
}

func TestLadiFlowFieldRules(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		fields map[string]any
		wantIn string // "" means accepted
	}{
		{name: "not JSON", body: `_id=1`, wantIn: "JSON"},
		{name: "no _id", fields: map[string]any{"_id": nil}, wantIn: "_id"},
		{name: "_id null", fields: map[string]any{"_id": null}, wantIn: "_id"},
		{name: "_id number", fields: map[string]any{"_id": 653}, wantIn: "_id"},
		{name: "_id empty", fields: map[string]any{"_id": ""}, wantIn: "_id"},
		{name: "neither email nor phone", fields: map[string]any{"email": nil, "phone": nil}, wantIn: "email or phone"},
		{name: "email null, phone null", fields: map[string]any{"email": null, "phone": null}, wantIn: "email or phone"},
		{name: "email empty", fields: map[string]any{"email": ""}, wantIn: "email or phone"},
		{name: "phone only", fields: map[string]any{"email": nil, "phone": "0901234567"}},
		{name: "email number", fields: map[string]any{"email": 5, "phone": "0901234567"}, wantIn: "email"},
		{name: "phone number", fields: map[string]any{"phone": 901234567}, wantIn: "phone"},
		{name: "gender female", fields: map[string]any{"gender": "female"}},
		{name: "gender Male", fields: map[string]any{"gender": "Male"}, wantIn: "gender"},
		{name: "gender other", fields: map[string]any{"gender": "other"}, wantIn: "gender"},
		{name: "gender M", fields: map[string]any{"gender": "M"}, wantIn: "gender"},
		{name: "dob slashes", fields: map[string]any{"dob": "03/11/1989"}, wantIn: "dob"},
		{name: "dob no such day", fields: map[string]any{"dob": "1989-02-30"}, wantIn: "dob"},
		{name: "dob timestamp", fields: map[string]any{"dob": "1989-11-03T00:00:00.000Z"}, wantIn: "dob"},
		{name: "dob number", fields: map[string]any{"dob": 19891103}, wantIn: "dob"},
		{name: "postal_code string", fields: map[string]any{"postal_code": "100000"}, wantIn: "postal_code"},
		{name: "score string", fields: map[string]any{"score": "14"}, wantIn: "score"},
		{name: "score decimal", fields: map[string]any{"score": 14.5}},
		{name: "tags string", fields: map[string]any{"tags": "vip"}, wantIn: "tags"},
		{name: "tags numbers", fields: map[string]any{"tags": []any{1, 2}}, wantIn: "tags"},
		{name: "tags empty", fields: map[string]any{"tags": []any{}}},
		{name: "custom_fields object", fields: map[string]any{"custom_fields": map[string]any{"tier": "gold"}}, wantIn: "custom_fields"},
		{name: "custom_fields no value", fields: map[string]any{"custom_fields": []any{map[string]any{"name": "tier"}}}, wantIn: "custom_fields"},
		{name: "custom_fields empty name", fields: map[string]any{"custom_fields": []any{map[string]any{"name": "", "value": "x"}}}, wantIn: "custom_fields"},
		{name: "custom_fields key/value", fields: map[string]any{"custom_fields": []any{map[string]any{"key": "tier", "value": "x"}}}, wantIn: "custom_fields"},
		{name: "custom_fields strings", fields: map[string]any{"custom_fields": []any{"tier=gold"}}, wantIn: "custom_fields"},
		{name: "lang en", fields: map[string]any{"lang": "en"}},
		{name: "lang other", fields: map[string]any{"lang": "other"}},
		{name: "lang ko", fields: map[string]any{"lang": "ko"}, wantIn: "lang"},
		{name: "lang vi-VN", fields: map[string]any{"lang": "vi-VN"}, wantIn: "lang"},
		{name: "first_name number", fields: map[string]any{"first_name": 7}, wantIn: "first_name"},
		{name: "city list", fields: map[string]any{"city": []any{"Hà Nội"}}, wantIn: "city"},
		{name: "linkedIn_url bool", fields: map[string]any{"linkedIn_url": true}, wantIn: "linkedIn_url"},
		{name: "external_customer_id number", fields: map[string]any{"external_customer_id": 123}, wantIn: "external_customer_id"},
		{name: "website list", fields: map[string]any{"website": []any{"https://a.vn"}}},
		{name: "website number", fields: map[string]any{"website": 1}, wantIn: "website"},
		{name: "channels string", fields: map[string]any{"channels": "API"}, wantIn: "channels"},
		{name: "optional fields null", fields: map[string]any{"gender": null, "dob": null, "score": null, "tags": null, "lang": null}},
		{name: "an undocumented field goes to external_data", fields: map[string]any{"favourite_colour": "blue"}},
	}
	_, srv := start(t, testConfig())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if body == "" {
				body = withFields(t, readTestdata(t, "ladiflow_customer_update.json"), tt.fields)
			}
			r := post(t, srv, PathCustomerUpdate, lfKey, body)
			if tt.wantIn == "" {
				if r.Status != 200 || r.Code() != 201 {
					t.Fatalf("got %d %s, want 200 code 201", r.Status, r.Raw)
				}
				return
			}
			if r.Status != 400 || r.Code() != 400 || !strings.Contains(r.Str("message"), tt.wantIn) {
				t.Errorf("got %d %s, want 400 naming %q", r.Status, r.Raw, tt.wantIn)
			}
		})
	}
}

func TestSandboxConfig(t *testing.T) {
	if c := SandboxConfig(); c.APIKey != "sandbox-ladiflow-key" {
		t.Errorf("SandboxConfig = %+v", c)
	}
	// The default: the real clock.
	if s := Sandbox(); s.cfg.APIKey != SandboxAPIKey || s.cfg.Now == nil {
		t.Errorf("Sandbox serves %+v", s.cfg)
	}
}

func TestSandboxEnv(t *testing.T) {
	got := SandboxEnv("http://127.0.0.1:9090")
	want := map[string]string{"LADIFLOW_BASE_URL": "http://127.0.0.1:9090", "LADIFLOW_API_KEY": "sandbox-ladiflow-key"}
	if !maps.Equal(got, want) {
		t.Errorf("SandboxEnv = %v, want %v", got, want)
	}
}
