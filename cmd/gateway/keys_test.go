package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/customergateway/gateway/internal/auth"
)

var (
	keyLineRE  = regexp.MustCompile(`^key: (cgw_[A-Za-z0-9_-]{43})    \(shown once: give it to the caller; the gateway keeps only its digest\)$`)
	digestRE   = regexp.MustCompile(`sha256: ([0-9a-f]{64})`)
	keysFileOf = func(t *testing.T, lines ...string) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "keys.yaml")
		if err := os.WriteFile(p, []byte("keys:\n  "+strings.Join(lines, "\n  ")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
)

// keysNewOutput runs `gateway keys new` and returns the key and the YAML line it printed.
func keysNewOutput(t *testing.T, args ...string) (key, line string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := keysCommand(append([]string{"new"}, args...), &stdout, &stderr); err != nil {
		t.Fatalf("keys new %q: %v (stderr %q)", args, err, stderr.String())
	}
	out := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(out) != 2 {
		t.Fatalf("stdout %q; want two lines", stdout.String())
	}
	m := keyLineRE.FindStringSubmatch(out[0])
	if m == nil {
		t.Fatalf("first line %q is not the key", out[0])
	}
	return m[1], out[1]
}

func TestKeysNew(t *testing.T) {
	key, line := keysNewOutput(t, "--name", "billing", "--scopes", "customers:write,customers:read")
	d := digestRE.FindStringSubmatch(line)
	if d == nil {
		t.Fatalf("line %q holds no digest", line)
	}
	sum := sha256.Sum256([]byte(key))
	if d[1] != hex.EncodeToString(sum[:]) {
		t.Fatalf("the printed digest %s is not the SHA-256 of the printed key", d[1])
	}
	want := "- {name: billing, sha256: " + d[1] + ", scopes: [customers:write, customers:read]}"
	if line != want {
		t.Errorf("line\n%s\nwant\n%s", line, want)
	}

	// The line loads, and the key authenticates as the name with the scopes.
	a, err := auth.New(t.Context(), auth.Config{KeysFile: keysFileOf(t, line)})
	if err != nil {
		t.Fatalf("the printed line does not load: %v", err)
	}
	c, err := a.Authenticate(t.Context(), "Bearer "+key)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "billing" || c.Kind != auth.KindAPIKey || !c.Has(auth.ScopeCustomersWrite) || !c.Has(auth.ScopeCustomersRead) || c.Has(auth.ScopeAuditRead) {
		t.Fatalf("caller %+v", c)
	}
}

func TestKeysNewSeveral(t *testing.T) {
	// Two keys, every scope, spaces and repeats in the list; names YAML would misread unquoted.
	k1, l1 := keysNewOutput(t, "--name", "ops", "--scopes", " audit:read , metrics:read,audit:read,deliveries:manage")
	k2, l2 := keysNewOutput(t, "--name=true", "--scopes="+strings.Join(auth.AllScopes(), ","))
	k3, l3 := keysNewOutput(t, "-name", "null", "-scopes", "customers:read")
	if k1 == k2 || k2 == k3 {
		t.Fatal("the same key twice")
	}
	a, err := auth.New(t.Context(), auth.Config{KeysFile: keysFileOf(t, l1, l2, l3)})
	if err != nil {
		t.Fatalf("the lines %q do not load: %v", []string{l1, l2, l3}, err)
	}
	for _, tc := range []struct {
		key, name string
		scopes    []string
	}{
		{k1, "ops", []string{auth.ScopeAuditRead, auth.ScopeDeliveriesManage, auth.ScopeMetricsRead}},
		{k2, "true", auth.AllScopes()},
		{k3, "null", []string{auth.ScopeCustomersRead}},
	} {
		c, err := a.Authenticate(t.Context(), "Bearer "+tc.key)
		if err != nil {
			t.Fatal(err)
		}
		got := slices.Sorted(slices.Values(c.Scopes))
		if c.Name != tc.name || !slices.Equal(got, slices.Sorted(slices.Values(tc.scopes))) {
			t.Fatalf("caller %+v; want %s %q", c, tc.name, tc.scopes)
		}
	}
}

func TestKeysCommandErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{nil, "subcommand"},
		{[]string{"rotate"}, `unknown subcommand "rotate"`},
		{[]string{"new"}, "--name"},
		{[]string{"new", "--scopes", "customers:read"}, "--name: the name is empty"},
		{[]string{"new", "--name", "a b", "--scopes", "customers:read"}, "--name"},
		{[]string{"new", "--name", "-x", "--scopes", "customers:read"}, "--name"},
		{[]string{"new", "--name", "billing"}, "--scopes: no scopes"},
		{[]string{"new", "--name", "billing", "--scopes", " , "}, "--scopes: no scopes"},
		{[]string{"new", "--name", "billing", "--scopes", "customers:read,admin"}, `unknown scope "admin"`},
		{[]string{"new", "--name", "billing", "--scopes", "customers:*"}, `unknown scope "customers:*"`},
		{[]string{"new", "--name", "billing", "--scopes", "Customers:Read"}, `unknown scope "Customers:Read"`},
		{[]string{"new", "--name", "billing", "--scopes", "customers:read", "extra"}, `unexpected argument "extra"`},
		{[]string{"new", "--nope"}, "flag provided but not defined"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := keysCommand(tc.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v; want %q", err, tc.want)
			}
			if stdout.Len() != 0 {
				t.Fatalf("a failed command printed %q", stdout.String())
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if err := keysCommand([]string{"help"}, &stdout, &stderr); err != nil || !strings.Contains(stderr.String(), "gateway keys new") {
		t.Fatalf("help: %v %q", err, stderr.String())
	}
}
