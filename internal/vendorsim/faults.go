package vendorsim

import (
	"fmt"
	"net/http"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// FaultMode says what a failing request gets.
type FaultMode string

// The fault modes.
const (
	// ModeHTTP500 answers HTTP 500 with a plain-text body.
	ModeHTTP500 FaultMode = "http500"
	// ModeTimeout answers nothing until the client gives up, or 30 seconds pass (then 504).
	ModeTimeout FaultMode = "timeout"
	// ModeVendorError answers the vendor's own retryable error: EngageLab code -1 (HTTP
	// 200), HappyTalk and LadiFlow HTTP 503.
	ModeVendorError FaultMode = "vendor_error"
	// ModeReject answers the vendor's own non-retryable refusal: HappyTalk result fail with
	// HappyTalkCodeInvalidValue, LadiFlow HTTP 400, EngageLab code 55004.
	ModeReject FaultMode = "reject"
	// ModeDrop hijacks the connection and closes it without an answer.
	ModeDrop FaultMode = "drop"
)

// Valid reports whether m is one of the fault modes.
func (m FaultMode) Valid() bool {
	switch m {
	case ModeHTTP500, ModeTimeout, ModeVendorError, ModeReject, ModeDrop:
		return true
	}
	return false
}

// timeoutHang is how long ModeTimeout holds a request whose client never gives up.
const timeoutHang = 30 * time.Second

// Fault is what one vendor does wrong until it is cleared.
type Fault struct {
	// Latency is added before every answer of the vendor, failing or not; the wait ends
	// early when the client gives up.
	Latency time.Duration
	// Mode is what a failing request gets.
	Mode FaultMode
	// Count is how many of the next requests fail: -1 every request until cleared, 0 none
	// (only Latency applies).
	Count int
}

// SetFault sets vendor v's fault, replacing the one it had. The zero Fault clears it.
func (s *Sim) SetFault(v model.Vendor, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == (Fault{}) {
		delete(s.faults, v)
		return
	}
	s.faults[v] = &f
}

// Faults returns the faults in force, with the number of failures each has left.
func (s *Sim) Faults() map[model.Vendor]Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[model.Vendor]Fault, len(s.faults))
	for v, f := range s.faults {
		out[v] = *f
	}
	return out
}

// ClearFaults clears every vendor's fault.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[model.Vendor]*Fault{}
}

// takeFault returns v's fault and whether this request is one of those that fail; a
// failing request uses up one of the fault's Count.
func (s *Sim) takeFault(v model.Vendor) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.faults[v]
	if !ok {
		return Fault{}, false
	}
	got := *f
	switch {
	case f.Count == 0 || !f.Mode.Valid():
		return got, false
	case f.Count > 0:
		f.Count--
	}
	return got, true
}

// sleep waits d, or less when the client gives up; it reports whether the request is
// still wanted.
func sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return r.Context().Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// fail answers a request that an injected fault makes fail.
func (s *Sim) fail(w http.ResponseWriter, r *http.Request, v model.Vendor, m FaultMode, rec *Received) {
	switch m {
	case ModeDrop:
		drop(w)
	case ModeTimeout:
		if !sleep(r, timeoutHang) {
			return
		}
		s.setStatus(rec, http.StatusGatewayTimeout)
		http.Error(w, "Gateway Time-out", http.StatusGatewayTimeout)
	case ModeHTTP500:
		s.setStatus(rec, http.StatusInternalServerError)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
	case ModeVendorError:
		a := vendorError(v)
		s.setStatus(rec, a.status)
		writeAnswer(w, a)
	case ModeReject:
		a := rejection(v)
		s.setStatus(rec, a.status)
		writeAnswer(w, a)
	}
}

// writeAnswer writes a JSON answer, or plain text when the body is a string (what a load
// balancer in front of a vendor answers).
func writeAnswer(w http.ResponseWriter, a answer) {
	if text, ok := a.body.(string); ok {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(a.status)
		_, _ = fmt.Fprint(w, text)
		return
	}
	writeJSON(w, a.status, a.body)
}

// drop closes the connection without answering. When the connection cannot be hijacked
// (HTTP/2), aborting the handler resets the stream instead.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// vendorError is the vendor's own retryable error.
func vendorError(v model.Vendor) answer {
	switch v {
	case model.EngageLab:
		return elError(EngageLabCodeServerError, "internal server error")
	case model.LadiFlow:
		return lfError(http.StatusServiceUnavailable, "Service Unavailable")
	default:
		// HappyTalk's front answers an HTML page, not its JSON, when the service is down.
		return answer{http.StatusServiceUnavailable,
			"<html><head><title>503 Service Temporarily Unavailable</title></head><body>503 Service Temporarily Unavailable</body></html>"}
	}
}

// rejection is the vendor's own non-retryable refusal.
func rejection(v model.Vendor) answer {
	switch v {
	case model.EngageLab:
		return elError(EngageLabCodeInvalidParams, "invalid business parameters (injected fault)")
	case model.LadiFlow:
		return lfError(http.StatusBadRequest, "rejected (injected fault)")
	default:
		return htFail(HappyTalkCodeInvalidValue, "rejected (injected fault)")
	}
}
