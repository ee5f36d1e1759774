package engagelab

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
)

// elAuth is the sandbox credentials' Authorization header.
var elAuth = http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(SandboxAPIKey+":"+SandboxAPISecret))}}

func TestEngageLabContactDocumentSample(t *testing.T) {
	cfg := testConfig()
	cfg.APIKey, cfg.APISecret = docEngageLabKey, docEngageLabSecret
	sim, srv := start(t, cfg)
	r := post(t, srv, PathContact, http.Header{"Authorization": {docEngageLabAuth}}, readTestdata(t, "engagelab_contact.json"))
	if r.Status != 200 || string(r.Raw) != `{"code":0,"message":"success"}` {
		t.Fatalf("got %d %s", r.Status, r.Raw)
	}
	got, ok := sim.Contacts(10362473)
	if want := map[string]string{"mobile_phone": "18023456879", "email": "12@gmail.com"}; !ok || !maps.Equal(got, want) {
		t.Errorf("stored contacts = %v, %v", got, ok)
	}
}

func TestEngageLabAuth(t *testing.T) {
	basic := func(s string) http.Header {
		return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(s))}}
	}
	tests := []struct {
		name   string
		header http.Header
	}{
		{"no Authorization", nil},
		{"wrong secret", basic(SandboxAPIKey + ":other")},
		{"wrong key", basic("other:" + SandboxAPISecret)},
		{"swapped", basic(SandboxAPISecret + ":" + SandboxAPIKey)},
		{"key only", basic(SandboxAPIKey)},
		{"not base64", http.Header{"Authorization": {"Basic " + SandboxAPIKey + ":" + SandboxAPISecret}}},
		{"bearer", http.Header{"Authorization": {"Bearer " + SandboxAPIKey}}},
	}
	_, srv := start(t, testConfig())
	for _, path := range []string{PathContact, PathRegister} {
		for _, tt := range tests {
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				r := post(t, srv, path, tt.header, `{"euid":1,"contacts":{"email":"a@b.c"}}`)
				if r.Status != 200 || r.Code() != CodeAuthFailed {
					t.Errorf("got %d %s, want 200 with code 40050", r.Status, r.Raw)
				}
			})
		}
	}
}

func TestEngageLabContactRules(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantCode int
	}{
		{"ok", `{"euid":1,"contacts":{"email":"a@b.c"}}`, 0},
		{"64-bit euid", `{"euid":9223372036854775807,"contacts":{"email":"a@b.c"}}`, 0},
		{"not JSON", `euid=1`, CodeInvalidParams},
		{"euid string", `{"euid":"10362473","contacts":{"email":"a@b.c"}}`, CodeInvalidParams},
		{"euid missing", `{"contacts":{"email":"a@b.c"}}`, CodeEUIDEmpty},
		{"euid null", `{"euid":null,"contacts":{"email":"a@b.c"}}`, CodeEUIDEmpty},
		{"euid 0", `{"euid":0,"contacts":{"email":"a@b.c"}}`, CodeEUIDEmpty},
		{"euid decimal", `{"euid":1.5,"contacts":{"email":"a@b.c"}}`, CodeInvalidParams},
		{"euid exponent", `{"euid":1e7,"contacts":{"email":"a@b.c"}}`, CodeInvalidParams},
		{"euid bool", `{"euid":true,"contacts":{"email":"a@b.c"}}`, CodeInvalidParams},
		{"euid negative", `{"euid":-3,"contacts":{"email":"a@b.c"}}`, CodeInvalidEUID},
		{"euid beyond 64 bits", `{"euid":9223372036854775808,"contacts":{"email":"a@b.c"}}`, CodeInvalidEUID},
		{"contacts missing", `{"euid":1}`, CodeInvalidParams},
		{"contacts empty", `{"euid":1,"contacts":{}}`, CodeInvalidParams},
		{"contacts list", `{"euid":1,"contacts":[{"email":"a@b.c"}]}`, CodeInvalidParams},
		{"contacts string", `{"euid":1,"contacts":"a@b.c"}`, CodeInvalidParams},
		{"contact value empty", `{"euid":1,"contacts":{"email":"a@b.c","mobile_phone":""}}`, CodeEmptyAttributeValue},
		{"contact value number", `{"euid":1,"contacts":{"mobile_phone":18023456879}}`, CodeInvalidParams},
		{"contact value null", `{"euid":1,"contacts":{"mobile_phone":null}}`, CodeInvalidParams},
		{"contact name empty", `{"euid":1,"contacts":{"":"x"}}`, CodeInvalidAttributeName},
		{"contact name with a dot", `{"euid":1,"contacts":{"e.mail":"x"}}`, CodeInvalidAttributeName},
		{"unknown field", `{"euid":1,"contacts":{"email":"a@b.c"},"email":"a@b.c"}`, CodeInvalidParams},
	}
	_, srv := start(t, testConfig())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, srv, PathContact, elAuth, tt.body)
			if r.Status != 200 || r.Code() != tt.wantCode || r.Str("message") == "" {
				t.Errorf("got %d %s, want 200 with code %d", r.Status, r.Raw, tt.wantCode)
			}
		})
	}
}

func registerBody(name string, values ...string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = fmt.Sprintf("%q", v)
	}
	return fmt.Sprintf(`{"identity_name":%q,"identity_values":[%s]}`, name, strings.Join(quoted, ","))
}

func TestEngageLabRegisterRules(t *testing.T) {
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("u%d", i)
		}
		return out
	}
	tests := []struct {
		name     string
		body     string
		wantCode int
	}{
		{"user_id", registerBody("user_id", "c-42"), 0},
		{"anonymous_id", registerBody("anonymous_id", "a"), 0},
		{"registration_id", registerBody("registration_id", "r"), 0},
		{"100 values", registerBody("user_id", many(100)...), 0},
		{"256 characters", registerBody("user_id", strings.Repeat("가", 256)), 0},
		{"email identity", registerBody("email", "a@b.c"), CodeUnsupportedIdentity},
		{"no identity_name", `{"identity_values":["a"]}`, CodeUnsupportedIdentity},
		{"identity_name number", `{"identity_name":1,"identity_values":["a"]}`, CodeUnsupportedIdentity},
		{"101 values", registerBody("user_id", many(101)...), CodeTooManyIdentities},
		{"empty value", registerBody("user_id", "a", ""), CodeEmptyIdentity},
		{"257 characters", registerBody("user_id", strings.Repeat("x", 257)), CodeIdentityTooLong},
		{"no values", `{"identity_name":"user_id"}`, CodeInvalidParams},
		{"empty list", `{"identity_name":"user_id","identity_values":[]}`, CodeInvalidParams},
		{"values string", `{"identity_name":"user_id","identity_values":"a"}`, CodeInvalidParams},
		{"value number", `{"identity_name":"user_id","identity_values":[42]}`, CodeInvalidParams},
		{"unknown field", `{"identity_name":"user_id","identity_values":["a"],"euid":1}`, CodeInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, srv := start(t, testConfig())
			r := post(t, srv, PathRegister, elAuth, tt.body)
			if r.Status != 200 || r.Code() != tt.wantCode {
				t.Fatalf("got %d %s, want 200 with code %d", r.Status, r.Raw, tt.wantCode)
			}
			if _, given := sim.EUID("user_id", "a"); tt.wantCode != 0 && given {
				t.Error("a refused call handed out an EUID")
			}
		})
	}
}

func TestEngageLabRegisterStableEUIDs(t *testing.T) {
	sim, srv := start(t, testConfig())
	type entry struct {
		IdentityValue string `json:"identity_value"`
		EUID          int64  `json:"euid"`
	}
	register := func(name string, values ...string) []entry {
		t.Helper()
		r := post(t, srv, PathRegister, elAuth, registerBody(name, values...))
		var ans struct {
			Code int     `json:"code"`
			Data []entry `json:"data"`
		}
		decodeInto(t, r.Raw, &ans)
		if ans.Code != 0 || len(ans.Data) != len(values) {
			t.Fatalf("register %v: %s", values, r.Raw)
		}
		return ans.Data
	}
	first := register("user_id", "c-1", "c-2", "c-1")
	want := []entry{{"c-1", 10000000}, {"c-2", 10000001}, {"c-1", 10000000}}
	if fmt.Sprint(first) != fmt.Sprint(want) {
		t.Fatalf("first register: %v, want %v", first, want)
	}
	if again := register("user_id", "c-3", "c-2"); fmt.Sprint(again) != fmt.Sprint([]entry{{"c-3", 10000002}, {"c-2", 10000001}}) {
		t.Errorf("second register: %v", again)
	}
	if other := register("anonymous_id", "c-1"); other[0].EUID != 10000003 {
		t.Errorf("the same value under another identity name: %v, want its own EUID", other)
	}
	if id, ok := sim.EUID("user_id", "c-2"); !ok || id != 10000001 {
		t.Errorf("EngageLabEUID = %d, %v", id, ok)
	}
	sim.core.Reset()
	if afterReset := register("user_id", "c-9"); afterReset[0].EUID != 10000000 {
		t.Errorf("after Reset: %v, want the counter to start again", afterReset)
	}
}

func TestSandboxConfig(t *testing.T) {
	if c := SandboxConfig(); c.APIKey != "sandbox-engagelab-key" || c.APISecret != "sandbox-engagelab-secret" {
		t.Errorf("SandboxConfig = %+v", c)
	}
	if s := Sandbox(); s.cfg != SandboxConfig() {
		t.Errorf("Sandbox serves %+v", s.cfg)
	}
}

func TestSandboxEnv(t *testing.T) {
	got := SandboxEnv("http://127.0.0.1:9090")
	want := map[string]string{
		"ENGAGELAB_BASE_URL":   "http://127.0.0.1:9090",
		"ENGAGELAB_API_KEY":    "sandbox-engagelab-key",
		"ENGAGELAB_API_SECRET": "sandbox-engagelab-secret",
	}
	if !maps.Equal(got, want) {
		t.Errorf("SandboxEnv = %v, want %v", got, want)
	}
}
