package api

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Readiness is flipped on when the gateway is wired and off when it starts to shut down, so
// a load balancer stops sending before connections are drained.
type Readiness struct{ ready atomic.Bool }

// Set marks the gateway ready or not.
func (rd *Readiness) Set(ready bool) { rd.ready.Store(ready) }

func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// handleReadyz answers 503 while starting or draining, and while the store (when there is
// one) does not answer a ping: a replica that cannot remember should not take updates.
func handleReadyz(rd *Readiness, ping func(context.Context) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !rd.ready.Load() {
			writeJSON(w, r, http.StatusServiceUnavailable, map[string]string{"status": "not ready"})
			return
		}
		if ping != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := ping(ctx); err != nil {
				zerolog.Ctx(r.Context()).Warn().Err(err).Msg("store ping")
				writeJSON(w, r, http.StatusServiceUnavailable, map[string]string{"status": "store unavailable"})
				return
			}
		}
		writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
	})
}
