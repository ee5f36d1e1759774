package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// readmeOpening is README.md up to its first "## " heading: what a newcomer reads first.
func readmeOpening(t *testing.T) string {
	t.Helper()
	readme := readRepoFile(t, "README.md")
	if i := strings.Index(readme, "\n## "); i >= 0 {
		return readme[:i]
	}
	return readme
}

// commands is a shell block's command lines: neither blank nor a comment.
func commands(block string) []string {
	var out []string
	for line := range strings.SplitSeq(block, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

// readmeTestCommand is the README's command that runs every test.
const readmeTestCommand = "go test -race -timeout 20m ./..."

// TestREADMEOpeningCommands: the gateway's command does not give the prompt back, so it
// stands alone in the first block and the test command in a block of its own (a second
// terminal); the test command is the one .ci/run and the Makefile run.
func TestREADMEOpeningCommands(t *testing.T) {
	t.Parallel()
	blocks := shellBlocks(readmeOpening(t))
	want := [][]string{{"go run ./cmd/gateway --sandbox"}, {readmeTestCommand}}
	if len(blocks) < len(want) {
		t.Fatalf("README's opening has %d shell blocks, want the gateway's and the tests' each in its own", len(blocks))
	}
	for i, w := range want {
		if got := commands(blocks[i]); !slices.Equal(got, w) {
			t.Errorf("README's opening block %d runs %q, want only %q", i+1, got, w)
		}
	}
	opening := strings.Join(strings.Fields(readmeOpening(t)), " ")
	for _, say := range []string{"second terminal", "prints nothing", "C compiler", "gcc", "cgo", "BuildKit"} {
		if !strings.Contains(opening, say) {
			t.Errorf("README's opening does not say %q", say)
		}
	}

	// .ci/run runs the README's command with -count=1; the Makefile runs it as it is.
	wantFields := strings.Fields(readmeTestCommand)
	var ran bool
	for line := range strings.SplitSeq(readRepoFile(t, ".ci/run"), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "go" || f[1] != "test" || !slices.Contains(f, "-race") {
			continue
		}
		ran = true
		if got := slices.DeleteFunc(f, func(s string) bool { return s == "-count=1" }); !slices.Equal(got, wantFields) {
			t.Errorf(".ci/run runs %q, want the README's %q (with -count=1)", line, readmeTestCommand)
		}
	}
	if !ran {
		t.Errorf(".ci/run does not run the README's test command %q", readmeTestCommand)
	}
	if mk := readRepoFile(t, "Makefile"); !strings.Contains(mk, "\t"+readmeTestCommand+"\n") {
		t.Errorf("the Makefile's test target does not run the README's %q", readmeTestCommand)
	}
}

// TestCIInstallsACompilerAndLintsTwice: .ci/run installs gcc when it is missing (go test
// -race needs cgo), and lints the document with Spectral as well as Redocly, both pinned,
// the Makefile's lint at the same versions.
func TestCIInstallsACompilerAndLintsTwice(t *testing.T) {
	t.Parallel()
	ci, mk := readRepoFile(t, ".ci/run"), readRepoFile(t, "Makefile")
	if !regexp.MustCompile(`if ! command -v gcc\b[^\n]*\n(.*\n)*?\s*[^\n#]*apt-get install -y[^\n]* gcc\b`).MatchString(ci) {
		t.Error(".ci/run does not install gcc with apt-get when `command -v gcc` fails")
	}
	spectral := regexp.MustCompile(`npx --yes "?@stoplight/spectral-cli@(\S+?)"? lint --ruleset \.spectral\.yaml --fail-severity=warn api/openapi\.yaml`)
	c := spectral.FindStringSubmatch(ci)
	if c == nil {
		t.Fatal(".ci/run does not lint api/openapi.yaml with a pinned Spectral, ruleset .spectral.yaml, failing on warnings")
	}
	if c[1] != "${SPECTRAL_VERSION}" {
		t.Errorf(".ci/run runs Spectral %s, want its SPECTRAL_VERSION", c[1])
	}
	civ := regexp.MustCompile(`(?m)^SPECTRAL_VERSION=(\d+\.\d+\.\d+)$`).FindStringSubmatch(ci)
	mkv := regexp.MustCompile(`(?m)^SPECTRAL_VERSION\s*:=\s*(\S+)`).FindStringSubmatch(mk)
	if civ == nil || mkv == nil || civ[1] != mkv[1] {
		t.Errorf(".ci/run pins Spectral %v, the Makefile %v: want one exact version in both", civ, mkv)
	}
	if !spectral.MatchString(strings.ReplaceAll(mk, "$(SPECTRAL_VERSION)", "${SPECTRAL_VERSION}")) {
		t.Error("the Makefile's lint does not run Spectral as .ci/run does")
	}
	if rules := readRepoFile(t, ".spectral.yaml"); !strings.Contains(rules, `extends: ["spectral:oas"]`) {
		t.Errorf(".spectral.yaml does not extend spectral:oas:\n%s", rules)
	}
}

// replicaBlock is the README's shell block that starts the two replicas, and its started
// function, as written.
func replicaBlock(t *testing.T) (block, started string) {
	t.Helper()
	for _, b := range shellBlocks(readRepoFile(t, "README.md")) {
		if !strings.Contains(b, "GATEWAY_ADDR=:8081") {
			continue
		}
		start := strings.Index(b, "started() {\n")
		end := strings.Index(b[max(start, 0):], "\n}\n")
		if start < 0 || end < 0 {
			t.Fatalf("the README's replica block has no started() { ... } function:\n%s", b)
		}
		return b, b[start : start+end+3]
	}
	t.Fatal("README.md has no shell block that starts a replica with GATEWAY_ADDR=:8081")
	return "", ""
}

// TestREADMEReplicaExampleFailsLoudly: the replicas bind fixed ports. A process put in the
// background that cannot bind its port exits, but the shell goes on and the next curl
// reaches whatever holds the port. The README's started function must fail, with the
// process's error, when the process does not listen itself, even when the port's holder
// answers /readyz 200; and it must return once the process listens.
func TestREADMEReplicaExampleFailsLoudly(t *testing.T) {
	t.Parallel()
	block, started := replicaBlock(t)
	outside := strings.Replace(block, started, "", 1)
	for _, line := range commands(outside) {
		if strings.HasSuffix(line, "&") && !strings.HasSuffix(line, "&&") {
			t.Errorf("the replica block puts %q in the background itself: start it with started", line)
		}
		if strings.Contains(line, "go run") {
			t.Errorf("the replica block compiles as it starts (%q): build first, so the start is what is waited on", line)
		}
	}
	for _, name := range []string{"vendorsim", "replica-8081", "replica-8082"} {
		if !strings.Contains(outside, "started "+name+" ") {
			t.Errorf("the replica block does not start %s with started", name)
		}
	}

	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash runs the README's shell: %v", err)
	}
	bin := buildGateway(t)
	// run runs started for the binary on addr, then stops what it started.
	run := func(t *testing.T, addr string) (string, error) {
		t.Helper()
		script := "logs=" + t.TempDir() + " pids=()\n" + started +
			"started replica env GATEWAY_ADDR=" + addr + " " + bin + " || exit\n" +
			`kill "${pids[@]}"; wait` + "\n"
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bash, "-c", script)
		cmd.Dir = t.TempDir()
		cmd.Env = gatewayEnv("GATEWAY_DATABASE_URL=none", "GATEWAY_AUTH=none",
			"LADIFLOW_API_KEY=sandbox-ladiflow-key", "LADIFLOW_BASE_URL=http://127.0.0.1:9")
		cmd.WaitDelay = 10 * time.Second
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	t.Run("port held by another server that is ready", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		})}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })

		out, err := run(t, ln.Addr().String())
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 {
			t.Fatalf("started on a port another server holds: %v, want a failure\n%s", err, out)
		}
		for _, want := range []string{"replica did not start (exit status 1)", "address already in use"} {
			if !strings.Contains(out, want) {
				t.Errorf("the failure does not say %q:\n%s", want, out)
			}
		}
	})
	t.Run("free port", func(t *testing.T) {
		out, err := run(t, "127.0.0.1:"+freePort(t))
		if err != nil {
			t.Fatalf("started on a free port: %v\n%s", err, out)
		}
		if !strings.Contains(out, "replica started: pid ") {
			t.Errorf("started said nothing of the replica:\n%s", out)
		}
	})
}
