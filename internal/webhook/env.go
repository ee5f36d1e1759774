package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/customergateway/gateway/internal/config"
)

// Env is the webhooks' part of the gateway's environment (DESIGN.md 6).
type Env struct {
	// URL is where update.completed webhooks go; empty turns webhooks off.
	URL string `env:"GATEWAY_WEBHOOK_URL"`
	// Secret is the signing key as Standard Webhooks serialize it: whsec_ and the key's
	// standard base64.
	Secret string `env:"GATEWAY_WEBHOOK_SECRET"`
	// Timeout bounds each attempt, from dialling to the end of the answer.
	Timeout time.Duration `env:"GATEWAY_WEBHOOK_TIMEOUT, default=10s"`
}

// secretPrefix marks a Standard Webhooks symmetric (HMAC-SHA256) secret.
const secretPrefix = "whsec_"

// MinSecretBytes is the shortest key Standard Webhooks allow for HMAC-SHA256 (192 bits).
const MinSecretBytes = 24

// newSecretBytes is the length of a key NewSecret makes: SHA-256's block of security.
const newSecretBytes = 32

// FromEnv reads Env through getenv and checks it. Its errors name the variable and never
// repeat the secret or the URL, which may carry credentials of its own.
func FromEnv(getenv func(string) string) (Env, error) {
	var e Env
	if err := config.Process(getenv, &e); err != nil {
		return e, err
	}
	return e, e.validate()
}

// Enabled reports whether the gateway sends webhooks.
func (e Env) Enabled() bool { return e.URL != "" }

// validate refuses settings webhooks cannot be sent with.
func (e Env) validate() error {
	if e.Timeout <= 0 {
		return errors.New("GATEWAY_WEBHOOK_TIMEOUT must be positive")
	}
	if !e.Enabled() {
		if e.Secret != "" {
			// A secret with nowhere to send is a URL forgotten, not a wish for no webhooks.
			return errors.New("GATEWAY_WEBHOOK_SECRET is set but GATEWAY_WEBHOOK_URL is not: set both to send webhooks, or neither")
		}
		return nil
	}
	// url.Parse's own error quotes the URL whole, user:password included: not wrapped.
	u, err := url.Parse(e.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("GATEWAY_WEBHOOK_URL must be an absolute http or https URL")
	}
	if e.Secret == "" {
		return errors.New("GATEWAY_WEBHOOK_SECRET is required when GATEWAY_WEBHOOK_URL is set (gateway webhooks secret makes one)")
	}
	return checkSecret(e.Secret)
}

// checkSecret refuses a secret that is not whsec_ and the standard base64 of a long enough
// key. The library's NewWebhook would take a secret without the prefix, or an empty key.
func checkSecret(secret string) error {
	b64, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return fmt.Errorf("GATEWAY_WEBHOOK_SECRET must start with %s", secretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		// base64's error gives the offset of the bad byte, never the byte: still not kept.
		return fmt.Errorf("GATEWAY_WEBHOOK_SECRET must be %s followed by standard (padded) base64", secretPrefix)
	}
	if len(key) < MinSecretBytes {
		return fmt.Errorf("GATEWAY_WEBHOOK_SECRET must hold at least %d key bytes, not %d", MinSecretBytes, len(key))
	}
	return nil
}

// NewSecret makes a signing secret for GATEWAY_WEBHOOK_SECRET: 32 random bytes from
// crypto/rand, serialized as Standard Webhooks do (whsec_ and standard base64).
func NewSecret() (string, error) {
	key := make([]byte, newSecretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("read random key: %w", err)
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(key), nil
}
