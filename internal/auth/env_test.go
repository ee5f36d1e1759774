package auth

import (
	"errors"
	"strings"
	"testing"
)

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// Outside the sandbox a gateway with no callers configured does not start: the error names
// GATEWAY_AUTH. The sandbox runs open unless told otherwise.
func TestReadEnvAndOpen(t *testing.T) {
	e, err := ReadEnv(envOf(nil), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Open(t.Context()); !errors.Is(err, ErrNoCallers) || !strings.Contains(err.Error(), "GATEWAY_AUTH") {
		t.Fatalf("no callers: %v", err)
	}
	for _, vars := range []map[string]string{{"GATEWAY_AUTH": "none"}, nil} {
		e, err := ReadEnv(envOf(vars), vars == nil)
		if err != nil {
			t.Fatal(err)
		}
		if a, err := e.Open(t.Context()); a != nil || err != nil {
			t.Fatalf("%v: want no authenticator, got %v %v", vars, a, err)
		}
	}
	// Told otherwise, the sandbox authenticates too.
	e, err = ReadEnv(envOf(map[string]string{"GATEWAY_JWT_JWKS_URL": "http://127.0.0.1:1/jwks"}), true)
	if err != nil || e.Mode != "" {
		t.Fatalf("sandbox with a JWKS: %+v %v", e, err)
	}
	if _, err := ReadEnv(envOf(map[string]string{"GATEWAY_AUTH": "off"}), false); err == nil || !strings.Contains(err.Error(), "GATEWAY_AUTH") {
		t.Fatalf("GATEWAY_AUTH=off: %v", err)
	}
}
