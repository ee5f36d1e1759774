// Package vendorsim is a faithful simulator of the three vendor APIs behind the gateway
// (HappyTalk, LadiFlow, EngageLab), written from the vendors' own documents. One handler
// serves every vendor path, so one base URL stands in for all three vendors. It checks
// credentials and field rules strictly, keeps what each vendor stored, serves
// deterministic HappyTalk service history, injects latency and faults per vendor, and
// records every request it received.
//
// Tests, the gateway's --sandbox mode, docker-compose and the benchmarks all use it.
package vendorsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/customergateway/gateway/internal/model"
)

// The HappyTalk gender formats an account may be configured with.
const (
	// GenderCode means the account takes M and F (HappyTalk's data dictionary).
	GenderCode = "code"
	// GenderKorean means the account takes 남 and 여 (HappyTalk's production sample).
	GenderKorean = "korean"
)

// The sandbox credentials: fixed and documented so a newcomer can run the gateway against
// the simulator with no vendor account.
const (
	SandboxHappyTalkToken     = "sandbox-happytalk-token"
	SandboxLadiFlowAPIKey     = "sandbox-ladiflow-key"
	SandboxEngageLabAPIKey    = "sandbox-engagelab-key"
	SandboxEngageLabAPISecret = "sandbox-engagelab-secret"
)

// maxBodyBytes bounds what the simulator reads of a request body.
const maxBodyBytes = 4 << 20

// Config holds the credentials each simulated vendor accepts and the account settings that
// change how HappyTalk reads values.
type Config struct {
	HappyTalkToken     string
	LadiFlowAPIKey     string
	EngageLabAPIKey    string
	EngageLabAPISecret string
	// HappyTalkGenderFormat is GenderCode (M/F, the default when empty) or GenderKorean (남/여).
	HappyTalkGenderFormat string
	// HappyTalkTimezone is the account's zone for service_history dates (default Asia/Seoul).
	HappyTalkTimezone *time.Location
	// Now is the clock (default time.Now); tests fix it.
	Now func() time.Time
}

// SandboxConfig returns the configuration with the fixed sandbox credentials, the M/F
// gender format and the Asia/Seoul zone.
func SandboxConfig() Config {
	return Config{
		HappyTalkToken:        SandboxHappyTalkToken,
		LadiFlowAPIKey:        SandboxLadiFlowAPIKey,
		EngageLabAPIKey:       SandboxEngageLabAPIKey,
		EngageLabAPISecret:    SandboxEngageLabAPISecret,
		HappyTalkGenderFormat: GenderCode,
	}
}

// Validate reports a configuration New cannot use.
func (c Config) Validate() error {
	switch c.HappyTalkGenderFormat {
	case "", GenderCode, GenderKorean:
		return nil
	}
	return fmt.Errorf("vendorsim: HappyTalk gender format %q: want %q (M/F) or %q (남/여)",
		c.HappyTalkGenderFormat, GenderCode, GenderKorean)
}

// withDefaults fills the zero values of c.
func (c Config) withDefaults() (Config, error) {
	if err := c.Validate(); err != nil {
		return c, err
	}
	if c.HappyTalkGenderFormat == "" {
		c.HappyTalkGenderFormat = GenderCode
	}
	if c.HappyTalkTimezone == nil {
		loc, err := time.LoadLocation("Asia/Seoul")
		if err != nil {
			return c, fmt.Errorf("vendorsim: load Asia/Seoul (import time/tzdata): %w", err)
		}
		c.HappyTalkTimezone = loc
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
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

// Sim is the simulator: an http.Handler serving every vendor path and the /_sim/ control
// API. It is safe for concurrent use.
type Sim struct {
	cfg    Config
	router http.Handler

	mu        sync.Mutex
	faults    map[model.Vendor]*Fault
	received  map[model.Vendor][]*Received
	htUsers   map[string]map[string]string
	htEvents  []HistoryEvent
	lfUsers   map[string]map[string]any
	elContact map[int64]map[string]string
	elEUIDs   map[string]int64
	elNext    int64
}

// firstEUID is the first EUID register hands out.
const firstEUID = 10000000

// New returns a simulator accepting cfg's credentials. It panics when cfg.Validate fails or
// the default zone cannot be loaded: both are programming errors, not run-time conditions.
func New(cfg Config) *Sim {
	cfg, err := cfg.withDefaults()
	if err != nil {
		panic(err)
	}
	s := &Sim{cfg: cfg}
	s.resetLocked()
	s.router = s.routes()
	return s
}

// ServeHTTP serves the vendor paths and the control API.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// routes lists every path the simulator serves.
func (s *Sim) routes() http.Handler {
	r := chi.NewRouter()
	r.Post(pathHTSetUserInfo, s.vendorEndpoint(model.HappyTalk, s.happyTalkSetUserInfo))
	r.Post(pathHTServiceHistory, s.vendorEndpoint(model.HappyTalk, s.happyTalkServiceHistory))
	r.Post(pathLFCustomerUpdate, s.vendorEndpoint(model.LadiFlow, s.ladiFlowUpdate))
	r.Post(pathELContact, s.vendorEndpoint(model.EngageLab, s.engageLabContact))
	r.Post(pathELRegister, s.vendorEndpoint(model.EngageLab, s.engageLabRegister))
	r.Route("/_sim", s.controlRoutes)
	return r
}

// answer is what a vendor endpoint replies: an HTTP status and a JSON body.
type answer struct {
	status int
	body   any
}

// vendorEndpoint wraps a vendor's handler with what every vendor path shares: reading the
// body, recording the request, latency and fault injection.
func (s *Sim) vendorEndpoint(v model.Vendor, h func(r *http.Request, body []byte) answer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		rec := s.record(v, r, body)
		f, failing := s.takeFault(v)
		if !sleep(r, f.Latency) {
			return
		}
		if failing {
			s.fail(w, r, v, f.Mode, rec)
			return
		}
		var a answer
		if readErr != nil {
			a = badBody(v, "the body could not be read")
		} else {
			a = h(r, body)
		}
		s.setStatus(rec, a.status)
		writeJSON(w, a.status, a.body)
	}
}

// record appends r to v's received requests and returns the entry, so its status can be
// filled in once the answer is known.
func (s *Sim) record(v model.Vendor, r *http.Request, body []byte) *Received {
	rec := &Received{Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec.At = s.cfg.Now()
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

// Reset forgets received requests, everything the vendors stored (HappyTalk users and
// added history events, LadiFlow customers, EngageLab contacts and EUIDs) and faults.
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

func (s *Sim) resetLocked() {
	s.faults = map[model.Vendor]*Fault{}
	s.received = map[model.Vendor][]*Received{}
	s.htUsers = map[string]map[string]string{}
	s.htEvents = nil
	s.lfUsers = map[string]map[string]any{}
	s.elContact = map[int64]map[string]string{}
	s.elEUIDs = map[string]int64{}
	s.elNext = firstEUID
}

// badBody is each vendor's own answer to a body it cannot read as a JSON object.
func badBody(v model.Vendor, msg string) answer {
	switch v {
	case model.HappyTalk:
		return htFail(HappyTalkCodeBadRequest, msg)
	case model.LadiFlow:
		return lfError(http.StatusBadRequest, msg)
	default:
		return elError(EngageLabCodeInvalidParams, msg)
	}
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

// decodeObject reads body as one JSON object, keeping each value raw so its JSON type can
// be checked field by field.
func decodeObject(body []byte) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

// jsonKind names the JSON type of a raw value: string, number, bool, null, object, array.
func jsonKind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "missing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// rawString returns raw as a Go string when it is a JSON string.
func rawString(raw json.RawMessage) (string, bool) {
	if jsonKind(raw) != "string" {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}
