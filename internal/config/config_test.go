package config

import (
	"strings"
	"testing"
)

func TestLoadDefaults(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DefaultRegion != "KR" || c.HappyTalkTimezone != "Asia/Seoul" || c.AuditMaxDays != 31 {
		t.Fatalf("defaults: %+v", c)
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
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(tc.name, tc.value)
			_, err := Load()
			if err == nil || !strings.Contains(err.Error(), tc.name) {
				t.Fatalf("Load with %s=%s: %v", tc.name, tc.value, err)
			}
		})
	}
}
