package main

import (
	"context"
	"crypto/rand"
	"errors"
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
	"github.com/customergateway/gateway/internal/queue"
	"github.com/customergateway/gateway/internal/store"
)

// wired is the gateway built from its configuration: what the HTTP surface needs, and the
// delivery queue serve starts and stops (nil without a store).
type wired struct {
	deps  api.Deps
	queue *queue.Queue
}

// wire builds every concrete piece from the configuration, once.
func wire(ctx context.Context, cfg config.Config, logger zerolog.Logger, contract *api.Contract) (wired, error) {
	if !model.KnownRegion(cfg.DefaultRegion) {
		return wired{}, fmt.Errorf("GATEWAY_DEFAULT_REGION: %q is not an ISO 3166-1 region with phone numbers", cfg.DefaultRegion)
	}
	ht, err := newHappyTalk(cfg)
	if err != nil {
		return wired{}, err
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
	f := fanout.New(policy, m.ObserveDelivery, ht, lf, el)
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return wired{}, err
	}
	auditSvc, err := newAudit(cfg, ht, st)
	if err != nil {
		return wired{}, errors.Join(err, closeStore(st))
	}
	w := wired{deps: api.Deps{
		Logger:         logger,
		Contract:       contract,
		Document:       openapi.Document,
		Fanout:         f,
		Audit:          auditSvc,
		Store:          st,
		EUIDs:          el,
		Metrics:        m,
		Readiness:      &api.Readiness{},
		DefaultRegion:  cfg.DefaultRegion,
		RequestTimeout: cfg.RequestTimeout,
		MaxBodyBytes:   cfg.MaxBodyBytes,
	}}
	if st != nil {
		if w.queue, err = queue.New(st, f, el, queueConfig(cfg), logger); err != nil {
			return wired{}, errors.Join(err, st.Close())
		}
		w.deps.Queue = w.queue
		m.WatchQueue(st.CountPending)
	}
	return w, nil
}

// openStore opens GATEWAY_DATABASE_URL, or answers nil when it is "none".
func openStore(ctx context.Context, cfg config.Config, logger zerolog.Logger) (*store.Store, error) {
	if cfg.DatabaseURL == config.NoDatabase {
		logger.Warn().Msg("GATEWAY_DATABASE_URL=none: nothing is remembered and failed deliveries are not queued")
		return nil, nil
	}
	// An Idempotency-Key claim must outlive the slowest request, or a retry would take
	// over a key still being answered and send twice.
	lease := max(store.DefaultInFlightLease, 2*cfg.RequestTimeout+time.Minute)
	st, err := store.Open(ctx, cfg.DatabaseURL, store.WithInFlightLease(lease))
	if err != nil {
		return nil, fmt.Errorf("GATEWAY_DATABASE_URL: %w", err)
	}
	logger.Info().Str("engine", st.Engine()).Msg("store open, migrations applied")
	return st, nil
}

func closeStore(st *store.Store) error {
	if st == nil {
		return nil
	}
	return st.Close()
}

func queueConfig(cfg config.Config) queue.Config {
	return queue.Config{
		MaxAge:       cfg.QueueMaxAge,
		Backoff:      cfg.QueueBackoff,
		MaxBackoff:   cfg.QueueMaxBackoff,
		Workers:      cfg.QueueWorkers,
		PollInterval: cfg.QueuePoll,
		SendTimeout:  cfg.RequestTimeout,
		Region:       cfg.DefaultRegion,
	}
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
