package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/customergateway/gateway/internal/auth"
)

// Following updates and managing deliveries need their scopes: a writer can update but
// neither read the update back nor list deliveries; a reader reads it; only an operator
// with deliveries:manage lists, retries and cancels. The CLI does the same over HTTP.
func TestFollowingNeedsItsScopes(t *testing.T) {
	t.Parallel()
	type key struct{ name, scopes, secret string }
	keys := []*key{{name: "billing", scopes: "customers:write"}, {name: "support", scopes: "customers:read"}, {name: "ops", scopes: "deliveries:manage"}}
	var file strings.Builder
	file.WriteString("keys:\n")
	for _, k := range keys {
		secret, digest, err := auth.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		k.secret = secret
		file.WriteString("  - {name: " + k.name + ", sha256: " + digest + ", scopes: [" + k.scopes + "]}\n")
	}
	path := filepath.Join(t.TempDir(), "keys.yaml")
	if err := os.WriteFile(path, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startInProcess(t, map[string]string{"GATEWAY_API_KEYS_FILE": path}, "--sandbox")
	bearer := func(k *key) []string { return []string{"Authorization", "Bearer " + k.secret} }
	writer, reader, ops := keys[0], keys[1], keys[2]

	status, hdr, body := g.do(t, http.MethodPut, "/customers/c-1", `{"email":"a@example.com","vendors":["ladiflow"],"vendor_refs":{"ladiflow":{"id":"lf-1"}}}`, bearer(writer)...)
	if status != http.StatusOK || hdr.Get("Location") == "" {
		t.Fatalf("PUT: %d %v %s", status, hdr, body)
	}
	loc := hdr.Get("Location")
	for _, c := range []struct {
		method, path string
		k            *key
		want         int
	}{
		{http.MethodGet, loc, writer, http.StatusForbidden},
		{http.MethodGet, loc, nil, http.StatusUnauthorized},
		{http.MethodGet, loc, reader, http.StatusOK},
		{http.MethodGet, "/customers/c-1", reader, http.StatusOK},
		{http.MethodGet, "/customers/c-1", ops, http.StatusForbidden},
		{http.MethodGet, "/deliveries", reader, http.StatusForbidden},
		{http.MethodPost, "/deliveries/x/retry", writer, http.StatusForbidden},
		{http.MethodDelete, "/deliveries/x", reader, http.StatusForbidden},
		{http.MethodGet, "/deliveries", ops, http.StatusOK},
		{http.MethodDelete, "/deliveries/x", ops, http.StatusNotFound},
	} {
		var h []string
		if c.k != nil {
			h = bearer(c.k)
		}
		if status, _, body := g.do(t, c.method, c.path, "", h...); status != c.want {
			t.Errorf("%s %s as %v: %d, want %d: %s", c.method, c.path, c.k, status, c.want, body)
		}
	}
	status, _, body = g.do(t, http.MethodGet, loc, "", bearer(reader)...)
	var u struct{ Caller string }
	if err := json.Unmarshal(body, &u); err != nil || status != http.StatusOK || u.Caller != "billing" {
		t.Fatalf("the update does not name its caller: %d %s", status, body)
	}

	id := strings.TrimPrefix(loc, "/updates/")
	var out, errOut bytes.Buffer
	env := map[string]string{"GATEWAY_URL": g.base, "GATEWAY_API_KEY": reader.secret}
	err := run(context.Background(), []string{"updates", "get", id, "--json"}, func(k string) string { return env[k] }, &out, &errOut)
	if err != nil || !strings.Contains(out.String(), `"caller": "billing"`) {
		t.Fatalf("gateway updates get: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	out.Reset()
	errOut.Reset()
	err = run(context.Background(), []string{"deliveries", "list"}, func(k string) string { return env[k] }, &out, &errOut)
	var exit exitError
	if !errors.As(err, &exit) || exit.code != 1 || !strings.Contains(errOut.String(), "deliveries:manage") {
		t.Fatalf("gateway deliveries list with a reader's key: %v\n%s", err, errOut.String())
	}
	if strings.Contains(out.String()+errOut.String()+g.logs.String(), reader.secret) {
		t.Fatal("a key was printed")
	}
}

// gateway webhooks secret makes a secret the specification's own library takes.
func TestWebhooksSecretCommand(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"webhooks", "secret"}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(out.String())
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := wh.Sign("msg_1", time.Now(), []byte(`{}`))
	if err != nil || !strings.HasPrefix(sig, "v1,") {
		t.Fatalf("sign with the new secret: %q %v", sig, err)
	}
	if err := run(context.Background(), []string{"webhooks", "rotate"}, func(string) string { return "" }, &out, &out); err == nil {
		t.Fatal("an unknown webhooks subcommand passed")
	}
}
