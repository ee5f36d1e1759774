package webhook

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// A key of n bytes, as Standard Webhooks serialize it.
func secretOf(n int) string {
	return "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", n)))
}

func TestFromEnv(t *testing.T) {
	t.Parallel()
	e, err := FromEnv(envOf(nil))
	if err != nil || e.Enabled() || e.Timeout != 10*time.Second {
		t.Fatalf("empty environment: %+v %v; want webhooks off, a 10s timeout", e, err)
	}
	good := secretOf(32)
	e, err = FromEnv(envOf(map[string]string{"GATEWAY_WEBHOOK_URL": "https://hooks.example.com/in", "GATEWAY_WEBHOOK_SECRET": good, "GATEWAY_WEBHOOK_TIMEOUT": "3s"}))
	if err != nil || !e.Enabled() || e.URL != "https://hooks.example.com/in" || e.Secret != good || e.Timeout != 3*time.Second {
		t.Fatalf("configured: %+v %v", e, err)
	}
	if _, err := FromEnv(envOf(map[string]string{"GATEWAY_WEBHOOK_URL": "http://127.0.0.1:9/in", "GATEWAY_WEBHOOK_SECRET": secretOf(MinSecretBytes)})); err != nil {
		t.Fatalf("a %d-byte key over http: %v", MinSecretBytes, err)
	}
}

// Each misconfiguration is refused with the variable's name, and no message repeats the
// secret (its key part: "whsec_" alone is no secret) or the URL's password.
func TestFromEnvRefuses(t *testing.T) {
	t.Parallel()
	const url = "https://hooks.example.com/in"
	raw32 := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("s", 32)))
	tests := []struct {
		name, url, secret, timeout string
		names                      string
	}{
		{"no secret", url, "", "", "GATEWAY_WEBHOOK_SECRET"},
		{"no whsec_ prefix", url, raw32, "", "GATEWAY_WEBHOOK_SECRET"},
		{"another prefix", url, "whsk_" + raw32, "", "GATEWAY_WEBHOOK_SECRET"},
		{"not base64", url, "whsec_not*base64*at*all*but*long*enough*", "", "GATEWAY_WEBHOOK_SECRET"},
		{"url-safe base64", url, "whsec_" + base64.URLEncoding.EncodeToString([]byte(strings.Repeat("\xfb", 30))), "", "GATEWAY_WEBHOOK_SECRET"},
		{"unpadded base64", url, "whsec_" + base64.RawStdEncoding.EncodeToString([]byte(strings.Repeat("s", 32))), "", "GATEWAY_WEBHOOK_SECRET"},
		{"too short", url, secretOf(MinSecretBytes - 1), "", "GATEWAY_WEBHOOK_SECRET"},
		{"empty key", url, "whsec_", "", "GATEWAY_WEBHOOK_SECRET"},
		{"relative url", "/hooks/in", secretOf(32), "", "GATEWAY_WEBHOOK_URL"},
		{"no scheme", "hooks.example.com/in", secretOf(32), "", "GATEWAY_WEBHOOK_URL"},
		{"not http", "ftp://hooks.example.com/in", secretOf(32), "", "GATEWAY_WEBHOOK_URL"},
		{"no host", "https:///in", secretOf(32), "", "GATEWAY_WEBHOOK_URL"},
		{"unparsable url with a password", "https://user:hunter2@hooks example.com/in", secretOf(32), "", "GATEWAY_WEBHOOK_URL"},
		{"secret without url", "", secretOf(32), "", "GATEWAY_WEBHOOK_URL"},
		{"zero timeout", url, secretOf(32), "0s", "GATEWAY_WEBHOOK_TIMEOUT"},
		{"negative timeout", url, secretOf(32), "-1s", "GATEWAY_WEBHOOK_TIMEOUT"},
		{"unreadable timeout", url, secretOf(32), "ten seconds", "GATEWAY_WEBHOOK_TIMEOUT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromEnv(envOf(map[string]string{"GATEWAY_WEBHOOK_URL": tc.url, "GATEWAY_WEBHOOK_SECRET": tc.secret, "GATEWAY_WEBHOOK_TIMEOUT": tc.timeout}))
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.names) {
				t.Errorf("%q does not name %s", msg, tc.names)
			}
			if key := strings.TrimPrefix(tc.secret, "whsec_"); key != "" && strings.Contains(msg, key) {
				t.Errorf("%q repeats the secret", msg)
			}
			if strings.Contains(msg, "hunter2") {
				t.Errorf("%q repeats the URL's password", msg)
			}
		})
	}
}

// A secret NewSecret makes is one FromEnv takes, holds 32 random bytes, and is new each time.
func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two secrets alike")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if !strings.HasPrefix(a, "whsec_") || err != nil || len(key) != 32 {
		t.Fatalf("%d key bytes, %v", len(key), err)
	}
	if _, err := FromEnv(envOf(map[string]string{"GATEWAY_WEBHOOK_URL": "https://hooks.example.com/in", "GATEWAY_WEBHOOK_SECRET": a})); err != nil {
		t.Fatalf("FromEnv refuses NewSecret's secret: %v", err)
	}
}
