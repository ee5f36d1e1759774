package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/api"
	"github.com/customergateway/gateway/internal/audit"
	"github.com/customergateway/gateway/internal/config"
	"github.com/customergateway/gateway/internal/delivery"
	"github.com/customergateway/gateway/internal/fanout"
	"github.com/customergateway/gateway/internal/metrics"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/queue"
	"github.com/customergateway/gateway/internal/retention"
	"github.com/customergateway/gateway/internal/store"
	"github.com/customergateway/gateway/internal/vendors"
	"github.com/customergateway/gateway/internal/webhook"
)

// wired is the gateway built from its configuration: what the HTTP surface needs, and what
// serve starts and stops.
type wired struct {
	deps    api.Deps
	fanout  *fanout.Fanout
	store   *store.Store      // nil without a store
	queue   *queue.Queue      // nil without a store
	purger  *retention.Purger // nil without a store
	updates *delivery.Service
}

// wire builds every concrete piece from the configuration and the registered vendors, once.
func wire(ctx context.Context, cfg config.Config, getenv func(string) string, logger zerolog.Logger, contract *api.Contract) (wired, error) {
	if !model.KnownRegion(cfg.DefaultRegion) {
		return wired{}, fmt.Errorf("GATEWAY_DEFAULT_REGION: %q is not an ISO 3166-1 region with phone numbers", cfg.DefaultRegion)
	}
	vs, err := buildVendors(getenv)
	if err != nil {
		return wired{}, err
	}
	if err := needVendor(vs); err != nil {
		return wired{}, err
	}
	qcfg, err := queueConfig(cfg, getenv)
	if err != nil {
		return wired{}, err
	}
	m := metrics.New()
	qcfg.ObserveWebhook = observeWebhooks(m)
	f := fanout.New(policy(cfg), m.ObserveDelivery, vs...)
	st, err := openStore(ctx, cfg, logger, store.WithTxObserver(m.ObserveStoreTx))
	if err != nil {
		return wired{}, err
	}
	w := wired{fanout: f, store: st}
	dcfg := delivery.Config{Fanout: f, Region: cfg.DefaultRegion, Deadline: cfg.RequestTimeout}
	if st != nil {
		if w.queue, err = queue.New(st, qcfg, logger); err != nil {
			return wired{}, errors.Join(err, st.Close())
		}
		dcfg.Store, dcfg.Queue = st, w.queue
		w.purger = retention.New(st, retention.Config{Keep: cfg.EventRetention}, logger)
	}
	watch(m, f, st)
	w.updates = delivery.New(dcfg)
	auditSvc, err := newAudit(cfg, vs, st)
	if err != nil {
		return wired{}, errors.Join(err, closeStore(st))
	}
	w.deps = api.Deps{
		Logger:        logger,
		Contract:      contract,
		Document:      document,
		Updates:       w.updates,
		Audit:         auditSvc,
		Metrics:       m,
		Readiness:     &api.Readiness{},
		AuditTimeout:  cfg.RequestTimeout,
		DefaultRegion: cfg.DefaultRegion,
		MaxBodyBytes:  cfg.MaxBodyBytes,
	}
	if st != nil {
		// Only a store that is there: an interface holding a nil *store.Store is not nil.
		w.deps.Replies, w.deps.Ping = st, st.Ping
		w.deps.Follow, w.deps.Deliveries = st, w.queue
	}
	return w, nil
}

// buildVendors builds every registered vendor's adapter from the environment.
func buildVendors(getenv func(string) string) ([]vendors.Vendor, error) {
	vs := make([]vendors.Vendor, 0, len(registered))
	for _, p := range registered {
		v, err := p.fromEnv(getenv)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, nil
}

func policy(cfg config.Config) fanout.Policy {
	return fanout.Policy{
		AttemptTimeout:  cfg.VendorTimeout,
		Attempts:        cfg.RetryAttempts,
		Backoff:         cfg.RetryBackoff,
		BreakerFailures: cfg.BreakerFailures,
		BreakerCooldown: cfg.BreakerCooldown,
	}
}

// openStore opens GATEWAY_DATABASE_URL, or answers nil when it is "none".
func openStore(ctx context.Context, cfg config.Config, logger zerolog.Logger, opts ...store.Option) (*store.Store, error) {
	if cfg.DatabaseURL == config.NoDatabase {
		logger.Warn().Msg("GATEWAY_DATABASE_URL=none: nothing is remembered and failed deliveries are not queued")
		return nil, nil
	}
	// A request renews its Idempotency-Key claim every third of the lease while it runs, so
	// the claim of a process that died is free again within one lease. The lease still
	// covers one request deadline: a process cut off from the store, whose renewals fail,
	// has its vendor calls ended by that deadline before another request can take its key
	// over and send. The 2 s cover the store read before the deliveries and the replicas'
	// clocks.
	lease := max(store.DefaultInFlightLease, cfg.RequestTimeout+2*time.Second)
	st, err := store.Open(ctx, cfg.DatabaseURL, append(opts, store.WithInFlightLease(lease))...)
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

// queueConfig is the queue's configuration, webhooks included when GATEWAY_WEBHOOK_URL is set.
func queueConfig(cfg config.Config, getenv func(string) string) (queue.Config, error) {
	qcfg := queue.Config{
		MaxAge:            cfg.QueueMaxAge,
		Backoff:           cfg.QueueBackoff,
		MaxBackoff:        cfg.QueueMaxBackoff,
		Workers:           cfg.QueueWorkers,
		PollInterval:      cfg.QueuePoll,
		SendTimeout:       cfg.RequestTimeout,
		DeliveryRetention: cfg.DeliveryRetention,
	}
	env, err := webhook.FromEnv(getenv)
	if err != nil || !env.Enabled() {
		return qcfg, err
	}
	sender, err := webhook.New(env, nil)
	if err != nil {
		return qcfg, err
	}
	qcfg.Webhook, qcfg.Payload = sender, webhook.CompletedPayload
	return qcfg, nil
}

// newAudit reads the audit trail of every enabled vendor that keeps one, each read bounded
// by the vendor timeout, and the gateway's own events when there is a store.
func newAudit(cfg config.Config, vs []vendors.Vendor, st *store.Store) (*audit.Service, error) {
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
	for _, v := range vs {
		if trail, ok := v.(vendors.AuditTrail); ok && v.Enabled() {
			sources = append(sources, audit.Source{Reader: trail, Location: trail.Location(), DayWindows: trail.DayWindows(), Timeout: cfg.VendorTimeout})
		}
	}
	if st != nil {
		sources = append(sources, audit.Source{Reader: st, Location: time.UTC, Retention: cfg.EventRetention})
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
