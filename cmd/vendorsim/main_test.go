package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/vendorsim/engagelab"
	"github.com/customergateway/gateway/internal/vendorsim/happytalk"
	"github.com/customergateway/gateway/internal/vendorsim/ladiflow"
)

// syncBuffer is a stderr the test can read while run writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// listenAddr waits for run's "vendorsim listening" log line and returns its address.
func listenAddr(t *testing.T, stderr *syncBuffer, errc <-chan error) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-errc:
			t.Fatalf("run returned early: %v", err)
		default:
		}
		sc := bufio.NewScanner(strings.NewReader(stderr.String()))
		for sc.Scan() {
			var line struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "vendorsim listening" {
				return line.Addr
			}
		}
	}
	t.Fatalf("run never logged its address; stderr: %s", stderr.String())
	return ""
}

// startRun runs the binary's run with env and returns its base URL; the test's end stops it
// and checks that it shut down cleanly.
func startRun(t *testing.T, env map[string]string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"vendorsim"}, func(k string) string { return env[k] }, io.Discard, stderr)
	}()
	addr := listenAddr(t, stderr, errc)
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("run after cancel: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("run did not shut down")
		}
	})
	return "http://" + addr, stderr
}

func TestRunServesHealthzAndVendors(t *testing.T) {
	base, stderr := startRun(t, map[string]string{
		"VENDORSIM_ADDR":                    "127.0.0.1:0",
		"VENDORSIM_HAPPYTALK_TOKEN":         "env-token",
		"VENDORSIM_HAPPYTALK_GENDER_FORMAT": "korean",
	})
	resp, err := http.Get(base + "/_sim/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	tests := []struct {
		name, body, want string
	}{
		{"token and gender format from the environment", `{"token":"env-token","uuid":"u","room_id":"r","sex":"여"}`, `"success"`},
		{"sandbox token replaced", `{"token":"sandbox-happytalk-token","uuid":"u","room_id":"r"}`, `"fail"`},
		{"M refused by a korean account", `{"token":"env-token","uuid":"u","room_id":"r","sex":"M"}`, `"fail"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(base+"/user/api/set_user_info/format/json", "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(b), `"result":`+tt.want) {
				t.Errorf("got %s, want result %s", b, tt.want)
			}
		})
	}
	// The sandbox LadiFlow key is the default.
	req, _ := http.NewRequest(http.MethodPost, base+"/1.0/customer/update", strings.NewReader(`{"_id":"x","email":"a@b.c"}`))
	req.Header.Set("Api-Key", "sandbox-ladiflow-key")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("LadiFlow with the sandbox key: %d", resp.StatusCode)
	}
	if strings.Contains(stderr.String(), "env-token") || strings.Contains(stderr.String(), "sandbox-ladiflow-key") {
		t.Error("a credential reached the log")
	}
	if !strings.Contains(stderr.String(), `"path":"/1.0/customer/update"`) {
		t.Errorf("requests are not logged: %s", stderr.String())
	}
}

func TestRunRefusesBadConfiguration(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		wantIn string
	}{
		{"gender format", nil, map[string]string{"VENDORSIM_HAPPYTALK_GENDER_FORMAT": "english"}, "VENDORSIM_HAPPYTALK_GENDER_FORMAT"},
		{"time zone", nil, map[string]string{"VENDORSIM_HAPPYTALK_TIMEZONE": "Mars/Olympus"}, "VENDORSIM_HAPPYTALK_TIMEZONE"},
		{"address", nil, map[string]string{"VENDORSIM_ADDR": "127.0.0.1:notaport"}, "listen"},
		{"arguments", []string{"--addr=:1"}, nil, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"vendorsim"}, tt.args...)
			err := run(context.Background(), args, func(k string) string { return tt.env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("err = %v, want one naming %q", err, tt.wantIn)
			}
		})
	}
}

func TestRunHelpListsTheEnvironment(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"vendorsim", "--help"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"VENDORSIM_ADDR", "VENDORSIM_HAPPYTALK_TOKEN", "VENDORSIM_LADIFLOW_API_KEY", "VENDORSIM_ENGAGELAB_API_KEY",
		"VENDORSIM_ENGAGELAB_API_SECRET", "VENDORSIM_HAPPYTALK_GENDER_FORMAT", "VENDORSIM_HAPPYTALK_TIMEZONE"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("--help does not list %s:\n%s", v, out.String())
		}
	}
}

func TestRunDropFaultGoesThroughTheAccessLog(t *testing.T) {
	base, _ := startRun(t, map[string]string{"VENDORSIM_ADDR": "127.0.0.1:0"})
	req, _ := http.NewRequest(http.MethodPut, base+"/_sim/faults/engagelab", strings.NewReader(`{"mode":"drop","count":1}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT fault: %d", resp.StatusCode)
	}
	resp, err = http.Post(base+"/v1/user/contact", "application/json", strings.NewReader(`{"euid":1,"contacts":{"email":"a@b.c"}}`))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got HTTP %d, want the connection dropped", resp.StatusCode)
	}
}

func TestDefaultsAreTheSandboxCredentials(t *testing.T) {
	cfg, err := loadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HappyTalkToken != happytalk.SandboxToken || cfg.LadiFlowAPIKey != ladiflow.SandboxAPIKey ||
		cfg.EngageLabAPIKey != engagelab.SandboxAPIKey || cfg.EngageLabAPISecret != engagelab.SandboxAPISecret ||
		cfg.HappyTalkGenderFormat != happytalk.GenderCode {
		t.Errorf("defaults differ from the vendor packages' sandbox accounts: %+v", cfg)
	}
	vendors, err := cfg.vendors()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range vendors {
		names = append(names, string(v.Name()))
	}
	if got := strings.Join(names, ","); got != "happytalk,ladiflow,engagelab" {
		t.Errorf("mounted vendors %s", got)
	}
}
