// Package happytalk simulates HappyTalk's customer API, written from its documents
// vendor-docs/happytalk-set_user_info.ko.txt (set_user_info, which stores a user) and
// vendor-docs/happytalk-service_history.ko.txt (service_history, one day of events), not
// from the gateway's adapter. It checks the token in the body, the documented fields and
// their formats, keeps each user as HappyTalk stores it (parameters silently cut at their
// limits), and serves deterministic service history for any day. Mount it on a
// vendorsim.Sim, which records its requests and injects its faults.
package happytalk

import (
	"fmt"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendorsim"
)

// Name is the vendor's name, under which the vendorsim.Sim records its requests and keys
// its faults.
const Name model.Vendor = "happytalk"

// The HappyTalk paths.
const (
	PathSetUserInfo    = "/user/api/set_user_info/format/json"
	PathServiceHistory = "/user/api/service_history/format/json"
)

// The gender formats an account may be configured with.
const (
	// GenderCode means the account takes M and F (HappyTalk's data dictionary).
	GenderCode = "code"
	// GenderKorean means the account takes 남 and 여 (HappyTalk's production sample).
	GenderKorean = "korean"
)

// SandboxToken is the sandbox account's token: fixed and documented so a newcomer can run
// the gateway against the simulator with no vendor account.
const SandboxToken = "sandbox-happytalk-token"

// HappyTalk's documents list no fail codes, so the simulator defines these. Every fail is
// answered HTTP 200 with {"result":"fail","code":N,"message":"..."}; the message names the
// field at fault and never echoes the token.
const (
	// CodeBadRequest: the body is not a JSON object.
	CodeBadRequest = 1000
	// CodeInvalidToken: token missing, not a string, or not the account's token.
	CodeInvalidToken = 1001
	// CodeMissingField: a required field (uuid, room_id, start_date, end_date) is missing
	// or empty.
	CodeMissingField = 1002
	// CodeInvalidValue: a value is not a JSON string or breaks its format (phone, sex,
	// birthday, birth_type, start_date, end_date); also the answer of vendorsim.ModeReject.
	CodeInvalidValue = 1003
	// CodeUnknownField: set_user_info got a field the document does not list (the real
	// vendor would ignore it silently; the simulator catches the mistake).
	CodeUnknownField = 1004
	// CodeInvalidPeriod: service_history's start_date is after end_date, or the two are not
	// on the same calendar day (the document allows one day at most).
	CodeInvalidPeriod = 1005
)

// Config is the account the simulated HappyTalk serves.
type Config struct {
	// Token is the token the account accepts.
	Token string
	// GenderFormat is GenderCode (M/F, the default when empty) or GenderKorean (남/여).
	GenderFormat string
	// Timezone is the account's zone for service_history dates (default Asia/Seoul).
	Timezone *time.Location
}

// SandboxConfig returns the sandbox account: SandboxToken, the M/F gender format and the
// Asia/Seoul zone.
func SandboxConfig() Config {
	return Config{Token: SandboxToken, GenderFormat: GenderCode}
}

// SandboxEnv returns the gateway environment that points its HappyTalk adapter at a
// simulator served at baseURL with the sandbox account.
func SandboxEnv(baseURL string) map[string]string {
	return map[string]string{"HAPPYTALK_BASE_URL": baseURL, "HAPPYTALK_TOKEN": SandboxToken}
}

// Validate reports a configuration New cannot use.
func (c Config) Validate() error {
	switch c.GenderFormat {
	case "", GenderCode, GenderKorean:
		return nil
	}
	return fmt.Errorf("happytalk: gender format %q: want %q (M/F) or %q (남/여)",
		c.GenderFormat, GenderCode, GenderKorean)
}

// withDefaults fills the zero values of c.
func (c Config) withDefaults() (Config, error) {
	if err := c.Validate(); err != nil {
		return c, err
	}
	if c.GenderFormat == "" {
		c.GenderFormat = GenderCode
	}
	if c.Timezone == nil {
		loc, err := time.LoadLocation("Asia/Seoul")
		if err != nil {
			return c, fmt.Errorf("happytalk: load Asia/Seoul (import time/tzdata): %w", err)
		}
		c.Timezone = loc
	}
	return c, nil
}

// Sim is the simulated HappyTalk, a vendorsim.Vendor. It is safe for concurrent use.
type Sim struct {
	cfg Config

	mu     sync.Mutex
	users  map[string]map[string]string
	events []HistoryEvent // added with AddHistoryEvent
}

var _ vendorsim.Vendor = (*Sim)(nil)

// New returns a simulated HappyTalk serving cfg's account. It panics when cfg.Validate
// fails or the default zone cannot be loaded: both are programming errors, not run-time
// conditions.
func New(cfg Config) *Sim {
	cfg, err := cfg.withDefaults()
	if err != nil {
		panic(err)
	}
	return &Sim{cfg: cfg, users: map[string]map[string]string{}}
}

// Sandbox returns a simulated HappyTalk serving the sandbox account (SandboxConfig).
func Sandbox() *Sim { return New(SandboxConfig()) }

// Name returns Name.
func (s *Sim) Name() model.Vendor { return Name }

// Routes returns set_user_info and service_history.
func (s *Sim) Routes() []vendorsim.Route {
	return []vendorsim.Route{
		{Path: PathSetUserInfo, Handle: s.setUserInfo},
		{Path: PathServiceHistory, Handle: s.serviceHistory},
	}
}

// BadBody is HappyTalk's answer to a body it cannot read: a fail with CodeBadRequest.
func (s *Sim) BadBody(msg string) vendorsim.Answer { return failure(CodeBadRequest, msg) }

// VendorError is what HappyTalk answers when its service is down: its front's HTML page
// with HTTP 503, not its JSON.
func (s *Sim) VendorError() vendorsim.Answer {
	return vendorsim.Answer{Status: http.StatusServiceUnavailable,
		Body: "<html><head><title>503 Service Temporarily Unavailable</title></head><body>503 Service Temporarily Unavailable</body></html>"}
}

// Rejection is a fail with CodeInvalidValue.
func (s *Sim) Rejection() vendorsim.Answer {
	return failure(CodeInvalidValue, "rejected (injected fault)")
}

// Reset forgets the stored users and the events added with AddHistoryEvent.
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = map[string]map[string]string{}
	s.events = nil
}

// User returns a copy of what HappyTalk stored for uuid (every field ever set, parameters
// as cut by the vendor, no token), and whether it knows the uuid.
func (s *Sim) User(uuid string) (map[string]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[uuid]
	if !ok {
		return nil, false
	}
	return maps.Clone(u), true
}

func failure(code int, msg string) vendorsim.Answer {
	return vendorsim.Answer{Status: http.StatusOK, Body: map[string]any{"result": "fail", "code": code, "message": msg}}
}

func success() vendorsim.Answer {
	return vendorsim.Answer{Status: http.StatusOK, Body: map[string]any{"result": "success"}}
}
