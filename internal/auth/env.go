package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/customergateway/gateway/internal/config"
)

// Env is the callers' part of the gateway's environment (DESIGN.md 5).
type Env struct {
	// Mode is "" (authenticate) or "none" (every request is the anonymous caller's).
	Mode     string `env:"GATEWAY_AUTH"`
	KeysFile string `env:"GATEWAY_API_KEYS_FILE"`
	JWKSURL  string `env:"GATEWAY_JWT_JWKS_URL"`
	Issuer   string `env:"GATEWAY_JWT_ISSUER"`
	Audience string `env:"GATEWAY_JWT_AUDIENCE"`
	// MetricsPublic lets /metrics be read without metrics:read.
	MetricsPublic bool `env:"GATEWAY_METRICS_PUBLIC, default=false"`
}

// ModeNone is GATEWAY_AUTH's one value: no authentication.
const ModeNone = "none"

// ErrNoCallers is a gateway told neither how to authenticate callers nor to let everyone in.
var ErrNoCallers = errors.New("GATEWAY_AUTH: no callers are configured: set GATEWAY_API_KEYS_FILE or GATEWAY_JWT_JWKS_URL, or GATEWAY_AUTH=none to run without authentication")

// ReadEnv reads Env through getenv. In sandbox mode an environment that configures no
// callers reads as GATEWAY_AUTH=none: a newcomer's first run needs no credential.
func ReadEnv(getenv func(string) string, sandbox bool) (Env, error) {
	var e Env
	if err := config.Process(getenv, &e); err != nil {
		return e, err
	}
	if e.Mode != "" && e.Mode != ModeNone {
		return e, fmt.Errorf("GATEWAY_AUTH must be empty or %q, not %q", ModeNone, e.Mode)
	}
	if sandbox && e.Mode == "" && e.KeysFile == "" && e.JWKSURL == "" {
		e.Mode = ModeNone
	}
	return e, nil
}

// Open builds the authenticator e describes: nil with GATEWAY_AUTH=none, ErrNoCallers when
// nothing is configured, else one over the keys file and the JWKS.
func (e Env) Open(ctx context.Context) (*Authenticator, error) {
	switch {
	case e.Mode == ModeNone:
		return nil, nil
	case e.KeysFile == "" && e.JWKSURL == "":
		return nil, ErrNoCallers
	}
	return New(ctx, Config{KeysFile: e.KeysFile, JWKSURL: e.JWKSURL, Issuer: e.Issuer, Audience: e.Audience})
}
