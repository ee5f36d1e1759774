package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBinaryStoreSurvivesSIGKILL runs the real binary on a SQLite store, kills it with
// SIGKILL and starts it again on the same file: the refs a caller sent once and an
// Idempotency-Key's first reply are still there.
func TestBinaryStoreSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	bin := buildGateway(t)
	db := "GATEWAY_DATABASE_URL=sqlite://" + filepath.Join(t.TempDir(), "gateway.db")
	p := startGateway(t, bin, "127.0.0.1:0", db)
	base := "http://" + listenAddr(t, p.output, p.wait)
	waitReady(t, p, base+"/readyz", 20*time.Second)
	first := `{"email":"a@example.com","vendors":["ladiflow"],"vendor_refs":{"ladiflow":{"id":"653a3ca502e8ab00122c39c3"}}}`
	status, _, reply := put(t, base+"/customers/c-kill", first, "k-kill")
	if status != http.StatusOK {
		t.Fatalf("first update: %d %s", status, reply)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if exited, _ := p.wait(10 * time.Second); !exited {
		t.Fatal("SIGKILL did not stop the gateway")
	}

	p = startGateway(t, bin, "127.0.0.1:0", db)
	base = "http://" + listenAddr(t, p.output, p.wait)
	waitReady(t, p, base+"/readyz", 20*time.Second)
	status, hdr, again := put(t, base+"/customers/c-kill", first, "k-kill")
	if status != http.StatusOK || hdr.Get("Idempotent-Replayed") != "true" || again != reply {
		t.Fatalf("replay after restart: %d %q %s", status, hdr.Get("Idempotent-Replayed"), again)
	}
	status, _, body := put(t, base+"/customers/c-kill", `{"email":"b@example.com","vendors":["ladiflow"]}`, "")
	if status != http.StatusOK || !strings.Contains(body, `"ladiflow":{"status":"ok"`) {
		t.Fatalf("refs were not kept across the restart: %d %s", status, body)
	}
}

func put(t *testing.T, url, body, key string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}
