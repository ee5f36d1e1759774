// Package engagelab simulates EngageLab MA's user API, written from its document
// vendor-docs/engagelab-user_contact.fr.txt (/v1/user/contact) and, for /v1/user/register
// (the EUID of a user id), from the summary in section 1 of the design document; not from
// the gateway's adapter. It checks the HTTP Basic credentials, the euid (a positive 64-bit
// integer), the contacts and the identities, and answers every error with HTTP 200 and the
// document's code; it keeps each euid's contacts and hands out stable EUIDs. Mount it on a
// vendorsim.Sim, which records its requests and injects its faults.
package engagelab

import (
	"maps"
	"sync"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendorsim"
)

// Name is the vendor's name, under which the vendorsim.Sim records its requests and keys
// its faults.
const Name model.Vendor = "engagelab"

// The EngageLab paths.
const (
	PathContact  = "/v1/user/contact"
	PathRegister = "/v1/user/register"
)

// The sandbox account's credentials: fixed and documented so a newcomer can run the
// gateway against the simulator with no vendor account.
const (
	SandboxAPIKey    = "sandbox-engagelab-key"
	SandboxAPISecret = "sandbox-engagelab-secret"
)

// EngageLab's error codes, from its document. The simulator answers every one of them with
// HTTP 200 and {"code":N,"message":"..."}: only the body's code tells success from failure.
const (
	// CodeOK is success.
	CodeOK = 0
	// CodeServerError is the retryable internal error (vendorsim.ModeVendorError).
	CodeServerError = -1
	// CodeAuthFailed: missing or wrong HTTP Basic credentials.
	CodeAuthFailed = 40050
	// CodeEUIDEmpty: euid missing, null or 0.
	CodeEUIDEmpty = 40007
	// CodeInvalidParams: a body that is not a JSON object, an unknown field, a euid that is
	// not a JSON integer, contacts that are not a non-empty object of strings,
	// identity_values that are not a non-empty list of strings; also the answer of
	// vendorsim.ModeReject.
	CodeInvalidParams = 55004
	// CodeTooManyIdentities: more than 100 identity values.
	CodeTooManyIdentities = 55101
	// CodeInvalidAttributeName: a contact name that is empty, longer than 64 characters or
	// not made of A-Z, a-z, 0-9 and _.
	CodeInvalidAttributeName = 55102
	// CodeEmptyAttributeValue: a contact value that is an empty string.
	CodeEmptyAttributeValue = 55103
	// CodeIdentityTooLong: an identity value longer than 256 characters.
	CodeIdentityTooLong = 55105
	// CodeUnsupportedIdentity: identity_name not user_id, anonymous_id or registration_id.
	CodeUnsupportedIdentity = 55106
	// CodeEmptyIdentity: an identity value that is an empty string.
	CodeEmptyIdentity = 55107
	// CodeInvalidEUID: a negative euid, or one beyond 64 bits.
	CodeInvalidEUID = 55108
)

// firstEUID is the first EUID register hands out.
const firstEUID = 10000000

// Config is the account the simulated EngageLab serves.
type Config struct {
	// APIKey and APISecret are the HTTP Basic credentials the account accepts.
	APIKey    string
	APISecret string
}

// SandboxConfig returns the sandbox account: SandboxAPIKey and SandboxAPISecret.
func SandboxConfig() Config { return Config{APIKey: SandboxAPIKey, APISecret: SandboxAPISecret} }

// SandboxEnv returns the gateway environment that points its EngageLab adapter at a
// simulator served at baseURL with the sandbox account.
func SandboxEnv(baseURL string) map[string]string {
	return map[string]string{
		"ENGAGELAB_BASE_URL":   baseURL,
		"ENGAGELAB_API_KEY":    SandboxAPIKey,
		"ENGAGELAB_API_SECRET": SandboxAPISecret,
	}
}

// Sim is the simulated EngageLab, a vendorsim.Vendor. It is safe for concurrent use.
type Sim struct {
	cfg Config

	mu       sync.Mutex
	contacts map[int64]map[string]string
	euids    map[string]int64 // by identity name NUL identity value
	next     int64
}

var _ vendorsim.Vendor = (*Sim)(nil)

// New returns a simulated EngageLab serving cfg's account.
func New(cfg Config) *Sim {
	s := &Sim{cfg: cfg}
	s.Reset()
	return s
}

// Sandbox returns a simulated EngageLab serving the sandbox account (SandboxConfig).
func Sandbox() *Sim { return New(SandboxConfig()) }

// Name returns Name.
func (s *Sim) Name() model.Vendor { return Name }

// Routes returns /v1/user/contact and /v1/user/register.
func (s *Sim) Routes() []vendorsim.Route {
	return []vendorsim.Route{
		{Path: PathContact, Handle: s.setContact},
		{Path: PathRegister, Handle: s.register},
	}
}

// BadBody is EngageLab's answer to a body it cannot read: code CodeInvalidParams.
func (s *Sim) BadBody(msg string) vendorsim.Answer { return errorAnswer(CodeInvalidParams, msg) }

// VendorError is code CodeServerError (HTTP 200).
func (s *Sim) VendorError() vendorsim.Answer {
	return errorAnswer(CodeServerError, "internal server error")
}

// Rejection is code CodeInvalidParams (HTTP 200).
func (s *Sim) Rejection() vendorsim.Answer {
	return errorAnswer(CodeInvalidParams, "invalid business parameters (injected fault)")
}

// Reset forgets the stored contacts and the EUIDs handed out; the next EUID is the first
// again.
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.contacts = map[int64]map[string]string{}
	s.euids = map[string]int64{}
	s.next = firstEUID
}

// Contacts returns a copy of the contacts EngageLab stored for euid, and whether any were
// stored.
func (s *Sim) Contacts(euid int64) (map[string]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contacts[euid]
	return maps.Clone(c), ok
}

// EUID returns the EUID register gave an identity, and whether it gave one.
func (s *Sim) EUID(identityName, value string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.euids[identityName+"\x00"+value]
	return id, ok
}
