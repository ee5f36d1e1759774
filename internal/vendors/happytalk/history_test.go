package happytalk

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

const emptyHistory = `{"result":"success","data":[]}`

func TestEventsRequestMatchesDocumentSample(t *testing.T) {
	seoul := seoulZone(t)
	fake := newFake(t, 200, emptyHistory)
	a := newTestAdapter(testConfig(fake.URL + "/"))
	w := model.Window{From: time.Date(2021, 9, 23, 0, 0, 0, 0, seoul), To: time.Date(2021, 9, 24, 0, 0, 0, 0, seoul)}
	if _, err := a.Events(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	got := fake.Requests()
	if len(got) != 1 {
		t.Fatalf("HappyTalk received %d requests", len(got))
	}
	if got[0].Method != http.MethodPost || got[0].Path != serviceHistoryPath || got[0].Header.Get("Content-Type") != "application/json" {
		t.Errorf("request = %s %s (%s)", got[0].Method, got[0].Path, got[0].Header.Get("Content-Type"))
	}
	assertSameJSON(t, got[0].Body, readGolden(t, "service_history_request.json"))
}

func TestEventsWindows(t *testing.T) {
	seoul := seoulZone(t)
	at := func(d, h, m, s, ns int) time.Time { return time.Date(2021, 9, d, h, m, s, ns, seoul) }
	tests := []struct {
		name      string
		loc       *time.Location
		w         model.Window
		wantStart string
		wantEnd   string
		wantErr   string
	}{
		{name: "a whole day", w: model.Window{From: at(23, 0, 0, 0, 0), To: at(24, 0, 0, 0, 0)},
			wantStart: "2021-09-23 00:00:00", wantEnd: "2021-09-23 23:59:59"},
		{name: "a whole day given in UTC",
			w:         model.Window{From: time.Date(2021, 9, 22, 15, 0, 0, 0, time.UTC), To: time.Date(2021, 9, 23, 15, 0, 0, 0, time.UTC)},
			wantStart: "2021-09-23 00:00:00", wantEnd: "2021-09-23 23:59:59"},
		{name: "a partial last day ends one second before to", w: model.Window{From: at(23, 0, 0, 0, 0), To: at(23, 15, 30, 0, 0)},
			wantStart: "2021-09-23 00:00:00", wantEnd: "2021-09-23 15:29:59"},
		{name: "fractions of a second are truncated", w: model.Window{From: at(23, 10, 0, 0, 700), To: at(23, 15, 30, 0, 500)},
			wantStart: "2021-09-23 10:00:00", wantEnd: "2021-09-23 15:30:00"},
		{name: "the account's own zone", loc: time.UTC,
			w:         model.Window{From: time.Date(2021, 9, 23, 0, 0, 0, 0, time.UTC), To: time.Date(2021, 9, 24, 0, 0, 0, 0, time.UTC)},
			wantStart: "2021-09-23 00:00:00", wantEnd: "2021-09-23 23:59:59"},
		{name: "a window crossing midnight is refused", w: model.Window{From: at(23, 12, 0, 0, 0), To: at(24, 0, 0, 1, 0)},
			wantErr: "spans more than one calendar day"},
		{name: "a UTC day is two Seoul days", w: model.Window{From: time.Date(2021, 9, 23, 0, 0, 0, 0, time.UTC), To: time.Date(2021, 9, 24, 0, 0, 0, 0, time.UTC)},
			wantErr: "spans more than one calendar day"},
		{name: "an empty window is refused", w: model.Window{From: at(23, 1, 0, 0, 0), To: at(23, 1, 0, 0, 0)},
			wantErr: "empty window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t, 200, emptyHistory)
			cfg := testConfig(fake.URL)
			cfg.Location = tt.loc
			_, err := newTestAdapter(cfg).Events(context.Background(), tt.w)
			got := fake.Requests()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if len(got) != 0 {
					t.Errorf("a refused window was sent: %s", got[0].Body)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("HappyTalk received %d requests", len(got))
			}
			var body serviceHistoryBody
			if err := json.Unmarshal(got[0].Body, &body); err != nil {
				t.Fatal(err)
			}
			want := serviceHistoryBody{Token: docToken, StartDate: tt.wantStart, EndDate: tt.wantEnd}
			if body != want {
				t.Errorf("body = %+v, want %+v", body, want)
			}
		})
	}
}

func TestEventsNormaliseDocumentSample(t *testing.T) {
	seoul := seoulZone(t)
	fake := newFake(t, 200, string(readGolden(t, "service_history_response.json")))
	a := newTestAdapter(testConfig(fake.URL))
	w := model.Window{From: time.Date(2022, 5, 26, 0, 0, 0, 0, seoul), To: time.Date(2022, 5, 27, 0, 0, 0, 0, seoul)}
	events, err := a.Events(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	assertSameJSON(t, got, readGolden(t, "service_history_events.golden.json"))
	// Byte for byte too: the offset must read +09:00, as DESIGN.md 2.3 shows it.
	if !strings.Contains(string(got), `"occurred_at":"2022-05-26T17:14:28+09:00"`) {
		t.Errorf("occurred_at is not in HappyTalk's offset: %s", got)
	}
}

func TestEventsNormaliseEdgeCases(t *testing.T) {
	seoul := seoulZone(t)
	answer := `{"result":"success","data":[
		{"id":"1","type":"M","kind":"A","request_user":"u","request_content":"c","request_date":"2021-09-23 00:00:00","apply_id":"9","apply_content":"ok","apply_date":""},
		{"id":"2","type":"X","kind":"Z","request_user":"u","request_date":"2021-09-23 09:00:00","apply_date":"soon"},
		{"id":"3","type":"A","kind":"K","request_date":"2021-09-23 12:00:00","apply_date":"2021-09-23 12:00:05"},
		{"id":"4","type":"A","kind":"S","request_date":"2021-09-22 23:59:59"},
		{"id":"5","type":"A","kind":"S","request_date":"2021-09-23 12:00:00"}
	]}`
	fake := newFake(t, 200, answer)
	a := newTestAdapter(testConfig(fake.URL))
	w := model.Window{From: time.Date(2021, 9, 23, 0, 0, 0, 0, seoul), To: time.Date(2021, 9, 23, 12, 0, 0, 0, seoul)}
	events, err := a.Events(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	applied := time.Date(2021, 9, 23, 12, 0, 5, 0, seoul)
	want := []model.AuditEvent{
		{ID: "happytalk:1", Source: Source, OccurredAt: time.Date(2021, 9, 23, 0, 0, 0, 0, seoul),
			Type: model.TypeManual, Kind: model.KindArchive, Actor: "u", Summary: "c", TargetID: "9", Result: "ok"},
		{ID: "happytalk:2", Source: Source, OccurredAt: time.Date(2021, 9, 23, 9, 0, 0, 0, seoul),
			Type: "X", Kind: "Z", Actor: "u"},
	}
	if !reflect.DeepEqual(events, want) {
		t.Errorf("events =\n%+v\nwant\n%+v", events, want)
	}

	// The key-issued event at 12:00:00 is outside [00:00, 12:00); a window that holds it
	// shows its kind and its applied_at.
	w.To = time.Date(2021, 9, 23, 12, 0, 1, 0, seoul)
	events, err = a.Events(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 4 || events[2].Kind != model.KindKeyIssued || events[2].Type != model.TypeAutomatic ||
		events[2].AppliedAt == nil || !events[2].AppliedAt.Equal(applied) || events[3].Kind != model.KindManagerAction {
		t.Errorf("events = %+v", events)
	}
}

func TestEventsErrors(t *testing.T) {
	seoul := seoulZone(t)
	w := model.Window{From: time.Date(2021, 9, 23, 0, 0, 0, 0, seoul), To: time.Date(2021, 9, 24, 0, 0, 0, 0, seoul)}
	tests := []struct {
		name     string
		status   int
		body     string
		wantIn   string
		wantCode int // 0: no VendorError expected
	}{
		{name: "fail answer", status: 200, body: `{"result":"fail","code":3001,"message":"조회기간은 최대 하루입니다"}`,
			wantIn: "2021-09-23 00:00:00 to 2021-09-23 23:59:59", wantCode: 3001},
		{name: "fail echoing the token", status: 200, body: `{"result":"fail","code":2001,"message":"token 고객사 토큰 unknown"}`,
			wantIn: "token *** unknown", wantCode: 2001},
		{name: "server error", status: 502, body: `bad gateway`, wantIn: "HTTP 502", wantCode: 502},
		{name: "forbidden", status: 403, body: `{"result":"fail","code":1,"message":"고객사 토큰"}`, wantIn: "HTTP 403", wantCode: 403},
		{name: "not JSON", status: 200, body: `<html>`, wantIn: "not JSON", wantCode: 200},
		{name: "data is no list", status: 200, body: `{"result":"success","data":{"id":"1"}}`, wantIn: "not a list of events", wantCode: 200},
		{name: "unknown result", status: 200, body: `{"data":[]}`, wantIn: "no known result", wantCode: 200},
		{name: "invalid request_date names the event", status: 200,
			body:   `{"result":"success","data":[{"id":"146708","type":"A","kind":"S","request_date":"2022/05/26 17:14"}]}`,
			wantIn: `event "146708": request_date "2022/05/26 17:14"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t, tt.status, tt.body)
			events, err := newTestAdapter(testConfig(fake.URL)).Events(context.Background(), w)
			if err == nil || events != nil {
				t.Fatalf("Events = %v, %v; want an error", events, err)
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("err = %v, want it to contain %q", err, tt.wantIn)
			}
			if strings.Contains(err.Error(), docToken) {
				t.Errorf("error carries the token: %v", err)
			}
			var ve *model.VendorError
			if got := errors.As(err, &ve); got != (tt.wantCode != 0) || (got && ve.Code != tt.wantCode) {
				t.Errorf("err = %#v, want a VendorError with code %d", err, tt.wantCode)
			}
		})
	}
}

func TestEventsNeedsConfigurationAndConnection(t *testing.T) {
	seoul := seoulZone(t)
	w := model.Window{From: time.Date(2021, 9, 23, 0, 0, 0, 0, seoul), To: time.Date(2021, 9, 24, 0, 0, 0, 0, seoul)}

	fake := newFake(t, 200, emptyHistory)
	cfg := testConfig(fake.URL)
	cfg.Token = ""
	if _, err := newTestAdapter(cfg).Events(context.Background(), w); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Errorf("unconfigured Events = %v", err)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("an unconfigured adapter sent %d requests", n)
	}

	a := newTestAdapter(testConfig(fake.URL))
	if a.Source() != Source || a.Name() != Name {
		t.Errorf("Source, Vendor = %q, %q", a.Source(), a.Name())
	}
	fake.Close()
	_, err := a.Events(context.Background(), w)
	if err == nil || !model.IsRetryable(err) || strings.Contains(err.Error(), docToken) {
		t.Errorf("Events with HappyTalk down = %v, want a retryable error without the token", err)
	}
}
