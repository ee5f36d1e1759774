// Package vendorsim simulates the vendor APIs behind the gateway, so that the tests, the
// gateway's --sandbox mode, docker-compose and the benchmarks run with no vendor account.
//
// A Sim is one http.Handler on which every simulated vendor mounts its paths, so one base
// URL stands in for all of them. Each vendor is a Vendor written from that vendor's own
// document, in a package of its own beneath this one: its paths, credentials, field rules,
// error codes and stored state are its business. Around every vendor path the Sim reads
// the body within a size bound, records the request, and injects latency and faults per
// vendor; under /_sim/ it serves a control API that does the same over HTTP. It knows no
// vendor by name: the vendors are the ones New is given.
package vendorsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/customergateway/gateway/internal/model"
)

// maxBodyBytes bounds what the simulator reads of a request body.
const maxBodyBytes = 4 << 20

// controlPrefix is where the control API lives; no vendor path may lie under it.
const controlPrefix = "/_sim"

// Vendor is one simulated vendor mounted on a Sim. Its methods may be called concurrently.
type Vendor interface {
	// Name is the vendor's name as the gateway spells it ("vendors", the keys of
	// "results"). It keys the vendor's faults and received requests, and is the {vendor}
	// of the control API.
	Name() model.Vendor
	// Routes lists the vendor's POST paths and their handlers.
	Routes() []Route
	// BadBody is the vendor's own answer to a body that could not be read (too large, or
	// cut off); msg says why.
	BadBody(msg string) Answer
	// VendorError is the vendor's own retryable error, the answer of ModeVendorError.
	VendorError() Answer
	// Rejection is the vendor's own non-retryable refusal, the answer of ModeReject.
	Rejection() Answer
	// Reset forgets everything the vendor stored.
	Reset()
}

// Route is one POST path of a vendor. Path is matched exactly. Handle gets the request
// and its whole body; the Sim has already recorded the request and applied the vendor's
// fault, and writes the answer Handle returns.
type Route struct {
	Path   string
	Handle func(r *http.Request, body []byte) Answer
}

// Answer is what a vendor replies: an HTTP status and a body, written as JSON, or as it is
// as an HTML page when the body is a string (what a load balancer in front of a vendor
// answers).
type Answer struct {
	Status int
	Body   any
}

// Config holds the Sim's own settings; each vendor has its own configuration.
type Config struct {
	// Now is the clock that stamps received requests (default time.Now); tests fix it.
	Now func() time.Time
}

// Received is one request that reached a simulated vendor, whether it was answered,
// refused or failed by an injected fault.
type Received struct {
	Path   string
	Header http.Header
	Body   []byte
	At     time.Time
	// Status is the HTTP status answered; 0 when nothing was answered (the connection was
	// dropped, or the client gave up first).
	Status int
}

// Sim is the simulator: an http.Handler serving every mounted vendor's paths and the
// /_sim/ control API. It is safe for concurrent use.
type Sim struct {
	now     func() time.Time
	vendors []Vendor // in the order New was given them
	byName  map[model.Vendor]Vendor
	router  http.Handler

	mu       sync.Mutex
	faults   map[model.Vendor]*Fault
	received map[model.Vendor][]*Received
}

// New returns a simulator serving the routes of vendors and the control API. It panics
// when a vendor has no name or the name of another, or when a path is not absolute, is a
// pattern, lies under /_sim/ or is served twice: all programming errors, not run-time
// conditions.
func New(cfg Config, vendors ...Vendor) *Sim {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Sim{
		now:      cfg.Now,
		vendors:  vendors,
		byName:   make(map[model.Vendor]Vendor, len(vendors)),
		faults:   map[model.Vendor]*Fault{},
		received: map[model.Vendor][]*Received{},
	}
	r := chi.NewRouter()
	paths := map[string]model.Vendor{}
	for _, v := range vendors {
		name := v.Name()
		if name == "" || strings.ContainsAny(string(name), "/?#%") {
			panic(fmt.Sprintf("vendorsim: vendor name %q: want a non-empty name usable in a path", name))
		}
		if _, dup := s.byName[name]; dup {
			panic(fmt.Sprintf("vendorsim: vendor %s mounted twice", name))
		}
		s.byName[name] = v
		for _, rt := range v.Routes() {
			switch {
			case !strings.HasPrefix(rt.Path, "/") || strings.ContainsAny(rt.Path, "{}*"):
				panic(fmt.Sprintf("vendorsim: %s path %q: want an absolute path, not a pattern", name, rt.Path))
			case rt.Path == controlPrefix || strings.HasPrefix(rt.Path, controlPrefix+"/"):
				panic(fmt.Sprintf("vendorsim: %s path %q lies under the control API", name, rt.Path))
			case rt.Handle == nil:
				panic(fmt.Sprintf("vendorsim: %s path %q has no handler", name, rt.Path))
			}
			if other, dup := paths[rt.Path]; dup {
				panic(fmt.Sprintf("vendorsim: path %q served by both %s and %s", rt.Path, other, name))
			}
			paths[rt.Path] = name
			r.Post(rt.Path, s.vendorEndpoint(v, rt.Handle))
		}
	}
	r.Route(controlPrefix, s.controlRoutes)
	s.router = r
	return s
}

// ServeHTTP serves the vendor paths and the control API.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// vendorEndpoint wraps a vendor's handler with what every vendor path shares: reading the
// body, recording the request, latency and fault injection.
func (s *Sim) vendorEndpoint(v Vendor, h func(r *http.Request, body []byte) Answer) http.HandlerFunc {
	name := v.Name()
	return func(w http.ResponseWriter, r *http.Request) {
		body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		rec := s.record(name, r, body)
		f, failing := s.takeFault(name)
		if !sleep(r, f.Latency) {
			return
		}
		if failing {
			s.fail(w, r, v, f.Mode, rec)
			return
		}
		var a Answer
		if readErr != nil {
			a = v.BadBody("the body could not be read")
		} else {
			a = h(r, body)
		}
		s.setStatus(rec, a.Status)
		writeAnswer(w, a)
	}
}

// record appends r to v's received requests and returns the entry, so its status can be
// filled in once the answer is known.
func (s *Sim) record(v model.Vendor, r *http.Request, body []byte) *Received {
	rec := &Received{Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec.At = s.now()
	s.received[v] = append(s.received[v], rec)
	return rec
}

func (s *Sim) setStatus(rec *Received, status int) {
	s.mu.Lock()
	rec.Status = status
	s.mu.Unlock()
}

// Received returns copies of every request that reached vendor v, failed ones too, in the
// order they arrived.
func (s *Sim) Received(v model.Vendor) []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, 0, len(s.received[v]))
	for _, rec := range s.received[v] {
		c := *rec
		c.Header = rec.Header.Clone()
		c.Body = append([]byte(nil), rec.Body...)
		out = append(out, c)
	}
	return out
}

// ClearReceived forgets the received requests of every vendor and keeps the stored state.
func (s *Sim) ClearReceived() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received = map[model.Vendor][]*Received{}
}

// Reset forgets received requests and faults, and has every vendor forget what it stored.
func (s *Sim) Reset() {
	s.mu.Lock()
	s.faults = map[model.Vendor]*Fault{}
	s.received = map[model.Vendor][]*Received{}
	s.mu.Unlock()
	for _, v := range s.vendors {
		v.Reset()
	}
}

// writeAnswer writes a JSON answer, or an HTML page when the body is a string.
func writeAnswer(w http.ResponseWriter, a Answer) {
	if text, ok := a.Body.(string); ok {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(a.Status)
		_, _ = fmt.Fprint(w, text)
		return
	}
	writeJSON(w, a.Status, a.Body)
}

// writeJSON writes body as the JSON answer with the given status.
func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		http.Error(w, "vendorsim: encode answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
