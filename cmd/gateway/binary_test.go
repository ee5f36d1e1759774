package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/testmain"
)

// readmeUpdateCommand is how README.md's first example starts; the test runs that example.
const readmeUpdateCommand = "curl -s -X PUT localhost:8080/customers/c-42"

// lockedBuffer collects the binary's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// gatewayProcess is the real binary, running.
type gatewayProcess struct {
	cmd    *exec.Cmd
	output *lockedBuffer
	done   chan error // receives Wait's result once
	exited bool
	err    error
}

// wait reports whether the process exited within d, and how.
func (p *gatewayProcess) wait(d time.Duration) (exited bool, err error) {
	if p.exited {
		return true, p.err
	}
	select {
	case p.err = <-p.done:
		p.exited = true
		return true, p.err
	case <-time.After(d):
		return false, nil
	}
}

// TestBinary builds the gateway as it ships (CGO off), runs it with --sandbox and checks
// what a newcomer and a container runtime see: the README's first example, the health
// check subcommand, a clean exit on SIGTERM and log lines free of personal data and
// credentials. Subtests run in order against one process.
func TestBinary(t *testing.T) {
	t.Parallel()
	bin := buildGateway(t)
	p := startGateway(t, bin, "127.0.0.1:0")
	addr := listenAddr(t, p.output, p.wait)
	base := "http://" + addr
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, p, base+"/readyz", 20*time.Second)
	example := readmeFirstExample(t)

	t.Run("README first example", func(t *testing.T) { checkREADMEExample(t, base, example) })
	t.Run("healthcheck subcommand", func(t *testing.T) { checkHealthcheck(t, bin, base, port) })
	t.Run("SIGTERM exits 0", func(t *testing.T) {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		exited, err := p.wait(20 * time.Second)
		if !exited {
			t.Fatal("the gateway did not stop within 20s of SIGTERM")
		}
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.output)
		}
		if !strings.Contains(p.output.String(), `"message":"stopped"`) {
			t.Errorf("no \"stopped\" log line after SIGTERM:\n%s", p.output)
		}
	})
	t.Run("logs hold no personal data or credentials", func(t *testing.T) {
		checkLogs(t, p.output.String(), example)
	})
}

// binDir holds the binary the package's tests share; TestMain removes it.
var binDir string

// parallel is how many tests run at once unless -parallel says otherwise: most of a test
// here waits for a gateway process it started (its start, a vendor's timeout, a queue's
// retry), not on the cores.
const parallel = 6

func TestMain(m *testing.M) {
	testmain.Parallel(parallel)
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildGateway compiles ./cmd/gateway as the Dockerfile does, once for the package: the
// build is the slow part of these tests on a cold cache, and every binary test runs the
// same binary.
func buildGateway(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the go command is needed to build the binary: %w", err)
			return
		}
		if binDir, err = os.MkdirTemp("", "gateway-bin-"); err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(binDir, "gateway")
		cmd := exec.Command(goTool, "build", "-trimpath", "-o", builtBin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// freePort is a loopback port nothing listens on now, for what needs a number before it
// starts: a closed port to probe, the README's replica script. Something else may take it
// meanwhile (the sandbox's own simulator, bound first, once took it), so the gateways the
// tests start listen on port 0 and the tests read the address from the log (listenAddr).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// gatewayEnv is the test's environment without any gateway variable, so a developer's
// settings cannot change the run, plus the given ones.
func gatewayEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GATEWAY_") || strings.HasPrefix(name, "HAPPYTALK_") ||
			strings.HasPrefix(name, "LADIFLOW_") || strings.HasPrefix(name, "ENGAGELAB_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// startGateway runs the binary with --sandbox on addr, in a fresh working directory.
func startGateway(t *testing.T, bin, addr string, env ...string) *gatewayProcess {
	t.Helper()
	return startProcess(t, bin, []string{"--sandbox"}, append([]string{"GATEWAY_ADDR=" + addr}, env...)...)
}

// startProcess runs the binary with args and the given environment (no other gateway
// variable of the test's own), debug logs and a 5s shutdown timeout, in a fresh working
// directory; it is killed when the test ends if it has not exited.
func startProcess(t *testing.T, bin string, args []string, env ...string) *gatewayProcess {
	t.Helper()
	p := &gatewayProcess{output: &lockedBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin, args...)
	// The default store, sqlite://gateway.db, lands in the working directory: a fresh one.
	p.cmd.Dir = t.TempDir()
	// Debug level: the log check below covers every line the gateway can write.
	p.cmd.Env = append(gatewayEnv("GATEWAY_LOG_LEVEL=debug", "GATEWAY_SHUTDOWN_TIMEOUT=5s"), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if exited, _ := p.wait(0); !exited {
			_ = p.cmd.Process.Kill()
			p.wait(10 * time.Second)
		}
	})
	return p
}

// waitReady polls /readyz until it answers 200, the process exits or the bound passes.
func waitReady(t *testing.T, p *gatewayProcess, url string, bound time.Duration) {
	t.Helper()
	deadline := time.Now().Add(bound)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if exited, err := p.wait(50 * time.Millisecond); exited {
			t.Fatalf("the gateway exited before it was ready: %v\n%s", err, p.output)
		}
	}
	t.Fatalf("%s not ready within %v\n%s", url, bound, p.output)
}

// readmeExample is README.md's first update example, as a request.
type readmeExample struct {
	path    string
	headers map[string]string
	body    string
}

// readmeFirstExample finds the first ```sh block holding readmeUpdateCommand and reads
// that command's path, -H headers and -d body, so the test follows the README.
func readmeFirstExample(t *testing.T) readmeExample {
	t.Helper()
	for _, block := range shellBlocks(readRepoFile(t, "README.md")) {
		i := strings.Index(block, readmeUpdateCommand)
		if i < 0 {
			continue
		}
		cmd := block[i:]
		start := strings.Index(cmd, "-d '")
		if start < 0 {
			t.Fatalf("README example has no -d '...' body:\n%s", cmd)
		}
		end := strings.IndexByte(cmd[start+4:], '\'')
		if end < 0 {
			t.Fatalf("README example's body is not closed:\n%s", cmd)
		}
		cmd = cmd[:start+4+end+1]
		ex := readmeExample{
			path:    regexp.MustCompile(`localhost:8080(/\S*)`).FindStringSubmatch(cmd)[1],
			headers: map[string]string{},
			body:    cmd[start+4 : start+4+end],
		}
		for _, h := range regexp.MustCompile(`-H '([^:']+):\s*([^']*)'`).FindAllStringSubmatch(cmd, -1) {
			ex.headers[h[1]] = h[2]
		}
		return ex
	}
	t.Fatalf("README.md has no ```sh block with %q", readmeUpdateCommand)
	return readmeExample{}
}

// shellBlocks are the contents of the ```sh fenced blocks of a Markdown text, in order.
func shellBlocks(md string) []string {
	var blocks []string
	var cur []string
	in := false
	for line := range strings.SplitSeq(md, "\n") {
		switch {
		case !in && strings.TrimSpace(line) == "```sh":
			in, cur = true, nil
		case in && strings.TrimSpace(line) == "```":
			in = false
			blocks = append(blocks, strings.Join(cur, "\n"))
		case in:
			cur = append(cur, line)
		}
	}
	return blocks
}

func checkREADMEExample(t *testing.T, base string, ex readmeExample) {
	req, err := http.NewRequest(http.MethodPut, base+ex.path, strings.NewReader(ex.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range ex.headers {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		CustomerID string `json:"customer_id"`
		Outcome    string `json:"outcome"`
		Results    map[string]struct {
			Status string `json:"status"`
		} `json:"results"`
	}
	raw := new(bytes.Buffer)
	if _, err := raw.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw.Bytes(), &got); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, raw)
	}
	if resp.StatusCode != http.StatusOK || got.Outcome != "ok" || got.CustomerID != "c-42" {
		t.Fatalf("PUT %s: %d outcome %q customer %q, want 200 ok c-42\n%s", ex.path, resp.StatusCode, got.Outcome, got.CustomerID, raw)
	}
	for _, v := range []string{"happytalk", "ladiflow", "engagelab"} {
		if s := got.Results[v].Status; s != "ok" {
			t.Errorf("%s status %q, want ok\n%s", v, s, raw)
		}
	}
	if len(got.Results) != 3 {
		t.Errorf("%d results, want 3\n%s", len(got.Results), raw)
	}
}

func checkHealthcheck(t *testing.T, bin, base, port string) {
	closedPort := freePort(t)
	closed := "http://127.0.0.1:" + closedPort + "/readyz"
	tests := []struct {
		name   string
		args   []string
		env    []string
		wantOK bool
	}{
		{"-url readyz", []string{"healthcheck", "-url", base + "/readyz"}, nil, true},
		// The Dockerfile's HEALTHCHECK: no -url, the port from GATEWAY_ADDR.
		{"default URL from GATEWAY_ADDR", []string{"healthcheck"}, []string{"GATEWAY_ADDR=:" + port}, true},
		{"closed port", []string{"healthcheck", "-url", closed}, nil, false},
		{"answer other than 200", []string{"healthcheck", "-url", base + "/no-such-path"}, nil, false},
		{"default URL, nothing listening", []string{"healthcheck"}, []string{"GATEWAY_ADDR=:" + closedPort}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, tt.args...)
			cmd.Env = gatewayEnv(tt.env...)
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("healthcheck did not finish within 10s\n%s", out)
			}
			if tt.wantOK {
				if err != nil || strings.TrimSpace(string(out)) != "ok" {
					t.Errorf("err %v, output %q; want exit 0 and ok", err, out)
				}
				return
			}
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 {
				t.Errorf("err %v, output %q; want a non-zero exit", err, out)
			}
		})
	}
}

// checkLogs wants no log line to hold the example's email or phone (in any of the forms the
// vendors get) or a credential, and wants the update logged at all, so the check is not
// vacuous.
func checkLogs(t *testing.T, logs string, ex readmeExample) {
	var body struct {
		Email string `json:"email"`
		Phone string `json:"phone"`
	}
	if err := json.Unmarshal([]byte(ex.body), &body); err != nil {
		t.Fatalf("README example body: %v", err)
	}
	digits := regexp.MustCompile(`\D`).ReplaceAllString(body.Phone, "")
	secrets := []string{
		body.Email, body.Phone, digits,
		strings.TrimLeft(digits, "0"), // the national number inside +82 10-1234-5678 and 821012345678
	}
	secrets = append(secrets, sandboxCredentials(t)...)
	for _, s := range secrets {
		if len(s) < 6 {
			t.Fatalf("%q is too short to search the logs for", s)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	sawUpdate := false
	for i, line := range lines {
		sawUpdate = sawUpdate || strings.Contains(line, "/customers/")
		for _, s := range secrets {
			if strings.Contains(line, s) {
				t.Errorf("log line %d holds %q: %s", i+1, s, line)
			}
		}
	}
	if !sawUpdate {
		t.Errorf("no log line mentions the update to /customers/:\n%s", logs)
	}
	// Every line the gateway writes is one JSON object (GATEWAY_LOG_FORMAT=json).
	for i, line := range lines {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line %d is not JSON: %s", i+1, line)
		}
	}
}

// sandboxCredentials are the credentials every registered vendor's sandbox hands its
// adapter: the values of its TOKEN, KEY and SECRET variables.
func sandboxCredentials(t *testing.T) []string {
	t.Helper()
	var creds []string
	for _, p := range registered {
		_, env, err := p.sandbox(func(string) string { return "" }, "http://127.0.0.1:1")
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range env {
			if strings.HasSuffix(k, "_TOKEN") || strings.HasSuffix(k, "_KEY") || strings.HasSuffix(k, "_SECRET") {
				creds = append(creds, v)
			}
		}
	}
	if len(creds) < len(registered) {
		t.Fatalf("found %d sandbox credentials for %d vendors", len(creds), len(registered))
	}
	return creds
}
