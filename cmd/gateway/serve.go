package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/net/netutil"

	"github.com/customergateway/gateway/internal/api"
	"github.com/customergateway/gateway/internal/auth"
	"github.com/customergateway/gateway/internal/config"
	"github.com/customergateway/gateway/internal/queue"
	"github.com/customergateway/gateway/internal/tracing/otlp"
)

// serve wires the gateway from the environment and serves until ctx is cancelled, then
// drains: readiness goes off first, then in-flight requests get ShutdownTimeout to finish.
func serve(ctx context.Context, opts options, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	logger, err := newLogger(cfg, stdout)
	if err != nil {
		return err
	}
	callers, err := auth.ReadEnv(getenv, opts.sandbox)
	if err != nil {
		return err
	}
	if callers.Mode == auth.ModeNone {
		logger.Warn().Bool("sandbox", opts.sandbox).Msg("GATEWAY_AUTH=none: no caller is authenticated; every request is the caller \"anonymous\" with every scope")
	}
	authn, err := callers.Open(ctx)
	if err != nil {
		return err
	}
	if authn != nil {
		defer authn.Close()
	}
	if opts.sandbox {
		sandboxed, stopSim, err := startSandbox(getenv, logger)
		if err != nil {
			return err
		}
		defer stopSim()
		getenv = sandboxed
	}
	contract, err := api.LoadContract(document)
	if err != nil {
		return err
	}
	tracingOn, stopTracing, err := otlp.Setup(ctx, getenv, moduleVersion())
	if err != nil {
		return err
	}
	defer flushTraces(stopTracing, logger)
	w, err := wire(ctx, cfg, getenv, logger, contract)
	if err != nil {
		return err
	}
	deps := withLimits(w.deps, cfg)
	deps.Tracing = tracingOn
	if authn != nil {
		deps.Auth = authn // only a real one: an interface holding a nil pointer is not nil
	}
	deps.MetricsPublic = callers.MetricsPublic
	if w.store != nil {
		defer w.store.Close()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on GATEWAY_ADDR %s: %w", cfg.Addr, err)
	}
	// Past GATEWAY_MAX_CONNECTIONS a new connection waits in the kernel's backlog until one
	// closes, rather than take another socket and its buffers.
	ln = netutil.LimitListener(ln, cfg.MaxConnections)
	if w.queue != nil {
		// Deliveries queued before a restart (or by another replica) start going out now.
		if err := w.queue.Start(context.WithoutCancel(ctx), w.updates); err != nil {
			_ = ln.Close()
			return fmt.Errorf("start delivery queue: %w", err)
		}
	}
	if w.purger != nil {
		// Stopped before the store closes: deferred after its Close, so it runs first.
		w.purger.Start(context.WithoutCancel(ctx))
		defer w.purger.Stop()
	}
	srv := newHTTPServer(api.NewServer(deps), cfg)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	deps.Readiness.Set(true)
	logger.Info().Str("addr", ln.Addr().String()).Bool("sandbox", opts.sandbox).
		Strs("vendors", vendorNames(w.fanout.Enabled())).Msg("gateway listening")

	select {
	case err := <-errc:
		stopCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		<-stopQueue(stopCtx, w.queue, logger)
		return err
	case <-ctx.Done():
	}
	deps.Readiness.Set(false)
	// Behind a load balancer, keep serving while it notices /readyz's 503 and stops sending.
	logger.Info().Dur("delay", cfg.ShutdownDelay).Msg("shutting down")
	time.Sleep(cfg.ShutdownDelay)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// In-flight requests and running background deliveries drain side by side, within the
	// one timeout.
	queueDone := stopQueue(shutdownCtx, w.queue, logger)
	err = srv.Shutdown(shutdownCtx)
	<-queueDone
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info().Msg("stopped")
	return nil
}

// flushTraces sends the spans still buffered, within a few seconds, at the end of serve.
func flushTraces(stop func(context.Context) error, logger zerolog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := stop(ctx); err != nil {
		logger.Warn().Err(err).Msg("flush traces")
	}
}

// withLimits is deps with the request limits of cfg (DESIGN.md 7).
func withLimits(deps api.Deps, cfg config.Config) api.Deps {
	deps.MaxInFlight = cfg.MaxInFlight
	deps.MaxBodyBytesInFlight = cfg.MaxBodyBytesInFlight
	deps.RateLimit = api.RateLimit{Rate: cfg.RateLimit, Burst: cfg.RateBurst}
	return deps
}

// maxHeaderBytes bounds a request's headers (net/http's default is 1 MB a connection): a
// bearer token and a traceparent fit many times over.
const maxHeaderBytes = 64 << 10

// newHTTPServer is the gateway's server with every read and write bounded in time, so a
// client that trickles its headers or its body (slowloris) holds a connection, an in-flight
// slot and its buffers for GATEWAY_READ_TIMEOUT at most, and its headers for 5 s at most.
// The write deadline starts when the headers are read, so it covers the longest body read,
// the request's own deadline and the answer.
func newHTTPServer(h http.Handler, cfg config.Config) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(5*time.Second, cfg.ReadTimeout),
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.ReadTimeout + cfg.RequestTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// stopQueue lets running deliveries finish until ctx ends, and closes the channel it
// answers when the queue has stopped. What is cut off stays queued in the store for the
// next start or another replica.
func stopQueue(ctx context.Context, q *queue.Queue, logger zerolog.Logger) <-chan struct{} {
	done := make(chan struct{})
	if q == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		if err := q.Stop(ctx); err != nil {
			logger.Warn().Err(err).Msg("delivery queue stopped with deliveries cut off; they stay queued")
		}
	}()
	return done
}

func newLogger(cfg config.Config, stdout io.Writer) (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil {
		return zerolog.Logger{}, fmt.Errorf("GATEWAY_LOG_LEVEL: %w", err)
	}
	out := stdout
	if cfg.LogFormat == "console" {
		out = zerolog.ConsoleWriter{Out: stdout, TimeFormat: time.RFC3339}
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger(), nil
}
