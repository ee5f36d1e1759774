package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Which audit sources a gateway reads, as README's "GET /audit-history" says: without
// HAPPYTALK_TOKEN the default store's own events are still a source (200); a source the
// gateway cannot read is a 400; only with no source at all (no HappyTalk, no store) a 503.
func TestAuditSourcesWithoutHappyTalk(t *testing.T) {
	t.Parallel()
	// Yesterday: a range within what the store keeps (GATEWAY_EVENT_RETENTION).
	yesterday := time.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
	day := "/audit-history?from=" + yesterday.Format(time.RFC3339) + "&to=" + yesterday.Add(24*time.Hour).Format(time.RFC3339)
	ladiFlowOnly := map[string]string{"GATEWAY_AUTH": "none", "LADIFLOW_API_KEY": "k", "LADIFLOW_BASE_URL": "http://127.0.0.1:1"}
	tests := []struct {
		name     string
		database string // GATEWAY_DATABASE_URL; "" is startInProcess's SQLite file
		query    string
		want     int
		wantType string
	}{
		{"default store, every source", "", "", http.StatusOK, ""},
		{"default store, its own events", "", "&source=gateway", http.StatusOK, ""},
		{"default store, HappyTalk named", "", "&source=happytalk", http.StatusBadRequest, "invalid-request"},
		{"no store, every source", "none", "", http.StatusServiceUnavailable, "no-audit-source"},
		{"no store, its events named", "none", "&source=gateway", http.StatusServiceUnavailable, "no-audit-source"},
	}
	gateways := map[string]inProcess{}
	for _, tt := range tests {
		g, ok := gateways[tt.database]
		if !ok {
			env := map[string]string{}
			for k, v := range ladiFlowOnly {
				env[k] = v
			}
			if tt.database != "" {
				env["GATEWAY_DATABASE_URL"] = tt.database
			}
			g = startInProcess(t, env)
			gateways[tt.database] = g
		}
		status, _, body := g.do(t, http.MethodGet, day+tt.query, "")
		if status != tt.want || (tt.wantType != "" && !strings.Contains(string(body), "/problems/"+tt.wantType)) {
			t.Errorf("%s: %d %s, want %d %s", tt.name, status, body, tt.want, tt.wantType)
		}
	}
	// A range that starts before what the store keeps (GATEWAY_EVENT_RETENTION, 90 days) is
	// a 400 naming from, not a silently short list; HappyTalk alone keeps everything.
	const old = "/audit-history?from=2024-03-01T00:00:00Z&to=2024-03-02T00:00:00Z"
	status, _, body := gateways[""].do(t, http.MethodGet, old, "")
	if status != http.StatusBadRequest || !strings.Contains(string(body), `"from"`) || !strings.Contains(string(body), "source keeps") {
		t.Errorf("a range before the retention: %d %s, want a 400 naming from", status, body)
	}
}
