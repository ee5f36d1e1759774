package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	_ "modernc.org/sqlite" // the test reads the gateway's SQLite file

	"github.com/customergateway/gateway/internal/webhook"
)

// hookReceiver verifies every webhook with the secret, as a Standard Webhooks receiver does,
// and answers 503 until accept is called.
type hookReceiver struct {
	mu       sync.Mutex
	verifier *standardwebhooks.Webhook
	open     bool
	ids      []string
	accepted [][]byte
	bad      int
}

func (rc *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.verifier.Verify(body, r.Header) != nil {
		rc.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	rc.ids = append(rc.ids, r.Header.Get("webhook-id"))
	if !rc.open {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	rc.accepted = append(rc.accepted, body)
	w.WriteHeader(http.StatusNoContent)
}

func (rc *hookReceiver) accept() { rc.mu.Lock(); rc.open = true; rc.mu.Unlock() }

func (rc *hookReceiver) seen() (ids []string, accepted [][]byte, bad int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.ids...), append([][]byte(nil), rc.accepted...), rc.bad
}

// webhookJobWaits reports whether conn's database holds the webhook's job waiting for its
// next attempt: River has recorded the failed attempt.
func webhookJobWaits(ctx context.Context, conn *sql.Conn) (bool, error) {
	var n int
	err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'webhook' AND state IN ('available', 'retryable', 'scheduled') AND attempt >= 1`).Scan(&n)
	return n == 1, err
}

// TestBinaryWebhookSurvivesSIGKILL: an update queued while the vendors are down completes
// once they are back; its webhook fails at the receiver, the gateway is killed with
// SIGKILL, and the restarted gateway delivers the webhook, under the same webhook-id, signed.
func TestBinaryWebhookSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	bin := buildGateway(t)
	v := startVendors(t)
	secret, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	rc := &hookReceiver{verifier: verifier}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	v.env = append(append([]string(nil), v.env...), "GATEWAY_WEBHOOK_URL="+srv.URL, "GATEWAY_WEBHOOK_SECRET="+secret)
	path := t.TempDir() + "/gateway.db"

	v.down()
	p, base := gatewayOn(t, bin, v, "sqlite://"+path)
	status, hdr, reply := put(t, base+"/customers/c01", updates("c01")[0], "")
	if status != http.StatusAccepted || hdr.Get("Location") == "" {
		t.Fatalf("PUT: %d %s", status, reply)
	}
	loc := hdr.Get("Location")
	v.up()
	recovered := time.Now()
	waitUntil(t, 60*time.Second, "a first webhook attempt", func() bool {
		ids, _, _ := rc.seen()
		return len(ids) >= 1
	})
	t.Logf("vendors back to the first webhook attempt: %v", time.Since(recovered))
	killBetweenJobs(t, p, path, webhookJobWaits) // once the failed attempt is recorded
	rc.accept()

	killed := time.Now()
	_, base = gatewayOn(t, bin, v, "sqlite://"+path)
	waitUntil(t, 60*time.Second, "the webhook after the restart", func() bool {
		_, accepted, _ := rc.seen()
		return len(accepted) == 1
	})
	t.Logf("SIGKILL to the webhook delivered by the restarted gateway: %v", time.Since(killed))
	ids, accepted, bad := rc.seen()
	if bad > 0 || len(ids) < 2 {
		t.Fatalf("%d webhooks did not verify; %d attempts, want the failed one and the one after the restart", bad, len(ids))
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("webhook ids %v: one event, one id across attempts and restarts", ids)
		}
	}
	var ev struct {
		Type string `json:"type"`
		Data struct {
			UpdateID string `json:"update_id"`
			Outcome  string `json:"outcome"`
		} `json:"data"`
	}
	if err := json.Unmarshal(accepted[0], &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "update.completed" || "/updates/"+ev.Data.UpdateID != loc || ev.Data.Outcome != "ok" {
		t.Fatalf("webhook %s for %s", accepted[0], loc)
	}
	resp, err := http.Get(base + loc)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"outcome":"ok"`) {
		t.Fatalf("GET %s after the restart: %d %s", loc, resp.StatusCode, b)
	}
}
