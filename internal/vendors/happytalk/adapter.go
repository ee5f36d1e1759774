// Package happytalk is the adapter for HappyTalk, the Korean chat CRM: it translates a
// canonical update into set_user_info and reads service_history into audit events.
package happytalk

import (
	"net/http"
	"strings"
	"time"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

// Name is HappyTalk's name in the contract; Source is its audit trail's.
const (
	Name   model.Vendor      = "happytalk"
	Source model.AuditSource = "happytalk"
)

// displayName is HappyTalk's own spelling, for messages.
const displayName = "HappyTalk"

// The keys of HappyTalk's vendor_refs.
const (
	refUUID    = "uuid"
	refRoomID  = "room_id"
	refUsersID = "users_id"
)

// The paths of the two HappyTalk calls, below the base URL.
const (
	setUserInfoPath    = "/user/api/set_user_info/format/json"
	serviceHistoryPath = "/user/api/service_history/format/json"
)

// Adapter speaks HappyTalk's API for one account. It implements model.Adapter and
// model.AuditSourceReader; it is safe for concurrent use.
type Adapter struct {
	client            *http.Client
	token             string
	setUserInfoURL    string
	serviceHistoryURL string
	// header is shared by every request: it carries no credential and nothing may change it.
	header http.Header
	male   string
	female string
	slots  map[string]int
	loc    *time.Location
}

// New builds the adapter once, so that Plan only translates. client should come from
// vendorhttp.NewClient(); nil gets one.
func New(cfg Config, client *http.Client) *Adapter {
	if client == nil {
		client = vendorhttp.NewClient()
	}
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if base == "" {
		base = DefaultBaseURL
	}
	a := &Adapter{
		client:            client,
		token:             cfg.Token,
		setUserInfoURL:    base + setUserInfoPath,
		serviceHistoryURL: base + serviceHistoryPath,
		header:            vendorhttp.JSONHeader(),
		male:              "M",
		female:            "F",
		slots:             cfg.ParameterMap.slots(),
		loc:               cfg.Location,
	}
	if cfg.GenderFormat == GenderKorean {
		a.male, a.female = "남", "여"
	}
	if a.loc == nil {
		a.loc = seoul()
	}
	return a
}

// seoul is Asia/Seoul from the zone database, or its fixed +09:00 offset (Korea has kept no
// summer time since 1988) where the host has no zone database.
// Location is the account's zone: its service history is cut into days there.
func (a *Adapter) Location() *time.Location { return a.loc }

func seoul() *time.Location {
	if loc, err := time.LoadLocation(DefaultTimezone); err == nil {
		return loc
	}
	return time.FixedZone("KST", 9*60*60)
}

// Name is "happytalk".
func (a *Adapter) Name() model.Vendor { return Name }

// DisplayName is "HappyTalk".
func (a *Adapter) DisplayName() string { return displayName }

// Enabled reports whether the account token is configured.
func (a *Adapter) Enabled() bool { return a.token != "" }

// Source is "happytalk": the service history is HappyTalk's audit trail.
func (a *Adapter) Source() model.AuditSource { return Source }

// DayWindows is true: service_history answers at most one calendar day per call.
func (a *Adapter) DayWindows() bool { return true }

// View shows req as a dry run does: the body token is replaced by "***".
func (a *Adapter) View(req *model.Request) model.RequestView {
	return vendorhttp.View(req, nil, maskToken)
}

func maskToken(body map[string]any) {
	if _, ok := body["token"]; ok {
		body["token"] = "***"
	}
}

// redact keeps the token out of a text that came from the vendor (a message may echo the
// request), so that no error carries it.
func (a *Adapter) redact(s string) string {
	if a.token == "" {
		return s
	}
	return strings.ReplaceAll(s, a.token, "***")
}

var (
	_ vendors.Vendor     = (*Adapter)(nil)
	_ vendors.AuditTrail = (*Adapter)(nil)
)
