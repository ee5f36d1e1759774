package vendorsim

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/customergateway/gateway/internal/model"
)

// The control API lets the standalone binary and docker-compose do over HTTP what tests do
// with SetFault, ClearFaults, Received and Reset. It has no authentication and shows the
// credentials the vendors received: never expose it beyond a test network.
func (s *Sim) controlRoutes(r chi.Router) {
	r.Get("/healthz", handleHealthz)
	r.Get("/faults", s.handleGetFaults)
	r.Put("/faults/{vendor}", s.handlePutFault)
	r.Delete("/faults", s.handleClearFaults)
	r.Get("/requests/{vendor}", s.handleGetRequests)
	r.Delete("/requests", s.handleClearRequests)
	r.Post("/reset", s.handleReset)
}

// FaultJSON is a fault as the control API reads and writes it:
// {"latency":"200ms","mode":"http500","count":3}. A mode without a count fails every
// request until cleared (count -1).
type FaultJSON struct {
	Latency string    `json:"latency,omitempty"`
	Mode    FaultMode `json:"mode,omitempty"`
	Count   *int      `json:"count,omitempty"`
}

// ReceivedJSON is a received request as the control API lists it. Body is the raw JSON the
// vendor received, or a JSON string when the body was not JSON.
type ReceivedJSON struct {
	Path   string          `json:"path"`
	Header http.Header     `json:"header"`
	Body   json.RawMessage `json:"body"`
	At     time.Time       `json:"at"`
	Status int             `json:"status"`
}

func handleHealthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func controlError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// vendorParam reads the {vendor} path parameter, answering 404 for a vendor not mounted.
func (s *Sim) vendorParam(w http.ResponseWriter, r *http.Request) (model.Vendor, bool) {
	v := model.Vendor(chi.URLParam(r, "vendor"))
	if _, ok := s.byName[v]; !ok {
		controlError(w, http.StatusNotFound, "unknown vendor "+string(v)+": want "+s.vendorList())
		return "", false
	}
	return v, true
}

// vendorList names the mounted vendors for a message: "a", "a or b", "a, b or c".
func (s *Sim) vendorList() string {
	names := make([]string, len(s.vendors))
	for i, v := range s.vendors {
		names[i] = string(v.Name())
	}
	switch len(names) {
	case 0:
		return "no vendor (none is mounted)"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func (s *Sim) handlePutFault(w http.ResponseWriter, r *http.Request) {
	v, ok := s.vendorParam(w, r)
	if !ok {
		return
	}
	var in FaultJSON
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		controlError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	f, err := in.fault()
	if err != nil {
		controlError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.SetFault(v, f)
	writeJSON(w, http.StatusOK, faultJSON(f))
}

// faultError is a control API input error.
type faultError string

func (e faultError) Error() string { return string(e) }

// fault turns the JSON form into a Fault.
func (in FaultJSON) fault() (Fault, error) {
	var f Fault
	if in.Latency != "" {
		d, err := time.ParseDuration(in.Latency)
		if err != nil || d < 0 {
			return f, faultError("latency must be a duration such as 200ms")
		}
		f.Latency = d
	}
	if in.Mode != "" && !in.Mode.Valid() {
		return f, faultError("mode must be http500, timeout, vendor_error, reject or drop")
	}
	f.Mode = in.Mode
	switch {
	case in.Count != nil && *in.Count < -1:
		return f, faultError("count must be -1 (every request), 0 (none) or a positive number")
	case in.Count != nil:
		f.Count = *in.Count
	case in.Mode != "":
		f.Count = -1
	}
	return f, nil
}

func faultJSON(f Fault) FaultJSON {
	out := FaultJSON{Mode: f.Mode, Count: &f.Count}
	if f.Latency > 0 {
		out.Latency = f.Latency.String()
	}
	return out
}

func (s *Sim) handleGetFaults(w http.ResponseWriter, _ *http.Request) {
	out := map[model.Vendor]FaultJSON{}
	for v, f := range s.Faults() {
		out[v] = faultJSON(f)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Sim) handleClearFaults(w http.ResponseWriter, _ *http.Request) {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sim) handleGetRequests(w http.ResponseWriter, r *http.Request) {
	v, ok := s.vendorParam(w, r)
	if !ok {
		return
	}
	recs := s.Received(v)
	out := make([]ReceivedJSON, len(recs))
	for i, rec := range recs {
		out[i] = ReceivedJSON{Path: rec.Path, Header: rec.Header, Body: rawBody(rec.Body), At: rec.At, Status: rec.Status}
	}
	writeJSON(w, http.StatusOK, out)
}

// rawBody keeps a JSON body as it is and turns anything else into a JSON string.
func rawBody(b []byte) json.RawMessage {
	if json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(string(b))
	return s
}

func (s *Sim) handleClearRequests(w http.ResponseWriter, _ *http.Request) {
	s.ClearReceived()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sim) handleReset(w http.ResponseWriter, _ *http.Request) {
	s.Reset()
	w.WriteHeader(http.StatusNoContent)
}
