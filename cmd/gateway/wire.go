package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	openapi "github.com/customergateway/gateway/api"
	"github.com/customergateway/gateway/internal/adapters/engagelab"
	"github.com/customergateway/gateway/internal/adapters/fanout"
	"github.com/customergateway/gateway/internal/adapters/happytalk"
	"github.com/customergateway/gateway/internal/adapters/ladiflow"
	"github.com/customergateway/gateway/internal/adapters/vendorhttp"
	"github.com/customergateway/gateway/internal/api"
	"github.com/customergateway/gateway/internal/audit"
	"github.com/customergateway/gateway/internal/config"
	"github.com/customergateway/gateway/internal/metrics"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/store"
)

// wire builds every concrete piece from the configuration, once.
func wire(ctx context.Context, cfg config.Config, logger zerolog.Logger, contract *api.Contract) (api.Deps, error) {
	if !model.KnownRegion(cfg.DefaultRegion) {
		return api.Deps{}, fmt.Errorf("GATEWAY_DEFAULT_REGION: %q is not an ISO 3166-1 region with phone numbers", cfg.DefaultRegion)
	}
	ht, err := newHappyTalk(cfg)
	if err != nil {
		return api.Deps{}, err
	}
	lf := ladiflow.New(ladiflow.Config{BaseURL: cfg.LadiFlowBaseURL, APIKey: cfg.LadiFlowAPIKey}, vendorhttp.NewClient())
	el := engagelab.New(engagelab.Config{BaseURL: cfg.EngageLabBaseURL, APIKey: cfg.EngageLabAPIKey, APISecret: cfg.EngageLabAPISecret}, vendorhttp.NewClient())

	m := metrics.New()
	policy := fanout.Policy{
		AttemptTimeout:  cfg.VendorTimeout,
		Attempts:        cfg.RetryAttempts,
		Backoff:         cfg.RetryBackoff,
		BreakerFailures: cfg.BreakerFailures,
		BreakerCooldown: cfg.BreakerCooldown,
	}
	var st *store.Store
	if cfg.DatabaseURL != "" {
		// An Idempotency-Key claim must outlive the slowest request, or a retry would take
		// over a key still being answered and send twice.
		lease := max(store.DefaultInFlightLease, 2*cfg.RequestTimeout+time.Minute)
		if st, err = store.Open(ctx, cfg.DatabaseURL, store.WithInFlightLease(lease)); err != nil {
			return api.Deps{}, fmt.Errorf("GATEWAY_DATABASE_URL: %w", err)
		}
		logger.Info().Str("engine", st.Engine()).Msg("store open, migrations applied")
	}
	auditSvc, err := newAudit(cfg, ht, st)
	if err != nil {
		return api.Deps{}, err
	}
	return api.Deps{
		Logger:         logger,
		Contract:       contract,
		Document:       openapi.Document,
		Fanout:         fanout.New(policy, m.ObserveDelivery, ht, lf, el),
		Audit:          auditSvc,
		Store:          st,
		EUIDs:          el,
		Metrics:        m,
		Readiness:      &api.Readiness{},
		DefaultRegion:  cfg.DefaultRegion,
		RequestTimeout: cfg.RequestTimeout,
		MaxBodyBytes:   cfg.MaxBodyBytes,
	}, nil
}

func newHappyTalk(cfg config.Config) (*happytalk.Adapter, error) {
	loc, err := time.LoadLocation(cfg.HappyTalkTimezone)
	if err != nil {
		return nil, fmt.Errorf("HAPPYTALK_TIMEZONE: %w", err)
	}
	gf, err := happytalk.ParseGenderFormat(cfg.HappyTalkGenderFormat)
	if err != nil {
		return nil, fmt.Errorf("HAPPYTALK_GENDER_FORMAT: %w", err)
	}
	pm, err := happytalk.ParseParameterMap(cfg.HappyTalkParameterMap)
	if err != nil {
		return nil, fmt.Errorf("HAPPYTALK_PARAMETER_MAP: %w", err)
	}
	return happytalk.New(happytalk.Config{
		BaseURL: cfg.HappyTalkBaseURL, Token: cfg.HappyTalkToken,
		GenderFormat: gf, ParameterMap: pm, Location: loc,
	}, vendorhttp.NewClient()), nil
}

func newAudit(cfg config.Config, ht *happytalk.Adapter, st *store.Store) (*audit.Service, error) {
	key := []byte(cfg.CursorSecret)
	if len(key) == 0 {
		// Cursors then hold for this process only; GATEWAY_CURSOR_SECRET shares them
		// across restarts and replicas.
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("cursor key: %w", err)
		}
	}
	var sources []audit.Source
	if ht.Enabled() {
		sources = append(sources, audit.Source{Reader: ht, Location: ht.Location(), DayWindows: true})
	}
	if st != nil {
		sources = append(sources, audit.Source{Reader: st, Location: time.UTC})
	}
	acfg := audit.DefaultConfig()
	acfg.MaxDays, acfg.Concurrency, acfg.CursorKey = cfg.AuditMaxDays, cfg.AuditFetches, key
	return audit.New(acfg, sources...), nil
}

func vendorNames(vs []model.Vendor) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}
