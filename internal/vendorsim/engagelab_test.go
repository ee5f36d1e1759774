package vendorsim

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
)

// elAuth is the sandbox credentials' Authorization header.
var elAuth = http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(SandboxEngageLabAPIKey+":"+SandboxEngageLabAPISecret))}}

func TestEngageLabContactDocumentSample(t *testing.T) {
	cfg := testConfig()
	cfg.EngageLabAPIKey, cfg.EngageLabAPISecret = docEngageLabKey, docEngageLabSecret
	sim, srv := start(t, cfg)
	r := post(t, srv, pathELContact, http.Header{"Authorization": {docEngageLabAuth}}, readTestdata(t, "engagelab_contact.json"))
	if r.status != 200 || string(r.raw) != `{"code":0,"message":"success"}` {
		t.Fatalf("got %d %s", r.status, r.raw)
	}
	got, ok := sim.EngageLabContacts(10362473)
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
		{"wrong secret", basic(SandboxEngageLabAPIKey + ":other")},
		{"wrong key", basic("other:" + SandboxEngageLabAPISecret)},
		{"swapped", basic(SandboxEngageLabAPISecret + ":" + SandboxEngageLabAPIKey)},
		{"key only", basic(SandboxEngageLabAPIKey)},
		{"not base64", http.Header{"Authorization": {"Basic " + SandboxEngageLabAPIKey + ":" + SandboxEngageLabAPISecret}}},
		{"bearer", http.Header{"Authorization": {"Bearer " + SandboxEngageLabAPIKey}}},
	}
	_, srv := start(t, testConfig())
	for _, path := range []string{pathELContact, pathELRegister} {
		for _, tt := range tests {
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				r := post(t, srv, path, tt.header, `{"euid":1,"contacts":{"email":"a@b.c"}}`)
				if r.status != 200 || r.code() != EngageLabCodeAuthFailed {
					t.Errorf("got %d %s, want 200 with code 40050", r.status, r.raw)
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
		{"not JSON", `euid=1`, EngageLabCodeInvalidParams},
		{"euid string", `{"euid":"10362473","contacts":{"email":"a@b.c"}}`, EngageLabCodeInvalidParams},
		{"euid missing", `{"contacts":{"email":"a@b.c"}}`, EngageLabCodeEUIDEmpty},
		{"euid null", `{"euid":null,"contacts":{"email":"a@b.c"}}`, EngageLabCodeEUIDEmpty},
		{"euid 0", `{"euid":0,"contacts":{"email":"a@b.c"}}`, EngageLabCodeEUIDEmpty},
		{"euid decimal", `{"euid":1.5,"contacts":{"email":"a@b.c"}}`, EngageLabCodeInvalidParams},
		{"euid exponent", `{"euid":1e7,"contacts":{"email":"a@b.c"}}`, EngageLabCodeInvalidParams},
		{"euid bool", `{"euid":true,"contacts":{"email":"a@b.c"}}`, EngageLabCodeInvalidParams},
		{"euid negative", `{"euid":-3,"contacts":{"email":"a@b.c"}}`, EngageLabCodeInvalidEUID},
		{"euid beyond 64 bits", `{"euid":9223372036854775808,"contacts":{"email":"a@b.c"}}`, EngageLabCodeInvalidEUID},
		{"contacts missing", `{"euid":1}`, EngageLabCodeInvalidParams},
		{"contacts empty", `{"euid":1,"contacts":{}}`, EngageLabCodeInvalidParams},
		{"contacts list", `{"euid":1,"contacts":[{"email":"a@b.c"}]}`, EngageLabCodeInvalidParams},
		{"contacts string", `{"euid":1,"contacts":"a@b.c"}`, EngageLabCodeInvalidParams},
		{"contact value empty", `{"euid":1,"contacts":{"email":"a@b.c","mobile_phone":""}}`, EngageLabCodeEmptyAttributeValue},
		{"contact value number", `{"euid":1,"contacts":{"mobile_phone":18023456879}}`, EngageLabCodeInvalidParams},
		{"contact value null", `{"euid":1,"contacts":{"mobile_phone":null}}`, EngageLabCodeInvalidParams},
		{"contact name empty", `{"euid":1,"contacts":{"":"x"}}`, EngageLabCodeInvalidAttributeName},
		{"contact name with a dot", `{"euid":1,"contacts":{"e.mail":"x"}}`, EngageLabCodeInvalidAttributeName},
		{"unknown field", `{"euid":1,"contacts":{"email":"a@b.c"},"email":"a@b.c"}`, EngageLabCodeInvalidParams},
	}
	_, srv := start(t, testConfig())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, srv, pathELContact, elAuth, tt.body)
			if r.status != 200 || r.code() != tt.wantCode || r.str("message") == "" {
				t.Errorf("got %d %s, want 200 with code %d", r.status, r.raw, tt.wantCode)
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
		{"email identity", registerBody("email", "a@b.c"), EngageLabCodeUnsupportedIdentity},
		{"no identity_name", `{"identity_values":["a"]}`, EngageLabCodeUnsupportedIdentity},
		{"identity_name number", `{"identity_name":1,"identity_values":["a"]}`, EngageLabCodeUnsupportedIdentity},
		{"101 values", registerBody("user_id", many(101)...), EngageLabCodeTooManyIdentities},
		{"empty value", registerBody("user_id", "a", ""), EngageLabCodeEmptyIdentity},
		{"257 characters", registerBody("user_id", strings.Repeat("x", 257)), EngageLabCodeIdentityTooLong},
		{"no values", `{"identity_name":"user_id"}`, EngageLabCodeInvalidParams},
		{"empty list", `{"identity_name":"user_id","identity_values":[]}`, EngageLabCodeInvalidParams},
		{"values string", `{"identity_name":"user_id","identity_values":"a"}`, EngageLabCodeInvalidParams},
		{"value number", `{"identity_name":"user_id","identity_values":[42]}`, EngageLabCodeInvalidParams},
		{"unknown field", `{"identity_name":"user_id","identity_values":["a"],"euid":1}`, EngageLabCodeInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, srv := start(t, testConfig())
			r := post(t, srv, pathELRegister, elAuth, tt.body)
			if r.status != 200 || r.code() != tt.wantCode {
				t.Fatalf("got %d %s, want 200 with code %d", r.status, r.raw, tt.wantCode)
			}
			if _, given := sim.EngageLabEUID("user_id", "a"); tt.wantCode != 0 && given {
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
		r := post(t, srv, pathELRegister, elAuth, registerBody(name, values...))
		var ans struct {
			Code int     `json:"code"`
			Data []entry `json:"data"`
		}
		decodeInto(t, r.raw, &ans)
		if ans.Code != 0 || len(ans.Data) != len(values) {
			t.Fatalf("register %v: %s", values, r.raw)
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
	if id, ok := sim.EngageLabEUID("user_id", "c-2"); !ok || id != 10000001 {
		t.Errorf("EngageLabEUID = %d, %v", id, ok)
	}
	sim.Reset()
	if afterReset := register("user_id", "c-9"); afterReset[0].EUID != 10000000 {
		t.Errorf("after Reset: %v, want the counter to start again", afterReset)
	}
}
