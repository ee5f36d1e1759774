package api

import (
	"net/http"
	"sync/atomic"
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

func handleReadyz(rd *Readiness) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !rd.ready.Load() {
			writeJSON(w, r, http.StatusServiceUnavailable, map[string]string{"status": "not ready"})
			return
		}
		writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
	})
}
