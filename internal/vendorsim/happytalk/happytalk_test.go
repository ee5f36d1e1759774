package happytalk

import (
	"maps"
	"strings"
	"testing"
	"time"
)

// htDoc returns a HappyTalk document sample with the configured token in place of the
// placeholder.
func htDoc(t *testing.T, name string) string {
	return withFields(t, readTestdata(t, name), map[string]any{"token": SandboxToken})
}

func TestHappyTalkSetUserInfoDocumentSamples(t *testing.T) {
	tests := []struct {
		name, format, sample string
		wantResult           string
		wantCode             int
	}{
		{"code account, M sample", GenderCode, "happytalk_set_user_info.code.json", "success", 0},
		{"korean account, 남 sample", GenderKorean, "happytalk_set_user_info.korean.json", "success", 0},
		{"code account refuses 남", GenderCode, "happytalk_set_user_info.korean.json", "fail", CodeInvalidValue},
		{"korean account refuses M", GenderKorean, "happytalk_set_user_info.code.json", "fail", CodeInvalidValue},
		{"default format is code", "", "happytalk_set_user_info.code.json", "success", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.GenderFormat = tt.format
			sim, srv := start(t, cfg)
			r := post(t, srv, PathSetUserInfo, nil, htDoc(t, tt.sample))
			if r.Status != 200 || r.Str("result") != tt.wantResult || r.Code() != tt.wantCode {
				t.Fatalf("got %d %s, want 200 result %s code %d", r.Status, r.Raw, tt.wantResult, tt.wantCode)
			}
			if tt.wantResult == "fail" && !strings.Contains(r.Str("message"), "sex") {
				t.Errorf("message %q does not name sex", r.Str("message"))
			}
			if tt.wantResult != "success" {
				return
			}
			if string(r.Raw) != `{"result":"success"}` {
				t.Errorf("success body = %s", r.Raw)
			}
			u, ok := sim.User("1000225100_sazob20220921062938")
			if !ok || u["room_id"] != "상담방 번호" || u["phone"] != "01011111111" || u["parameter1"] != "parameter1" {
				t.Errorf("stored user = %v, %v", u, ok)
			}
			if _, hasToken := u["token"]; hasToken {
				t.Error("the token was stored with the user")
			}
		})
	}
}

func TestHappyTalkSetUserInfoRules(t *testing.T) {
	tests := []struct {
		name     string
		body     string // when set, sent as is
		fields   map[string]any
		wantCode int // 0: success
		wantIn   string
	}{
		{name: "not JSON", body: `{"token":`, wantCode: CodeBadRequest},
		{name: "JSON array", body: `[]`, wantCode: CodeBadRequest},
		{name: "wrong token", fields: map[string]any{"token": "other"}, wantCode: CodeInvalidToken},
		{name: "no token", fields: map[string]any{"token": nil}, wantCode: CodeInvalidToken},
		{name: "token number", fields: map[string]any{"token": 12}, wantCode: CodeInvalidToken},
		{name: "no uuid", fields: map[string]any{"uuid": nil}, wantCode: CodeMissingField, wantIn: "uuid"},
		{name: "empty uuid", fields: map[string]any{"uuid": ""}, wantCode: CodeMissingField, wantIn: "uuid"},
		{name: "no room_id", fields: map[string]any{"room_id": nil}, wantCode: CodeMissingField, wantIn: "room_id"},
		{name: "empty room_id", fields: map[string]any{"room_id": ""}, wantCode: CodeMissingField, wantIn: "room_id"},
		{name: "room_id number", fields: map[string]any{"room_id": 42}, wantCode: CodeInvalidValue, wantIn: "room_id"},
		{name: "phone number", fields: map[string]any{"phone": 1011111111}, wantCode: CodeInvalidValue, wantIn: "phone"},
		{name: "category_id number", fields: map[string]any{"category_id": 75319}, wantCode: CodeInvalidValue, wantIn: "category_id"},
		{name: "bool value", fields: map[string]any{"username": true}, wantCode: CodeInvalidValue, wantIn: "username"},
		{name: "null value", fields: map[string]any{"email": null}, wantCode: CodeInvalidValue, wantIn: "email"},
		{name: "phone with dashes", fields: map[string]any{"phone": "010-1111-1111"}, wantCode: CodeInvalidValue, wantIn: "phone"},
		{name: "phone E.164", fields: map[string]any{"phone": "+821011111111"}, wantCode: CodeInvalidValue, wantIn: "phone"},
		{name: "phone empty", fields: map[string]any{"phone": ""}, wantCode: CodeInvalidValue, wantIn: "phone"},
		{name: "sex F", fields: map[string]any{"sex": "F"}},
		{name: "sex lower case", fields: map[string]any{"sex": "m"}, wantCode: CodeInvalidValue, wantIn: "sex"},
		{name: "sex 여 on a code account", fields: map[string]any{"sex": "여"}, wantCode: CodeInvalidValue, wantIn: "sex"},
		{name: "sex male", fields: map[string]any{"sex": "male"}, wantCode: CodeInvalidValue, wantIn: "sex"},
		{name: "birthday slashes", fields: map[string]any{"birthday": "2021/09/23"}, wantCode: CodeInvalidValue, wantIn: "birthday"},
		{name: "birthday compact", fields: map[string]any{"birthday": "20210923"}, wantCode: CodeInvalidValue, wantIn: "birthday"},
		{name: "birthday no such day", fields: map[string]any{"birthday": "2021-02-30"}, wantCode: CodeInvalidValue, wantIn: "birthday"},
		{name: "birthday with time", fields: map[string]any{"birthday": "2021-09-23T00:00:00Z"}, wantCode: CodeInvalidValue, wantIn: "birthday"},
		{name: "birth_type lunar", fields: map[string]any{"birth_type": "1"}},
		// birth_type "1" makes birthday a lunar date: lunar months have up to 30 days.
		{name: "lunar 02-30", fields: map[string]any{"birthday": "1990-02-30", "birth_type": "1"}},
		{name: "lunar 01-30", fields: map[string]any{"birthday": "2051-01-30", "birth_type": "1"}},
		{name: "lunar day 31", fields: map[string]any{"birthday": "1990-01-31", "birth_type": "1"}, wantCode: CodeInvalidValue, wantIn: "birthday"},
		{name: "lunar month 13", fields: map[string]any{"birthday": "1990-13-01", "birth_type": "1"}, wantCode: CodeInvalidValue, wantIn: "birthday"},
		{name: "lunar day 00", fields: map[string]any{"birthday": "1990-01-00", "birth_type": "1"}, wantCode: CodeInvalidValue, wantIn: "birthday"},
		{name: "lunar slashes", fields: map[string]any{"birthday": "1990/02/30", "birth_type": "1"}, wantCode: CodeInvalidValue, wantIn: "birthday"},
		{name: "solar 02-30", fields: map[string]any{"birthday": "1990-02-30", "birth_type": "0"}, wantCode: CodeInvalidValue, wantIn: "birthday"},
		{name: "birth_type 2", fields: map[string]any{"birth_type": "2"}, wantCode: CodeInvalidValue, wantIn: "birth_type"},
		{name: "birth_type number", fields: map[string]any{"birth_type": 0}, wantCode: CodeInvalidValue, wantIn: "birth_type"},
		{name: "birth_type word", fields: map[string]any{"birth_type": "solar"}, wantCode: CodeInvalidValue, wantIn: "birth_type"},
		{name: "unknown field", fields: map[string]any{"gender": "M"}, wantCode: CodeUnknownField, wantIn: "gender"},
		{name: "parameter11", fields: map[string]any{"parameter11": "x"}, wantCode: CodeUnknownField, wantIn: "parameter11"},
		{name: "only the required fields", body: `{"token":"sandbox-happytalk-token","uuid":"u","room_id":"r"}`},
	}
	_, srv := start(t, testConfig())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if body == "" {
				body = withFields(t, htDoc(t, "happytalk_set_user_info.code.json"), tt.fields)
			}
			r := post(t, srv, PathSetUserInfo, nil, body)
			if r.Status != 200 {
				t.Fatalf("HTTP %d, want 200", r.Status)
			}
			if tt.wantCode == 0 {
				if r.Str("result") != "success" {
					t.Fatalf("got %s, want success", r.Raw)
				}
				return
			}
			if r.Str("result") != "fail" || r.Code() != tt.wantCode || r.Str("message") == "" {
				t.Fatalf("got %s, want fail code %d", r.Raw, tt.wantCode)
			}
			if !strings.Contains(r.Str("message"), tt.wantIn) {
				t.Errorf("message %q does not name %q", r.Str("message"), tt.wantIn)
			}
			if strings.Contains(string(r.Raw), SandboxToken) {
				t.Error("the answer echoes the token")
			}
		})
	}
}

func TestHappyTalkCutsParametersWhenStored(t *testing.T) {
	long20 := strings.Repeat("가", 20)
	tests := []struct {
		field, sent, kept string
	}{
		{"parameter1", long20 + "나다라", long20},
		{"parameter10", strings.Repeat("a", 21), strings.Repeat("a", 20)},
		{"parameter5", long20, long20},
		{"parameter2", "short", "short"},
		{"user_parameter", strings.Repeat("한", 250), strings.Repeat("한", 200)},
		{"user_parameter", strings.Repeat("x", 200), strings.Repeat("x", 200)},
		{"username", strings.Repeat("x", 300), strings.Repeat("x", 300)},
	}
	for _, tt := range tests {
		t.Run(tt.field+"/"+tt.kept[:1], func(t *testing.T) {
			sim, srv := start(t, testConfig())
			body := withFields(t, htDoc(t, "happytalk_set_user_info.code.json"), map[string]any{tt.field: tt.sent})
			if r := post(t, srv, PathSetUserInfo, nil, body); r.Str("result") != "success" {
				t.Fatalf("the vendor accepts and cuts silently, got %s", r.Raw)
			}
			u, _ := sim.User("1000225100_sazob20220921062938")
			if u[tt.field] != tt.kept {
				t.Errorf("%s stored as %q (%d runes), want %d runes", tt.field, u[tt.field], len([]rune(u[tt.field])), len([]rune(tt.kept)))
			}
			if received := sim.core.Received("happytalk"); len(received) != 1 || !strings.Contains(string(received[0].Body), tt.sent) {
				t.Error("Received does not hold the value as sent")
			}
		})
	}
}

func TestHappyTalkUserMergesUpdates(t *testing.T) {
	sim, srv := start(t, testConfig())
	post(t, srv, PathSetUserInfo, nil, `{"token":"sandbox-happytalk-token","uuid":"u1","room_id":"r1","email":"a@b.c"}`)
	post(t, srv, PathSetUserInfo, nil, `{"token":"sandbox-happytalk-token","uuid":"u1","room_id":"r2","phone":"0101"}`)
	got, ok := sim.User("u1")
	want := map[string]string{"uuid": "u1", "room_id": "r2", "email": "a@b.c", "phone": "0101"}
	if !ok || !maps.Equal(got, want) {
		t.Errorf("HappyTalkUser = %v, %v; want %v", got, ok, want)
	}
	got["email"] = "changed"
	if again, _ := sim.User("u1"); again["email"] != "a@b.c" {
		t.Error("HappyTalkUser returned the stored map, not a copy")
	}
	if _, ok := sim.User("nobody"); ok {
		t.Error("an unknown uuid is reported as known")
	}
}

// historyBody is a service_history request.
func historyBody(start, end string) string {
	return `{"token":"sandbox-happytalk-token","start_date":"` + start + `","end_date":"` + end + `"}`
}

func TestHappyTalkServiceHistoryRules(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantCode int
		wantIn   string
	}{
		{"document sample", "", 0, ""},
		{"wrong token", `{"token":"x","start_date":"2021-09-23 00:00:00","end_date":"2021-09-23 23:59:59"}`, CodeInvalidToken, ""},
		{"no token", `{"start_date":"2021-09-23 00:00:00","end_date":"2021-09-23 23:59:59"}`, CodeInvalidToken, ""},
		{"not JSON", `start_date=2021-09-23`, CodeBadRequest, ""},
		{"no start_date", `{"token":"sandbox-happytalk-token","end_date":"2021-09-23 23:59:59"}`, CodeMissingField, "start_date"},
		{"no end_date", `{"token":"sandbox-happytalk-token","start_date":"2021-09-23 00:00:00"}`, CodeMissingField, "end_date"},
		{"start_date number", `{"token":"sandbox-happytalk-token","start_date":20210923,"end_date":"2021-09-23 23:59:59"}`, CodeInvalidValue, "start_date"},
		{"RFC 3339", historyBody("2021-09-23T00:00:00+09:00", "2021-09-23 23:59:59"), CodeInvalidValue, "start_date"},
		{"date only", historyBody("2021-09-23", "2021-09-23 23:59:59"), CodeInvalidValue, "start_date"},
		{"one-digit hour", historyBody("2021-09-23 0:00:00", "2021-09-23 23:59:59"), CodeInvalidValue, "start_date"},
		{"one-digit month", historyBody("2021-9-23 00:00:00", "2021-09-23 23:59:59"), CodeInvalidValue, "start_date"},
		{"hour 24", historyBody("2021-09-23 00:00:00", "2021-09-23 24:00:00"), CodeInvalidValue, "end_date"},
		{"12-hour clock", historyBody("2021-09-23 00:00:00", "2021-09-23 11:59:59 PM"), CodeInvalidValue, "end_date"},
		{"no such day", historyBody("2021-02-29 00:00:00", "2021-02-29 23:59:59"), CodeInvalidValue, "start_date"},
		{"start after end", historyBody("2021-09-23 12:00:01", "2021-09-23 12:00:00"), CodeInvalidPeriod, "start_date"},
		{"two days", historyBody("2021-09-23 00:00:00", "2021-09-24 00:00:00"), CodeInvalidPeriod, "one day"},
		{"across midnight", historyBody("2021-09-23 23:00:00", "2021-09-24 01:00:00"), CodeInvalidPeriod, "one day"},
		{"a month", historyBody("2021-09-01 00:00:00", "2021-09-30 23:59:59"), CodeInvalidPeriod, "one day"},
		{"one second", historyBody("2021-09-23 10:00:00", "2021-09-23 10:00:00"), 0, ""},
	}
	_, srv := start(t, testConfig())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if body == "" {
				body = htDoc(t, "happytalk_service_history.json")
			}
			r := post(t, srv, PathServiceHistory, nil, body)
			if r.Status != 200 {
				t.Fatalf("HTTP %d, want 200", r.Status)
			}
			if tt.wantCode == 0 {
				if _, isList := r.Body["data"].([]any); r.Str("result") != "success" || !isList {
					t.Fatalf("got %s, want success with a data list", r.Raw)
				}
				return
			}
			if r.Str("result") != "fail" || r.Code() != tt.wantCode || !strings.Contains(r.Str("message"), tt.wantIn) {
				t.Fatalf("got %s, want fail code %d naming %q", r.Raw, tt.wantCode, tt.wantIn)
			}
		})
	}
}

func TestHappyTalkServiceHistoryZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Timezone = ny
	_, srv := start(t, cfg)
	// 02:30 on 2021-03-14 does not exist in New York (clocks jump from 02:00 to 03:00), but
	// does in Seoul.
	r := post(t, srv, PathServiceHistory, nil, historyBody("2021-03-14 02:30:00", "2021-03-14 23:59:59"))
	if r.Code() != CodeInvalidValue || !strings.Contains(r.Str("message"), "America/New_York") {
		t.Errorf("a time skipped in the account's zone: got %s", r.Raw)
	}
	_, seoul := start(t, testConfig())
	if r := post(t, seoul, PathServiceHistory, nil, historyBody("2021-03-14 02:30:00", "2021-03-14 23:59:59")); r.Str("result") != "success" {
		t.Errorf("the same time in Seoul: got %s", r.Raw)
	}
}

func TestSandboxConfig(t *testing.T) {
	c := SandboxConfig()
	if c.Token != "sandbox-happytalk-token" || c.GenderFormat != GenderCode || c.Validate() != nil {
		t.Errorf("SandboxConfig = %+v", c)
	}
	// The default: Asia/Seoul.
	d, err := c.withDefaults()
	if err != nil || d.Timezone.String() != "Asia/Seoul" {
		t.Errorf("defaults: %+v, %v", d, err)
	}
	if got := Sandbox().cfg; got.Token != SandboxToken || got.GenderFormat != GenderCode || got.Timezone.String() != "Asia/Seoul" {
		t.Errorf("Sandbox serves %+v", got)
	}
}

func TestSandboxEnv(t *testing.T) {
	got := SandboxEnv("http://127.0.0.1:9090")
	want := map[string]string{"HAPPYTALK_BASE_URL": "http://127.0.0.1:9090", "HAPPYTALK_TOKEN": "sandbox-happytalk-token"}
	if !maps.Equal(got, want) {
		t.Errorf("SandboxEnv = %v, want %v", got, want)
	}
}

func TestNewRefusesAnUnknownGenderFormat(t *testing.T) {
	cfg := SandboxConfig()
	cfg.GenderFormat = "english"
	if cfg.Validate() == nil {
		t.Fatal("Validate accepts an unknown format")
	}
	defer func() {
		if recover() == nil {
			t.Error("New accepted an unknown format")
		}
	}()
	New(cfg)
}
