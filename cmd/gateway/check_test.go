package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/customergateway/gateway/internal/auth"
)

// checkRun is `gateway <args...>` through run with vars as the whole environment.
func checkRun(t *testing.T, vars map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errs bytes.Buffer
	err = run(t.Context(), args, func(k string) string { return vars[k] }, &out, &errs)
	return out.String(), errs.String(), err
}

// `gateway check` answers ok with a short summary for a configuration the gateway starts
// with, opening nothing: the store's file is not made.
func TestCheckAcceptsAGoodConfiguration(t *testing.T) {
	t.Parallel()
	_, digest, err := auth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.yaml")
	if err := os.WriteFile(keys, []byte("keys:\n  - {name: billing, sha256: "+digest+", scopes: [customers:write]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "gateway.db")
	vars := map[string]string{"GATEWAY_API_KEYS_FILE": keys, "GATEWAY_DATABASE_URL": "sqlite://" + db,
		"LADIFLOW_API_KEY": "lf-key-0123456789", "HAPPYTALK_TOKEN": "ht-token-0123456789"}
	stdout, _, err := checkRun(t, vars, "check")
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	for _, want := range []string{"ok", "vendors: happytalk, ladiflow (not configured: engagelab)", "callers: API keys", "store: sqlite"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("check's summary lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "0123456789") {
		t.Errorf("check's summary shows a credential:\n%s", stdout)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("check made the store's file (%v)", err)
	}

	// --sandbox needs no vendor and no caller configured.
	if stdout, _, err := checkRun(t, map[string]string{"GATEWAY_DATABASE_URL": "none"}, "check", "--sandbox"); err != nil || !strings.Contains(stdout, "vendors: happytalk, ladiflow, engagelab") {
		t.Fatalf("check --sandbox: %v\n%s", err, stdout)
	}
}

// `gateway check` lists every problem at once, each naming what to fix, and fails.
func TestCheckListsEveryProblem(t *testing.T) {
	t.Parallel()
	vars := map[string]string{
		"GATEWAY_REQUEST_TIMEOUT": "0s",
		"GATEWAY_QUEUE_WORKERS":   "0",
		"GATEWAY_DEFAULT_REGION":  "XX",
		"GATEWAY_LOG_LEVEL":       "loud",
		"GATEWAY_AUTH":            "off",
		"HAPPYTALK_TIMEZONE":      "Mars/Olympus",
		"ENGAGELAB_AUTO_REGISTER": "sometimes",
		"GATEWAY_WEBHOOK_SECRET":  "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	}
	stdout, _, err := checkRun(t, vars, "check")
	if err == nil {
		t.Fatalf("check passed:\n%s", stdout)
	}
	for name := range vars {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("check does not name %s:\n%v", name, err)
		}
	}
	if strings.Contains(err.Error(), vars["GATEWAY_WEBHOOK_SECRET"]) {
		t.Errorf("check shows a secret:\n%v", err)
	}
	if !strings.HasPrefix(err.Error(), fmt.Sprintf("the configuration has %d problems:\n", len(vars))) {
		t.Errorf("check's list:\n%v", err)
	}

	// Nothing else wrong but no vendor: the one problem is that.
	_, _, err = checkRun(t, map[string]string{"GATEWAY_AUTH": "none", "GATEWAY_DATABASE_URL": "none"}, "check")
	if err == nil || !strings.Contains(err.Error(), "1 problem:") || !strings.Contains(err.Error(), "LADIFLOW_API_KEY") {
		t.Fatalf("check with no vendor: %v", err)
	}
	// Nor any caller.
	_, _, err = checkRun(t, map[string]string{"GATEWAY_DATABASE_URL": "none", "LADIFLOW_API_KEY": "k"}, "check")
	if err == nil || !strings.Contains(err.Error(), "GATEWAY_AUTH") {
		t.Fatalf("check with no callers: %v", err)
	}
}

// `gateway --version` and `gateway version` print the module's version from the build
// information, with the VCS revision when the build recorded one.
func TestVersion(t *testing.T) {
	t.Parallel()
	info, ok := debug.ReadBuildInfo()
	want := versionLine(info, ok) + "\n"
	for _, args := range [][]string{{"--version"}, {"version"}} {
		stdout, _, err := checkRun(t, nil, args...)
		if err != nil || stdout != want {
			t.Errorf("gateway %s: %v, %q; want %q", args[0], err, stdout, want)
		}
	}
	built := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/customergateway/gateway", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "7c72ecb0"}, {Key: "vcs.modified", Value: "true"}}}
	if got := versionLine(built, true); got != "gateway v1.2.3 (revision 7c72ecb0, modified, go1.26.0)" {
		t.Errorf("versionLine = %q", got)
	}
	if got := versionLine(nil, false); !strings.HasPrefix(got, "gateway ") {
		t.Errorf("versionLine without build information = %q", got)
	}
}

// The binary as it ships prints its version, and the VCS revision its build recorded.
func TestBinaryVersion(t *testing.T) {
	t.Parallel()
	bin := buildGateway(t)
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "gateway ") {
		t.Fatalf("gateway --version: %v %q", err, out)
	}
	// What the build recorded, as the go command reads it back from the binary.
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	meta, err := exec.Command(goTool, "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(meta), "\n") {
		if rev, ok := strings.CutPrefix(strings.TrimSpace(line), "build\tvcs.revision="); ok && !strings.Contains(string(out), "revision "+rev) {
			t.Errorf("gateway --version %q does not name the revision %s", out, rev)
		}
		if mod := strings.Fields(line); len(mod) >= 3 && mod[0] == "mod" && !strings.Contains(string(out), " "+mod[2]) {
			t.Errorf("gateway --version %q does not name the module version %s", out, mod[2])
		}
	}
}
