package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/auth"
)

// inProcess is the gateway started by run in the test's own process, on a port of its
// own, with an environment of the test's own.
type inProcess struct {
	base string
	logs *lockedBuffer
}

// startInProcess runs the gateway through run with args and env (nothing else of the
// process environment) on 127.0.0.1:0, in a fresh working directory for the default store,
// and waits until /readyz answers 200. The test's end cancels run and wants it to return
// nil.
func startInProcess(t *testing.T, env map[string]string, args ...string) inProcess {
	t.Helper()
	vars := map[string]string{
		"GATEWAY_ADDR":             "127.0.0.1:0",
		"GATEWAY_DATABASE_URL":     "sqlite://" + t.TempDir() + "/gateway.db",
		"GATEWAY_SHUTDOWN_TIMEOUT": "5s",
		"GATEWAY_LOG_LEVEL":        "debug",
	}
	for k, v := range env {
		vars[k] = v
	}
	getenv := func(k string) string { return vars[k] }
	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// Closed after its one value: whoever takes the value (a wait that saw run return early),
	// every later receive still sees that run has returned, the cleanup's included.
	go func() { done <- run(ctx, args, getenv, logs, logs); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v\n%s", err, logs)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("run did not return within 20s of its context's end\n%s", logs)
		}
	})
	returned := func(d time.Duration) (bool, error) {
		select {
		case err := <-done:
			return true, err
		case <-time.After(d):
			return false, nil
		}
	}
	g := inProcess{base: "http://" + listenAddr(t, logs, returned), logs: logs}
	waitReadyURL(t, g.base+"/readyz", done, logs)
	return g
}

// listenAddr waits for the gateway's "gateway listening" line in logs and answers the
// address in it; stopped reports, waiting up to d, whether the gateway (run, or the binary)
// has stopped meanwhile, and how.
func listenAddr(t *testing.T, logs *lockedBuffer, stopped func(d time.Duration) (bool, error)) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(logs.String(), "\n") {
			var l struct {
				Message string `json:"message"`
				Addr    string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Message == "gateway listening" {
				return l.Addr
			}
		}
		if ended, err := stopped(10 * time.Millisecond); ended {
			t.Fatalf("the gateway stopped before listening: %v\n%s", err, logs)
		}
	}
	t.Fatalf("the gateway did not listen within 30s\n%s", logs)
	return ""
}

// waitReadyURL polls url until it answers 200, run returns or 30s pass.
func waitReadyURL(t *testing.T, url string, done <-chan error, logs *lockedBuffer) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-done:
			t.Fatalf("run returned before it was ready: %v\n%s", err, logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s not ready within 30s\n%s", url, logs)
}

// do sends a request to the in-process gateway and answers the status and body.
func (g inProcess) do(t *testing.T, method, path, body string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, g.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
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
	return resp.StatusCode, resp.Header, b
}

// TestRunInSandbox starts the gateway through run with --sandbox, as the README's first
// command does, and sends the README's first example: every vendor answers ok.
func TestRunInSandbox(t *testing.T) {
	t.Parallel()
	g := startInProcess(t, nil, "--sandbox")
	ex := readmeFirstExample(t)
	status, _, body := g.do(t, http.MethodPut, ex.path, ex.body)
	if status != http.StatusOK {
		t.Fatalf("README example: %d %s", status, body)
	}
	var res struct {
		Outcome string                             `json:"outcome"`
		Results map[string]struct{ Status string } `json:"results"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "ok" || len(res.Results) != len(registered) {
		t.Fatalf("want one ok result per registered vendor: %s", body)
	}
	for v, r := range res.Results {
		if r.Status != "ok" {
			t.Errorf("%s: %s", v, r.Status)
		}
	}
}

// A configuration run cannot use ends run with an error naming the variable, before
// anything listens; the vendors' own variables are read through the same getenv.
func TestRunRefusesBadConfiguration(t *testing.T) {
	t.Parallel()
	for name, value := range map[string]string{
		"GATEWAY_REQUEST_TIMEOUT": "0s",
		"GATEWAY_DEFAULT_REGION":  "XX",
		"HAPPYTALK_TIMEZONE":      "Mars/Olympus",
		"GATEWAY_AUTH":            "off",
	} {
		vars := map[string]string{"GATEWAY_ADDR": "127.0.0.1:0", "GATEWAY_DATABASE_URL": "none", "GATEWAY_AUTH": "none", name: value}
		logs := &lockedBuffer{}
		err := run(t.Context(), nil, func(k string) string { return vars[k] }, logs, logs)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: run returned %v", name, value, err)
		}
		if strings.Contains(logs.String(), "gateway listening") {
			t.Errorf("%s=%s: the gateway listened anyway", name, value)
		}
	}
}

// Outside the sandbox a gateway told nothing about its callers does not start: the error
// names GATEWAY_AUTH and nothing listens.
func TestRunNeedsCallers(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"GATEWAY_ADDR": "127.0.0.1:0", "GATEWAY_DATABASE_URL": "none"}
	logs := &lockedBuffer{}
	err := run(t.Context(), nil, func(k string) string { return vars[k] }, logs, logs)
	if err == nil || !strings.Contains(err.Error(), "GATEWAY_AUTH") || strings.Contains(logs.String(), "gateway listening") {
		t.Fatalf("run = %v\n%s", err, logs)
	}
}

// --sandbox runs open unless told otherwise, and its first log line says so.
func TestSandboxSaysItIsOpen(t *testing.T) {
	t.Parallel()
	g := startInProcess(t, nil, "--sandbox")
	first, _, _ := strings.Cut(g.logs.String(), "\n")
	if !strings.Contains(first, "GATEWAY_AUTH=none") {
		t.Fatalf("first log line: %s", first)
	}
	if status, _, body := g.do(t, http.MethodGet, "/metrics", ""); status != http.StatusOK {
		t.Fatalf("/metrics without a credential in the sandbox: %d %s", status, body)
	}
}

// With a keys file, a caller needs its key and the scope: no key is a 401 with the Bearer
// challenge, a key without customers:write a 403 naming it, and neither reaches a vendor;
// the right key's update is delivered and its caller logged.
func TestRunWithAPIKeys(t *testing.T) {
	t.Parallel()
	writer, writerDigest, err := auth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	reader, readerDigest, err := auth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "keys.yaml")
	keys := "keys:\n  - {name: billing, sha256: " + writerDigest + ", scopes: [customers:write]}\n" +
		"  - {name: auditor, sha256: " + readerDigest + ", scopes: [audit:read]}\n"
	if err := os.WriteFile(file, []byte(keys), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startInProcess(t, map[string]string{"GATEWAY_API_KEYS_FILE": file}, "--sandbox")
	body := `{"email":"a@example.com","vendors":["ladiflow"],"vendor_refs":{"ladiflow":{"id":"lf-1"}}}`

	status, hdr, b := g.do(t, http.MethodPut, "/customers/c-1", body)
	if status != http.StatusUnauthorized || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no key: %d %v %s", status, hdr, b)
	}
	status, _, b = g.do(t, http.MethodPut, "/customers/c-1", body, "Authorization", "Bearer "+reader)
	if status != http.StatusForbidden || !strings.Contains(string(b), "customers:write") {
		t.Fatalf("a key without the scope: %d %s", status, b)
	}
	status, _, b = g.do(t, http.MethodPut, "/customers/c-1", body, "Authorization", "Bearer "+writer+"x")
	if status != http.StatusUnauthorized {
		t.Fatalf("a wrong key: %d %s", status, b)
	}
	if sent := strings.Count(g.logs.String(), `"message":"vendor delivery"`); sent != 0 {
		t.Fatalf("%d vendor deliveries before any caller was allowed", sent)
	}
	status, _, b = g.do(t, http.MethodPut, "/customers/c-1", body, "Authorization", "Bearer "+writer)
	if status != http.StatusOK {
		t.Fatalf("the writer's key: %d %s", status, b)
	}
	if !strings.Contains(g.logs.String(), `"caller":"billing"`) {
		t.Fatalf("no log line names the caller:\n%s", g.logs)
	}
	if strings.Contains(g.logs.String(), writer) || strings.Contains(g.logs.String(), reader) {
		t.Fatal("a key reached the logs")
	}
	if status, _, _ = g.do(t, http.MethodGet, "/metrics", "", "Authorization", "Bearer "+writer); status != http.StatusForbidden {
		t.Fatalf("/metrics without metrics:read: %d", status)
	}
}

// waitUntil checks cond every 20 ms until it holds, and fails the test naming what when it
// does not within d.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(d)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%s, after %v", what, d)
		}
	}
}

// The gateway sets the collector's target to 400 for itself, and leaves one the
// environment names alone.
func TestGCPercent(t *testing.T) {
	t.Parallel()
	for env, want := range map[string]struct {
		percent int
		set     bool
	}{"": {400, true}, "100": {0, false}, "off": {0, false}} {
		percent, set := gcPercent(func(name string) string {
			if name == "GOGC" {
				return env
			}
			return ""
		})
		if percent != want.percent || set != want.set {
			t.Errorf("GOGC=%q: gcPercent = %d, %v; want %d, %v", env, percent, set, want.percent, want.set)
		}
	}
}
