package vendorsim

import (
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
	// ModeVendorError answers the vendor's own retryable error (its Vendor.VendorError).
	ModeVendorError FaultMode = "vendor_error"
	// ModeReject answers the vendor's own non-retryable refusal (its Vendor.Rejection).
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
func (s *Sim) fail(w http.ResponseWriter, r *http.Request, v Vendor, m FaultMode, rec *Received) {
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
		a := v.VendorError()
		s.setStatus(rec, a.Status)
		writeAnswer(w, a)
	case ModeReject:
		a := v.Rejection()
		s.setStatus(rec, a.Status)
		writeAnswer(w, a)
	}
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
