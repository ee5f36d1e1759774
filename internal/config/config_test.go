package config

import (
	"strings"
	"testing"
	"time"
)

// env is a getenv over a map, as run's is over the process environment.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DefaultRegion != "KR" || c.AuditMaxDays != 31 ||
		c.DatabaseURL != "sqlite://gateway.db" || c.QueueMaxAge != 24*time.Hour || c.QueueBackoff != time.Second ||
		c.EventRetention != 90*24*time.Hour {
		t.Fatalf("defaults: %+v", c)
	}
}

// The limits are on by default; a rate of 0 turns the rate limit off, and then its burst
// does not matter.
func TestLimitDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxInFlight != 512 || c.MaxConnections != 1024 || c.MaxBodyBytesInFlight != 32<<20 ||
		c.RateLimit != 100 || c.RateBurst != 200 || c.ReadTimeout != 30*time.Second {
		t.Fatalf("limits: %+v", c)
	}
	if _, err := Load(env(map[string]string{"GATEWAY_RATE_LIMIT": "0", "GATEWAY_RATE_BURST": "0"})); err != nil {
		t.Fatalf("no rate limit: %v", err)
	}
}

// Every refusal names the variable to fix.
func TestValidateNamesTheVariable(t *testing.T) {
	tests := []struct{ name, value string }{
		{"GATEWAY_REQUEST_TIMEOUT", "0s"},
		{"GATEWAY_RETRY_ATTEMPTS", "0"},
		{"GATEWAY_AUDIT_MAX_DAYS", "0"},
		{"GATEWAY_LOG_FORMAT", "xml"},
		{"GATEWAY_SHUTDOWN_DELAY", "-1s"},
		{"GATEWAY_MAX_BODY_BYTES", "10"},
		{"GATEWAY_MAX_BODY_BYTES_IN_FLIGHT", "1024"},
		{"GATEWAY_MAX_IN_FLIGHT", "0"},
		{"GATEWAY_MAX_CONNECTIONS", "0"},
		{"GATEWAY_RATE_LIMIT", "-1"},
		{"GATEWAY_RATE_LIMIT", "NaN"},
		{"GATEWAY_RATE_LIMIT", "+Inf"},
		{"GATEWAY_RATE_BURST", "0"},
		{"GATEWAY_READ_TIMEOUT", "0s"},
		{"GATEWAY_QUEUE_MAX_AGE", "0s"},
		{"GATEWAY_QUEUE_BACKOFF", "0s"},
		{"GATEWAY_QUEUE_MAX_BACKOFF", "500ms"},
		{"GATEWAY_QUEUE_WORKERS", "0"},
		{"GATEWAY_QUEUE_POLL_INTERVAL", "0s"},
		{"GATEWAY_EVENT_RETENTION", "59s"},
	}
	for _, tc := range tests {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			_, err := Load(env(map[string]string{tc.name: tc.value}))
			if err == nil || !strings.Contains(err.Error(), tc.name) {
				t.Fatalf("Load with %s=%s: %v", tc.name, tc.value, err)
			}
		})
	}
}

// An empty GATEWAY_DATABASE_URL reads as unset through getenv (the default store), so the
// refusal of an empty one is Validate's alone.
func TestValidateRefusesNoDatabase(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	c.DatabaseURL = ""
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "GATEWAY_DATABASE_URL") {
		t.Fatalf("Validate with no database URL: %v", err)
	}
}

// Validate names every refused setting at once, so one run of `gateway check` lists them
// all; a value that does not parse names its variable.
func TestLoadNamesEveryProblem(t *testing.T) {
	_, err := Load(env(map[string]string{"GATEWAY_RETRY_ATTEMPTS": "0", "GATEWAY_LOG_FORMAT": "xml", "GATEWAY_QUEUE_WORKERS": "0"}))
	for _, name := range []string{"GATEWAY_RETRY_ATTEMPTS", "GATEWAY_LOG_FORMAT", "GATEWAY_QUEUE_WORKERS"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Load: %v; want it to name %s", err, name)
		}
	}
	_, err = Load(env(map[string]string{"GATEWAY_ADDR": ":9000", "GATEWAY_REQUEST_TIMEOUT": "soon", "GATEWAY_AUDIT_MAX_DAYS": "7"}))
	if err == nil || !strings.HasPrefix(err.Error(), "GATEWAY_REQUEST_TIMEOUT: ") {
		t.Errorf("Load with an unparsable duration: %v; want it to name GATEWAY_REQUEST_TIMEOUT", err)
	}
}

// Credentials names the variables a spec marks as its credentials, in declaration order.
func TestCredentials(t *testing.T) {
	type spec struct {
		BaseURL string `env:"X_BASE_URL, default=https://x.invalid"`
		Key     string `env:"X_KEY" credential:"true"`
		Map     string `env:"X_MAP"`
		Secret  string `env:"X_SECRET, default=s" credential:"true"`
		Other   string
	}
	if got := Credentials(spec{}); strings.Join(got, ",") != "X_KEY,X_SECRET" {
		t.Fatalf("Credentials = %q, want X_KEY, X_SECRET", got)
	}
}
