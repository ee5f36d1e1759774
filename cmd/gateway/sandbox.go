package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/vendorsim"
)

// startSandbox serves every registered vendor's simulator on a loopback port and answers a
// getenv that points every adapter at it with the simulator's credentials, so the gateway
// works with no vendor account.
func startSandbox(getenv func(string) string, logger zerolog.Logger) (sandboxed func(string) string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("sandbox: %w", err)
	}
	base := "http://" + ln.Addr().String()
	env := map[string]string{}
	sims := make([]vendorsim.Vendor, 0, len(registered))
	for _, p := range registered {
		sim, vars, err := p.sandbox(getenv, base)
		if err != nil {
			_ = ln.Close()
			return nil, nil, err
		}
		sims = append(sims, sim)
		for k, v := range vars {
			env[k] = v
		}
	}
	srv := &http.Server{Handler: vendorsim.New(vendorsim.Config{}, sims...), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error().Err(err).Msg("sandbox vendors stopped")
		}
	}()
	logger.Info().Str("vendors_url", base).Msg("sandbox: simulated vendors started; control them under /_sim/")
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return overlay(env, getenv), stop, nil
}

// overlay is a getenv that answers vars first, then getenv.
func overlay(vars map[string]string, getenv func(string) string) func(string) string {
	return func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return getenv(k)
	}
}
