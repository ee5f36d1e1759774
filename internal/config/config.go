// Package config reads the gateway's configuration from the environment (DESIGN.md 3.2).
package config

import (
	"fmt"
	"reflect"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// Config is every setting the gateway reads. The README documents each variable; a test
// checks that it does.
type Config struct {
	Addr            string        `envconfig:"GATEWAY_ADDR" default:":8080"`
	LogLevel        string        `envconfig:"GATEWAY_LOG_LEVEL" default:"info"`
	LogFormat       string        `envconfig:"GATEWAY_LOG_FORMAT" default:"json"`
	DefaultRegion   string        `envconfig:"GATEWAY_DEFAULT_REGION" default:"KR"`
	RequestTimeout  time.Duration `envconfig:"GATEWAY_REQUEST_TIMEOUT" default:"10s"`
	VendorTimeout   time.Duration `envconfig:"GATEWAY_VENDOR_TIMEOUT" default:"3s"`
	RetryAttempts   int           `envconfig:"GATEWAY_RETRY_ATTEMPTS" default:"3"`
	RetryBackoff    time.Duration `envconfig:"GATEWAY_RETRY_BACKOFF" default:"100ms"`
	BreakerFailures uint          `envconfig:"GATEWAY_BREAKER_FAILURES" default:"5"`
	BreakerCooldown time.Duration `envconfig:"GATEWAY_BREAKER_COOLDOWN" default:"30s"`
	MaxBodyBytes    int64         `envconfig:"GATEWAY_MAX_BODY_BYTES" default:"1048576"`
	ShutdownTimeout time.Duration `envconfig:"GATEWAY_SHUTDOWN_TIMEOUT" default:"15s"`
	ShutdownDelay   time.Duration `envconfig:"GATEWAY_SHUTDOWN_DELAY" default:"0s"`
	AuditMaxDays    int           `envconfig:"GATEWAY_AUDIT_MAX_DAYS" default:"31"`
	AuditFetches    int           `envconfig:"GATEWAY_AUDIT_CONCURRENCY" default:"4"`
	CursorSecret    string        `envconfig:"GATEWAY_CURSOR_SECRET"`
	DatabaseURL     string        `envconfig:"GATEWAY_DATABASE_URL" default:"sqlite://gateway.db"`
	QueueMaxAge     time.Duration `envconfig:"GATEWAY_QUEUE_MAX_AGE" default:"24h"`
	QueueBackoff    time.Duration `envconfig:"GATEWAY_QUEUE_BACKOFF" default:"1s"`
	QueueMaxBackoff time.Duration `envconfig:"GATEWAY_QUEUE_MAX_BACKOFF" default:"5m"`
	QueueWorkers    int           `envconfig:"GATEWAY_QUEUE_WORKERS" default:"8"`
	QueuePoll       time.Duration `envconfig:"GATEWAY_QUEUE_POLL_INTERVAL" default:"1s"`

	HappyTalkBaseURL      string `envconfig:"HAPPYTALK_BASE_URL" default:"https://customer.happytalk.io"`
	HappyTalkToken        string `envconfig:"HAPPYTALK_TOKEN"`
	HappyTalkGenderFormat string `envconfig:"HAPPYTALK_GENDER_FORMAT" default:"code"`
	HappyTalkTimezone     string `envconfig:"HAPPYTALK_TIMEZONE" default:"Asia/Seoul"`
	HappyTalkParameterMap string `envconfig:"HAPPYTALK_PARAMETER_MAP"`

	LadiFlowBaseURL string `envconfig:"LADIFLOW_BASE_URL" default:"https://api.service.ladiflow.com"`
	LadiFlowAPIKey  string `envconfig:"LADIFLOW_API_KEY"`

	EngageLabBaseURL   string `envconfig:"ENGAGELAB_BASE_URL" default:"https://ma-api.engagelab.com"`
	EngageLabAPIKey    string `envconfig:"ENGAGELAB_API_KEY"`
	EngageLabAPISecret string `envconfig:"ENGAGELAB_API_SECRET"`
}

// NoDatabase as GATEWAY_DATABASE_URL runs the gateway without a store: nothing is
// remembered between requests and failed deliveries are not queued.
const NoDatabase = "none"

// Load reads the configuration from the process environment (tests use t.Setenv, or
// start the binary with its own environment).
func Load() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// Variables lists every environment variable Config reads, in declaration order.
func Variables() []string {
	t := reflect.TypeFor[Config]()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("envconfig"); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// Validate refuses settings the gateway cannot run with; messages name the variable.
func (c Config) Validate() error {
	switch {
	case c.RequestTimeout <= 0:
		return fmt.Errorf("GATEWAY_REQUEST_TIMEOUT must be positive")
	case c.VendorTimeout <= 0:
		return fmt.Errorf("GATEWAY_VENDOR_TIMEOUT must be positive")
	case c.RetryAttempts < 1:
		return fmt.Errorf("GATEWAY_RETRY_ATTEMPTS must be at least 1")
	case c.AuditMaxDays < 1:
		return fmt.Errorf("GATEWAY_AUDIT_MAX_DAYS must be at least 1")
	case c.AuditFetches < 1:
		return fmt.Errorf("GATEWAY_AUDIT_CONCURRENCY must be at least 1")
	case c.ShutdownDelay < 0:
		return fmt.Errorf("GATEWAY_SHUTDOWN_DELAY must not be negative")
	case c.MaxBodyBytes < 1024:
		return fmt.Errorf("GATEWAY_MAX_BODY_BYTES must be at least 1024")
	case c.QueueMaxAge <= 0:
		return fmt.Errorf("GATEWAY_QUEUE_MAX_AGE must be positive")
	case c.QueueBackoff < time.Millisecond:
		return fmt.Errorf("GATEWAY_QUEUE_BACKOFF must be at least 1ms")
	case c.QueueMaxBackoff < c.QueueBackoff:
		return fmt.Errorf("GATEWAY_QUEUE_MAX_BACKOFF must be at least GATEWAY_QUEUE_BACKOFF")
	case c.QueueWorkers < 1:
		return fmt.Errorf("GATEWAY_QUEUE_WORKERS must be at least 1")
	case c.QueuePoll < time.Millisecond:
		return fmt.Errorf("GATEWAY_QUEUE_POLL_INTERVAL must be at least 1ms")
	case c.DatabaseURL == "":
		return fmt.Errorf("GATEWAY_DATABASE_URL must name a database, or be %q to run without one", NoDatabase)
	case c.LogFormat != "json" && c.LogFormat != "console":
		return fmt.Errorf("GATEWAY_LOG_FORMAT must be json or console, not %q", c.LogFormat)
	}
	return nil
}
