package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func TestLoopbackOnly(t *testing.T) {
	for raw, ok := range map[string]bool{
		"http://127.0.0.1:8080": true, "http://localhost:8080": true, "http://[::1]:8080": true,
		"http://10.0.0.1:8080": false, "http://example.com": false, "http://127.0.0.1.example.com": false,
	} {
		if err := loopbackOnly(raw); (err == nil) != ok {
			t.Errorf("%s: err %v, want allowed=%v", raw, err, ok)
		}
	}
}

// run sends exactly n updates, each to a customer of its own, and counts the answers.
func TestRunSendsNUpdates(t *testing.T) {
	var got atomic.Int64
	seen := make(chan string, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		seen <- r.URL.Path + " " + r.Header.Get("Prefer")
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	body := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(body, []byte(`{"email":"a@example.com"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{"-url", srv.URL, "-n", "50", "-c", "4", "-async", body}, &out); err != nil {
		t.Fatal(err)
	}
	close(seen)
	paths := map[string]bool{}
	for p := range seen {
		if !strings.HasSuffix(p, " respond-async") {
			t.Errorf("request %q lacks Prefer: respond-async", p)
		}
		paths[p] = true
	}
	if got.Load() != 50 || len(paths) != 50 || !strings.Contains(out.String(), " 202:50 errors:0") {
		t.Fatalf("%d requests, %d distinct customers, output %q", got.Load(), len(paths), out.String())
	}
	if err := run([]string{"-url", "http://192.0.2.1:8080", body}, &out); err == nil {
		t.Fatal("a non-loopback URL was accepted")
	}
}
