// Package retention purges in the background what the gateway keeps for a time only
// (DESIGN.md 7): Idempotency-Key replies after 24 hours, gateway events and delivered-field
// records after GATEWAY_EVENT_RETENTION, so the database does not grow without bound.
//
// Every process runs a purger; on PostgreSQL the store's purge takes a transaction-scoped
// advisory lock, so replicas never purge side by side, and one that finds the lock held
// leaves that round to the replica holding it. A purge that finds nothing old is a few
// index lookups, so replicas purging in turn cost nothing worth a leader.
package retention

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/store"
)

// Store purges what is older than keep at now (store.Store.Purge).
type Store interface {
	Purge(ctx context.Context, now time.Time, keep time.Duration) (store.Purged, error)
}

// Config is what the purger keeps and how often it looks.
type Config struct {
	// Keep is GATEWAY_EVENT_RETENTION: events and delivered-field records older than this
	// are purged.
	Keep time.Duration
	// Interval is the time between purges; 0: Interval(Keep).
	Interval time.Duration
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Interval is how often a purge runs for a retention of keep: a 24th of it, between a
// second and an hour, so nothing outlives its retention by more than a small part of it,
// nor an Idempotency-Key reply its 24 hours by more than an hour.
func Interval(keep time.Duration) time.Duration {
	return min(max(keep/24, time.Second), time.Hour)
}

// Purger purges now and then every interval, from Start until Stop.
type Purger struct {
	st   Store
	cfg  Config
	log  zerolog.Logger
	stop context.CancelFunc
	done chan struct{}
}

// New is a purger of st; Start starts it.
func New(st Store, cfg Config, log zerolog.Logger) *Purger {
	if cfg.Interval <= 0 {
		cfg.Interval = Interval(cfg.Keep)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Purger{st: st, cfg: cfg, log: log}
}

// Start purges at once, then every interval, in the background until Stop or ctx ends.
func (p *Purger) Start(ctx context.Context) {
	ctx, p.stop = context.WithCancel(ctx)
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		p.run(ctx)
	}()
}

// Stop ends the purges and returns once the one running, if any, has given up: its
// transaction rolls back, and the next purge does its work.
func (p *Purger) Stop() {
	if p.stop == nil {
		return
	}
	p.stop()
	<-p.done
}

func (p *Purger) run(ctx context.Context) {
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		p.Purge(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Purge runs one purge and logs what it deleted.
func (p *Purger) Purge(ctx context.Context) {
	purged, err := p.st.Purge(ctx, p.cfg.Now(), p.cfg.Keep)
	switch {
	case err != nil && ctx.Err() == nil:
		p.log.Error().Err(err).Msg("retention purge")
	case purged.Total() > 0:
		p.log.Info().Int64("idempotency_keys", purged.IdempotencyKeys).Int64("events", purged.Events).
			Int64("updates", purged.Updates).Int64("delivered_seqs", purged.DeliveredFields).
			Int64("customer_vendors", purged.CustomerVendors).Int64("ended_deliveries", purged.EndedDeliveries).
			Bool("busy", purged.Busy).Dur("retention", p.cfg.Keep).
			Msg("purged what is past its retention (Idempotency-Key replies: 24h; the rest: GATEWAY_EVENT_RETENTION)")
	}
}
