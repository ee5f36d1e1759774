package main

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/customergateway/gateway/internal/config"
)

// With the store, an update carrying only a contact registers the customer at EngageLab to
// learn its euid; ENGAGELAB_AUTO_REGISTER=false skips EngageLab instead, like any vendor
// whose keys the gateway does not know, and no register call reaches EngageLab.
func TestEngageLabAutoRegister(t *testing.T) {
	t.Parallel()
	body := `{"email":"a@example.com","vendor_refs":{"ladiflow":{"id":"lf-1"}}}`
	tests := []struct {
		value        string
		wantStatus   string
		wantRegister int
	}{
		{"", "ok", 1}, // the default
		{"false", "skipped", 0},
	}
	for _, tt := range tests {
		t.Run("ENGAGELAB_AUTO_REGISTER="+tt.value, func(t *testing.T) {
			t.Parallel()
			g := startInProcess(t, map[string]string{"ENGAGELAB_AUTO_REGISTER": tt.value}, "--sandbox")
			status, _, reply := g.do(t, http.MethodPut, "/customers/c-1", body)
			res := result(t, status, reply, http.StatusOK)
			el := res.Results["engagelab"]
			if string(el.Status) != tt.wantStatus || res.Results["ladiflow"].Status != "ok" {
				t.Fatalf("engagelab %s, want %s; ladiflow %s: %s", el.Status, tt.wantStatus, res.Results["ladiflow"].Status, reply)
			}
			if tt.wantStatus == "skipped" && el.Reason != "no EngageLab euid known for this customer" {
				t.Errorf("reason %q", el.Reason)
			}
			registers := 0
			for _, r := range simRequests(t, g, "engagelab") {
				if r.Path == "/v1/user/register" {
					registers++
				}
			}
			if registers != tt.wantRegister {
				t.Errorf("EngageLab received %d register calls, want %d", registers, tt.wantRegister)
			}
		})
	}
}

// Outside --sandbox a gateway with no vendor configured does not start (every update would
// be a 422): the error names the variables that configure each registered vendor, and
// nothing listens. One vendor is enough.
func TestRunNeedsAVendor(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"GATEWAY_ADDR": "127.0.0.1:0", "GATEWAY_DATABASE_URL": "none", "GATEWAY_AUTH": "none"}
	logs := &lockedBuffer{}
	err := run(t.Context(), nil, func(k string) string { return vars[k] }, logs, logs)
	if err == nil || strings.Contains(logs.String(), "gateway listening") {
		t.Fatalf("run = %v\n%s", err, logs)
	}
	for _, p := range registered {
		names := config.Credentials(p.env)
		if len(names) == 0 {
			t.Fatalf("%T marks no variable as its credential", p.env)
		}
		for _, name := range names {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("the refusal does not name %s: %v", name, err)
			}
		}
	}
	if !strings.Contains(err.Error(), "--sandbox") {
		t.Errorf("the refusal does not mention --sandbox: %v", err)
	}

	g := startInProcess(t, map[string]string{"GATEWAY_DATABASE_URL": "none", "GATEWAY_AUTH": "none",
		"LADIFLOW_API_KEY": "k", "LADIFLOW_BASE_URL": "http://127.0.0.1:1"})
	if !strings.Contains(g.logs.String(), `"vendors":["ladiflow"]`) {
		t.Errorf("the gateway does not say it delivers to LadiFlow:\n%s", g.logs)
	}
}

// Only the vendors' own packages, their simulators and cmd name a registered vendor: the
// rest of the gateway (delivery, api, store, queue, model) reads them through the plug-in
// interface, so a vendor added to registered needs no change there (README, "Adding a
// vendor").
func TestOnlyVendorPackagesNameAVendor(t *testing.T) {
	t.Parallel()
	var names []string
	for _, p := range registered {
		v, err := p.fromEnv(func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, strings.ToLower(string(v.Name())), strings.ToLower(v.DisplayName()))
	}
	root := filepath.Join("..", "..")
	exempt := map[string]bool{"internal/vendors": true, "internal/vendorsim": true, "cmd": true}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() && (exempt[rel] || strings.HasPrefix(d.Name(), ".") && rel != ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := strings.ToLower(string(src))
		for _, name := range names {
			if strings.Contains(text, name) {
				t.Errorf("%s names %q: only internal/vendors, internal/vendorsim and cmd may", rel, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
