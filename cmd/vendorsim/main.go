// Command vendorsim serves the vendor simulator on its own, for docker-compose, the
// benchmarks and manual trials: HappyTalk, LadiFlow and EngageLab on one base URL, and the
// /_sim/ control API (faults, received requests, health).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"syscall"
	"time"
	_ "time/tzdata" // the zone database, so VENDORSIM_HAPPYTALK_TIMEZONE works in a scratch image

	"github.com/kelseyhightower/envconfig"
	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/vendorsim"
	"github.com/customergateway/gateway/internal/vendorsim/engagelab"
	"github.com/customergateway/gateway/internal/vendorsim/happytalk"
	"github.com/customergateway/gateway/internal/vendorsim/ladiflow"
)

// shutdownTimeout bounds how long requests in flight (a hanging timeout fault) may delay
// the exit.
const shutdownTimeout = 10 * time.Second

// config is the simulator's environment; every credential defaults to the sandbox one.
type config struct {
	Addr                  string `envconfig:"VENDORSIM_ADDR" default:":9090"`
	HappyTalkToken        string `envconfig:"VENDORSIM_HAPPYTALK_TOKEN" default:"sandbox-happytalk-token"`
	LadiFlowAPIKey        string `envconfig:"VENDORSIM_LADIFLOW_API_KEY" default:"sandbox-ladiflow-key"`
	EngageLabAPIKey       string `envconfig:"VENDORSIM_ENGAGELAB_API_KEY" default:"sandbox-engagelab-key"`
	EngageLabAPISecret    string `envconfig:"VENDORSIM_ENGAGELAB_API_SECRET" default:"sandbox-engagelab-secret"`
	HappyTalkGenderFormat string `envconfig:"VENDORSIM_HAPPYTALK_GENDER_FORMAT" default:"code"`
	HappyTalkTimezone     string `envconfig:"VENDORSIM_HAPPYTALK_TIMEZONE" default:"Asia/Seoul"`
}

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "vendorsim:", err)
		os.Exit(1)
	}
}

// run serves the simulator until ctx is done or SIGINT/SIGTERM arrives, then shuts down
// gracefully. args[1:] may be -h or --help, which prints the environment variables.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 1 && (args[1] == "-h" || args[1] == "--help") {
		return envconfig.Usagef("", &config{}, stdout, envconfig.DefaultTableFormat)
	}
	if len(args) > 1 {
		return fmt.Errorf("unexpected arguments %q: the simulator is configured by environment (see --help)", args[1:])
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := zerolog.New(stderr).With().Timestamp().Str("service", "vendorsim").Logger()

	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	vendors, err := cfg.vendors()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           logRequests(log, vendorsim.New(vendorsim.Config{}, vendors...)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Info().Str("addr", ln.Addr().String()).Str("happytalk_gender_format", cfg.HappyTalkGenderFormat).
		Str("happytalk_timezone", cfg.HappyTalkTimezone).Msg("vendorsim listening")
	return serve(ctx, srv, ln, log)
}

// serve runs srv on ln until ctx is done, then shuts it down.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, log zerolog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info().Msg("vendorsim shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// loadConfig reads the environment through envconfig (defaults and the process
// environment), then lets getenv override each variable, so a test can pass its own
// environment without touching the process's.
func loadConfig(getenv func(string) string) (config, error) {
	var c config
	if err := envconfig.Process("", &c); err != nil {
		return c, fmt.Errorf("environment: %w", err)
	}
	v := reflect.ValueOf(&c).Elem()
	for i := range v.NumField() {
		if val := getenv(v.Type().Field(i).Tag.Get("envconfig")); val != "" {
			v.Field(i).SetString(val)
		}
	}
	return c, nil
}

// vendors turns the environment into the simulated vendors, in the order they are listed
// everywhere; errors name the variable, never a credential.
func (c config) vendors() ([]vendorsim.Vendor, error) {
	loc, err := time.LoadLocation(c.HappyTalkTimezone)
	if err != nil {
		return nil, fmt.Errorf("VENDORSIM_HAPPYTALK_TIMEZONE: %w", err)
	}
	ht := happytalk.Config{Token: c.HappyTalkToken, GenderFormat: c.HappyTalkGenderFormat, Timezone: loc}
	if ht.Validate() != nil {
		return nil, fmt.Errorf("VENDORSIM_HAPPYTALK_GENDER_FORMAT must be %q (M/F) or %q (남/여), not %q",
			happytalk.GenderCode, happytalk.GenderKorean, c.HappyTalkGenderFormat)
	}
	return []vendorsim.Vendor{
		happytalk.New(ht),
		ladiflow.New(ladiflow.Config{APIKey: c.LadiFlowAPIKey}),
		engagelab.New(engagelab.Config{APIKey: c.EngageLabAPIKey, APISecret: c.EngageLabAPISecret}),
	}, nil
}

// statusRecorder keeps the status a handler answered, for the access log; 0 means nothing
// was answered (a dropped connection, or a client that gave up).
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (the drop fault hijacks it).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logRequests logs each request's method, path, status and duration; never headers or
// bodies, which carry credentials and personal data.
func logRequests(log zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		log.Info().Str("method", r.Method).Str("path", r.URL.Path).Int("status", rec.status).
			Dur("duration", time.Since(start)).Msg("request")
	})
}
