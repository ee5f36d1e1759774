// Package ladiflow simulates LadiFlow's customer API, written from its document
// vendor-docs/ladiflow-customer_update.vi.txt (customer/update), not from the gateway's
// adapter. It checks the Api-Key header, the required _id and email or phone, and each
// documented field's JSON type and values; it merges each update into the customer stored
// under its _id and answers the way the document's sample answer does. Mount it on a
// vendorsim.Sim, which records its requests and injects its faults.
package ladiflow

import (
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendorsim"
)

// Name is the vendor's name, under which the vendorsim.Sim records its requests and keys
// its faults.
const Name model.Vendor = "ladiflow"

// PathCustomerUpdate is LadiFlow's customer update path.
const PathCustomerUpdate = "/1.0/customer/update"

// SandboxAPIKey is the sandbox account's Api-Key: fixed and documented so a newcomer can run
// the gateway against the simulator with no vendor account.
const SandboxAPIKey = "sandbox-ladiflow-key"

// Config is the account the simulated LadiFlow serves.
type Config struct {
	// APIKey is the Api-Key the account accepts.
	APIKey string
	// Now is the clock of the answers' created_at and updated_at (default time.Now); tests
	// fix it.
	Now func() time.Time
}

// SandboxConfig returns the sandbox account: SandboxAPIKey.
func SandboxConfig() Config { return Config{APIKey: SandboxAPIKey} }

// SandboxEnv returns the gateway environment that points its LadiFlow adapter at a
// simulator served at baseURL with the sandbox account.
func SandboxEnv(baseURL string) map[string]string {
	return map[string]string{"LADIFLOW_BASE_URL": baseURL, "LADIFLOW_API_KEY": SandboxAPIKey}
}

// Sim is the simulated LadiFlow, a vendorsim.Vendor. It is safe for concurrent use.
type Sim struct {
	cfg Config

	mu        sync.Mutex
	customers map[string]map[string]any
}

var _ vendorsim.Vendor = (*Sim)(nil)

// New returns a simulated LadiFlow serving cfg's account.
func New(cfg Config) *Sim {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sim{cfg: cfg, customers: map[string]map[string]any{}}
}

// Sandbox returns a simulated LadiFlow serving the sandbox account (SandboxConfig).
func Sandbox() *Sim { return New(SandboxConfig()) }

// Name returns Name.
func (s *Sim) Name() model.Vendor { return Name }

// Routes returns customer/update.
func (s *Sim) Routes() []vendorsim.Route {
	return []vendorsim.Route{{Path: PathCustomerUpdate, Handle: s.customerUpdate}}
}

// BadBody is LadiFlow's answer to a body it cannot read: HTTP 400 with code 400.
func (s *Sim) BadBody(msg string) vendorsim.Answer { return errorAnswer(http.StatusBadRequest, msg) }

// VendorError is HTTP 503 with code 503.
func (s *Sim) VendorError() vendorsim.Answer {
	return errorAnswer(http.StatusServiceUnavailable, "Service Unavailable")
}

// Rejection is HTTP 400 with code 400.
func (s *Sim) Rejection() vendorsim.Answer {
	return errorAnswer(http.StatusBadRequest, "rejected (injected fault)")
}

// Reset forgets the stored customers.
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.customers = map[string]map[string]any{}
}

// Customer returns a copy of what LadiFlow stored under _id (the fields as sent, numbers
// as json.Number, later updates merged over earlier ones), and whether it knows it.
func (s *Sim) Customer(id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.customers[id]
	if !ok {
		return nil, false
	}
	out := maps.Clone(stored)
	delete(out, "__created_at")
	return out, true
}
