// Package config reads the gateway's configuration from the environment (DESIGN.md 3.2).
package config

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
)

// Config is every setting the gateway reads. The README documents each variable; a test
// checks that it does.
type Config struct {
	Addr            string        `env:"GATEWAY_ADDR, default=:8080"`
	LogLevel        string        `env:"GATEWAY_LOG_LEVEL, default=info"`
	LogFormat       string        `env:"GATEWAY_LOG_FORMAT, default=json"`
	DefaultRegion   string        `env:"GATEWAY_DEFAULT_REGION, default=KR"`
	RequestTimeout  time.Duration `env:"GATEWAY_REQUEST_TIMEOUT, default=10s"`
	VendorTimeout   time.Duration `env:"GATEWAY_VENDOR_TIMEOUT, default=3s"`
	RetryAttempts   int           `env:"GATEWAY_RETRY_ATTEMPTS, default=3"`
	RetryBackoff    time.Duration `env:"GATEWAY_RETRY_BACKOFF, default=100ms"`
	BreakerFailures uint          `env:"GATEWAY_BREAKER_FAILURES, default=5"`
	BreakerCooldown time.Duration `env:"GATEWAY_BREAKER_COOLDOWN, default=30s"`
	MaxBodyBytes    int64         `env:"GATEWAY_MAX_BODY_BYTES, default=1048576"`

	// Limits (DESIGN.md 7): past them a request is answered 503 or 429 with Retry-After,
	// and a connection waits to be accepted.
	MaxBodyBytesInFlight int64         `env:"GATEWAY_MAX_BODY_BYTES_IN_FLIGHT, default=33554432"`
	MaxInFlight          int           `env:"GATEWAY_MAX_IN_FLIGHT, default=512"`
	MaxConnections       int           `env:"GATEWAY_MAX_CONNECTIONS, default=1024"`
	RateLimit            float64       `env:"GATEWAY_RATE_LIMIT, default=100"`
	RateBurst            int           `env:"GATEWAY_RATE_BURST, default=200"`
	ReadTimeout          time.Duration `env:"GATEWAY_READ_TIMEOUT, default=30s"`

	ShutdownTimeout time.Duration `env:"GATEWAY_SHUTDOWN_TIMEOUT, default=15s"`
	ShutdownDelay   time.Duration `env:"GATEWAY_SHUTDOWN_DELAY, default=0s"`
	AuditMaxDays    int           `env:"GATEWAY_AUDIT_MAX_DAYS, default=31"`
	AuditFetches    int           `env:"GATEWAY_AUDIT_CONCURRENCY, default=4"`
	CursorSecret    string        `env:"GATEWAY_CURSOR_SECRET"`
	DatabaseURL     string        `env:"GATEWAY_DATABASE_URL, default=sqlite://gateway.db"`
	QueueMaxAge     time.Duration `env:"GATEWAY_QUEUE_MAX_AGE, default=24h"`
	QueueBackoff    time.Duration `env:"GATEWAY_QUEUE_BACKOFF, default=1s"`
	QueueMaxBackoff time.Duration `env:"GATEWAY_QUEUE_MAX_BACKOFF, default=5m"`
	QueueWorkers    int           `env:"GATEWAY_QUEUE_WORKERS, default=8"`
	QueuePoll       time.Duration `env:"GATEWAY_QUEUE_POLL_INTERVAL, default=1s"`
	// DeliveryRetention is how long the fields of a queued delivery that ended without
	// success are kept for an operator's retry (personal data: no longer than that).
	DeliveryRetention time.Duration `env:"GATEWAY_DELIVERY_RETENTION, default=168h"`
	// EventRetention is how long gateway events and delivered-field records are kept
	// (DESIGN.md 7): older ones are purged in the background, and the audit trail refuses a
	// range that starts before it.
	EventRetention time.Duration `env:"GATEWAY_EVENT_RETENTION, default=2160h"`
}

// NoDatabase as GATEWAY_DATABASE_URL runs the gateway without a store: nothing is
// remembered between requests and failed deliveries are not queued.
const NoDatabase = "none"

// Load reads the gateway's own configuration through getenv (run's, so a test passes its
// own environment); each vendor reads its own variables the same way (Process).
func Load(getenv func(string) string) (Config, error) {
	var c Config
	if err := Process(getenv, &c); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// Process fills spec, a pointer to a struct whose fields carry `env:"NAME, default=..."`
// tags, from getenv. An empty value counts as unset, so the default applies.
// A value that does not parse is an error naming its variable.
func Process(getenv func(string) string, spec any) error {
	// envconfig reads the fields in turn and stops at the first value that does not parse:
	// the last variable read is the one to name.
	var last string
	lookup := envconfig.LookuperFunc(func(key string) (string, bool) {
		v := getenv(key)
		if v != "" {
			last = key
		}
		return v, v != ""
	})
	if err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: spec, Lookuper: lookup}); err != nil {
		if last == "" {
			return err
		}
		return fmt.Errorf("%s: %w", last, err)
	}
	return nil
}

// Variables lists every environment variable Config reads, in declaration order.
func Variables() []string { return Names(Config{}) }

// Names lists the variables spec (a struct, as for Process) reads, in declaration order.
func Names(spec any) []string {
	t := reflect.TypeOf(spec)
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if name, _ := tag(t.Field(i)); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// Default is the default spec declares for the variable name, and whether it declares it.
func Default(spec any, name string) (string, bool) {
	t := reflect.TypeOf(spec)
	for i := range t.NumField() {
		if n, def := tag(t.Field(i)); n == name {
			return def, true
		}
	}
	return "", false
}

// Credentials lists the variables of spec (a struct, as for Process) whose fields are tagged
// `credential:"true"`: a vendor's Env marks so the variables that enable it, which the
// gateway names when no vendor is configured.
func Credentials(spec any) []string {
	t := reflect.TypeOf(spec)
	var names []string
	for i := range t.NumField() {
		if name, _ := tag(t.Field(i)); name != "" && t.Field(i).Tag.Get("credential") == "true" {
			names = append(names, name)
		}
	}
	return names
}

// tag reads a field's variable name and default from its env tag.
func tag(f reflect.StructField) (name, def string) {
	parts := strings.Split(f.Tag.Get("env"), ",")
	name = strings.TrimSpace(parts[0])
	for _, p := range parts[1:] {
		if v, ok := strings.CutPrefix(strings.TrimSpace(p), "default="); ok {
			def = v
		}
	}
	return name, def
}

// Validate refuses settings the gateway cannot run with: every problem at once, each
// message naming its variable.
func (c Config) Validate() error {
	var errs []error
	check := func(bad bool, format string, args ...any) {
		if bad {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.RequestTimeout <= 0, "GATEWAY_REQUEST_TIMEOUT must be positive")
	check(c.VendorTimeout <= 0, "GATEWAY_VENDOR_TIMEOUT must be positive")
	check(c.RetryAttempts < 1, "GATEWAY_RETRY_ATTEMPTS must be at least 1")
	check(c.AuditMaxDays < 1, "GATEWAY_AUDIT_MAX_DAYS must be at least 1")
	check(c.AuditFetches < 1, "GATEWAY_AUDIT_CONCURRENCY must be at least 1")
	check(c.ShutdownDelay < 0, "GATEWAY_SHUTDOWN_DELAY must not be negative")
	check(c.MaxBodyBytes < 1024, "GATEWAY_MAX_BODY_BYTES must be at least 1024")
	check(c.MaxBodyBytesInFlight < c.MaxBodyBytes, "GATEWAY_MAX_BODY_BYTES_IN_FLIGHT must be at least GATEWAY_MAX_BODY_BYTES (%d)", c.MaxBodyBytes)
	check(c.MaxInFlight < 1, "GATEWAY_MAX_IN_FLIGHT must be at least 1")
	check(c.MaxConnections < 1, "GATEWAY_MAX_CONNECTIONS must be at least 1")
	check(!(c.RateLimit >= 0) || math.IsInf(c.RateLimit, 0), "GATEWAY_RATE_LIMIT must be a number of requests a second, 0 for no limit")
	check(c.RateLimit > 0 && c.RateBurst < 1, "GATEWAY_RATE_BURST must be at least 1")
	check(c.ReadTimeout < 100*time.Millisecond, "GATEWAY_READ_TIMEOUT must be at least 100ms")
	check(c.QueueMaxAge <= 0, "GATEWAY_QUEUE_MAX_AGE must be positive")
	check(c.QueueBackoff < time.Millisecond, "GATEWAY_QUEUE_BACKOFF must be at least 1ms")
	check(c.QueueMaxBackoff < c.QueueBackoff, "GATEWAY_QUEUE_MAX_BACKOFF must be at least GATEWAY_QUEUE_BACKOFF")
	check(c.QueueWorkers < 1, "GATEWAY_QUEUE_WORKERS must be at least 1")
	check(c.QueuePoll < time.Millisecond, "GATEWAY_QUEUE_POLL_INTERVAL must be at least 1ms")
	check(c.DeliveryRetention < time.Second, "GATEWAY_DELIVERY_RETENTION must be at least 1s")
	// A delivered-field record must outlive a request that is still being answered: an
	// older update queued after a newer one was delivered checks it.
	check(c.EventRetention < max(time.Minute, c.RequestTimeout), "GATEWAY_EVENT_RETENTION must be at least 1m and at least GATEWAY_REQUEST_TIMEOUT (%s)", c.RequestTimeout)
	check(c.DatabaseURL == "", "GATEWAY_DATABASE_URL must name a database, or be %q to run without one", NoDatabase)
	check(c.LogFormat != "json" && c.LogFormat != "console", "GATEWAY_LOG_FORMAT must be json or console, not %q", c.LogFormat)
	return errors.Join(errs...)
}
