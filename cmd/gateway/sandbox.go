package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/config"
	"github.com/customergateway/gateway/internal/vendorsim"
)

// sandboxParameterMap maps the README's example attributes to HappyTalk parameters when
// the caller set no map of their own.
const sandboxParameterMap = "tier:parameter1,note:user_parameter"

// startSandbox serves the vendor simulator on a loopback port and points every adapter at
// it with the simulator's credentials, so the gateway works with no vendor account.
func startSandbox(cfg *config.Config, logger zerolog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	simCfg := vendorsim.SandboxConfig()
	simCfg.HappyTalkGenderFormat = cfg.HappyTalkGenderFormat
	srv := &http.Server{Handler: vendorsim.New(simCfg), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error().Err(err).Msg("sandbox vendors stopped")
		}
	}()
	base := "http://" + ln.Addr().String()
	cfg.HappyTalkBaseURL, cfg.HappyTalkToken = base, simCfg.HappyTalkToken
	cfg.LadiFlowBaseURL, cfg.LadiFlowAPIKey = base, simCfg.LadiFlowAPIKey
	cfg.EngageLabBaseURL, cfg.EngageLabAPIKey, cfg.EngageLabAPISecret = base, simCfg.EngageLabAPIKey, simCfg.EngageLabAPISecret
	if cfg.HappyTalkParameterMap == "" {
		cfg.HappyTalkParameterMap = sandboxParameterMap
	}
	logger.Info().Str("vendors_url", base).Msg("sandbox: simulated vendors started; control them under /_sim/")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
