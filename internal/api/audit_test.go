package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"testing"
	"time"

	happytalksim "github.com/customergateway/gateway/internal/vendorsim/happytalk"

	"github.com/customergateway/gateway/internal/audit"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendorsim"
)

func auditPath(params map[string]string) string {
	v := url.Values{}
	for k, p := range params {
		v.Set(k, p)
	}
	return "/audit-history?" + v.Encode()
}

// Paging through three days with the cursor gives every simulated event once, newest first,
// and HappyTalk is asked one day per call in its own zone.
func TestAuditHistoryPagesThroughThreeDays(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	seoul, _ := time.LoadLocation("Asia/Seoul")
	var want []string
	for d := 1; d <= 3; d++ {
		for _, e := range happytalksim.HistoryEvents(time.Date(2024, 3, d, 0, 0, 0, 0, seoul)) {
			want = append(want, "happytalk:"+e.ID)
		}
	}
	params := map[string]string{"from": "2024-02-29T15:00:00Z", "to": "2024-03-04T00:00:00+09:00", "limit": "4"}
	var got []model.AuditEvent
	for page := 0; ; page++ {
		if page > 20 {
			t.Fatal("cursor never ends")
		}
		status, _, body := g.do(http.MethodGet, auditPath(params), "")
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		var p audit.Page
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		got = append(got, p.Events...)
		if p.NextCursor == nil {
			break
		}
		params["cursor"] = *p.NextCursor
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	seen := map[string]bool{}
	for i, e := range got {
		if seen[e.ID] {
			t.Fatalf("event %s twice", e.ID)
		}
		seen[e.ID] = true
		if _, off := e.OccurredAt.Zone(); off != 9*3600 {
			t.Fatalf("occurred_at not in +09:00: %s", e.OccurredAt)
		}
		if i > 0 && e.OccurredAt.After(got[i-1].OccurredAt) {
			t.Fatalf("not newest first at %d", i)
		}
	}
	sort.Strings(want)
	for _, id := range want {
		if !seen[id] {
			t.Fatalf("missing %s", id)
		}
	}
	var windows []string
	for _, r := range g.sim.Received(happyTalk) {
		var raw map[string]string
		if err := json.Unmarshal(r.Body, &raw); err != nil {
			t.Fatal(err)
		}
		windows = append(windows, raw["start_date"]+"/"+raw["end_date"])
	}
	wantWindows := map[string]bool{
		"2024-03-01 00:00:00/2024-03-01 23:59:59": true,
		"2024-03-02 00:00:00/2024-03-02 23:59:59": true,
		"2024-03-03 00:00:00/2024-03-03 23:59:59": true,
	}
	for _, w := range windows {
		if !wantWindows[w] {
			t.Fatalf("asked HappyTalk for window %s", w)
		}
	}
}

func TestAuditHistoryRefusesBadRanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		params map[string]string
		field  string
	}{
		{"reversed", map[string]string{"from": "2024-03-02T00:00:00Z", "to": "2024-03-01T00:00:00Z"}, "to"},
		{"too long", map[string]string{"from": "2024-01-01T00:00:00Z", "to": "2024-03-01T00:00:00Z"}, "to"},
		{"malformed", map[string]string{"from": "2024-03-01", "to": "2024-03-02T00:00:00Z"}, "from"},
		{"missing to", map[string]string{"from": "2024-03-01T00:00:00Z"}, "to"},
		{"limit", map[string]string{"from": "2024-03-01T00:00:00Z", "to": "2024-03-02T00:00:00Z", "limit": "501"}, "limit"},
		{"kind", map[string]string{"from": "2024-03-01T00:00:00Z", "to": "2024-03-02T00:00:00Z", "kind": "login"}, "kind"},
		{"unknown parameter", map[string]string{"from": "2024-03-01T00:00:00Z", "to": "2024-03-02T00:00:00Z", "sort": "asc"}, "sort"},
		{"gateway source before the store exists", map[string]string{"from": "2024-03-01T00:00:00Z", "to": "2024-03-02T00:00:00Z", "source": "gateway"}, "source"},
		{"tampered cursor", map[string]string{"from": "2024-03-01T00:00:00Z", "to": "2024-03-02T00:00:00Z", "cursor": "eyJ2IjoxfQ.abc"}, "cursor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newTestGateway(t, gatewayOptions{})
			status, _, body := g.do(http.MethodGet, auditPath(tc.params), "")
			if status != http.StatusBadRequest {
				t.Fatalf("status %d: %s", status, body)
			}
			var p Problem
			_ = json.Unmarshal(body, &p)
			if !hasFieldError(p.Errors, tc.field, "") {
				t.Fatalf("errors %+v, want %s", p.Errors, tc.field)
			}
			if g.received() != 0 {
				t.Fatal("a refused query fetched history")
			}
		})
	}
}

// A failing window is a 502 naming the source and the window: never a shorter history.
func TestAuditHistoryFailingWindowIs502(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	g.sim.SetFault(happyTalk, vendorsim.Fault{Mode: vendorsim.ModeReject, Count: 1})
	status, _, body := g.do(http.MethodGet, auditPath(map[string]string{"from": "2024-03-01T00:00:00+09:00", "to": "2024-03-04T00:00:00+09:00"}), "")
	if status != http.StatusBadGateway {
		t.Fatalf("status %d: %s", status, body)
	}
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Source != "happytalk" || p.Window == nil || p.Window.From == "" {
		t.Fatalf("problem %+v", p)
	}
	if _, err := time.Parse(time.RFC3339, p.Window.From); err != nil {
		t.Fatalf("window.from %q", p.Window.From)
	}
}
