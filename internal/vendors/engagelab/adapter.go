// Package engagelab is the EngageLab MA adapter: it translates a canonical customer update
// into EngageLab's POST /v1/user/contact, reads EngageLab's answer, and resolves a user id
// to its EUID through POST /v1/user/register.
package engagelab

import (
	"encoding/base64"
	"net/http"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

// Name is EngageLab's name in the contract.
const Name model.Vendor = "engagelab"

// displayName is EngageLab's own spelling, for messages.
const displayName = "EngageLab"

// refEUID is EngageLab's one vendor_refs key: its 64-bit user id.
const refEUID = "euid"

// DefaultBaseURL is EngageLab's MA API in its Singapore data centre, used when
// Config.BaseURL is empty.
const DefaultBaseURL = "https://ma-api.engagelab.com"

// The calls of the vendor document.
const (
	contactPath  = "/v1/user/contact"
	registerPath = "/v1/user/register"
)

// authHeader carries the credentials; View masks it.
const authHeader = "Authorization"

// The reasons whose text the contract fixes (DESIGN.md 2.2).
const (
	reasonNotConfigured = "EngageLab is not configured"
	reasonNoEUID        = "no EngageLab euid known for this customer"
	reasonNothing       = "nothing in the update concerns EngageLab"
)

// Config is what the adapter needs to reach one EngageLab MA project.
type Config struct {
	// BaseURL is the API's root, such as https://ma-api.engagelab.com; a trailing slash
	// is tolerated.
	BaseURL string
	// APIKey and APISecret are the API data source's credentials, sent as HTTP Basic
	// user and password; EngageLab is enabled only when both are set.
	APIKey    string
	APISecret string
	// NoAutoRegister turns off the euid's resolution: a customer whose euid the gateway
	// does not know is skipped, like any vendor without keys, and EngageLab's register call
	// (which creates the user there) is never made.
	NoAutoRegister bool
}

// Adapter speaks EngageLab's MA user API. It is safe for concurrent use.
type Adapter struct {
	enabled     bool
	register    bool
	contactURL  string
	registerURL string
	// header is the template every request's header is cloned from, with the Basic
	// credentials encoded once: Plan is on the hot path.
	header http.Header
	client *http.Client
}

var (
	_ vendors.Vendor      = (*Adapter)(nil)
	_ vendors.KeyResolver = (*Adapter)(nil)
)

// New returns the adapter for cfg. client should come from vendorhttp.NewClient; nil gets
// one of those.
func New(cfg Config, client *http.Client) *Adapter {
	if client == nil {
		client = vendorhttp.NewClient()
	}
	base := vendorhttp.BaseURL(cfg.BaseURL, DefaultBaseURL)
	h := vendorhttp.JSONHeader()
	h.Set(authHeader, basicAuth(cfg.APIKey, cfg.APISecret))
	return &Adapter{
		enabled:     cfg.APIKey != "" && cfg.APISecret != "",
		register:    !cfg.NoAutoRegister,
		contactURL:  base + contactPath,
		registerURL: base + registerPath,
		header:      h,
		client:      client,
	}
}

// basicAuth is the document's base64(api_key:api_secret) with its "Basic " scheme.
func basicAuth(key, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"+secret))
}

// Name is "engagelab".
func (a *Adapter) Name() model.Vendor { return Name }

// DisplayName is "EngageLab".
func (a *Adapter) DisplayName() string { return displayName }

// Enabled reports whether both the API key and the API secret are configured.
func (a *Adapter) Enabled() bool { return a.enabled }

// Plan translates u into EngageLab's contact update. It skips when EngageLab is not
// configured, when no euid is known, or when u carries neither email nor phone; it answers
// FieldErrors for values EngageLab would refuse (an empty contact, an euid below 1).
// EngageLab takes no other canonical field, so the plan never carries warnings.
func (a *Adapter) Plan(u *model.Update) (model.Plan, error) {
	p := model.Plan{Vendor: Name}
	if !a.enabled {
		p.Skip, p.Reason = model.SkipNoKeys, reasonNotConfigured
		return p, nil
	}
	euid := engageLabEUID(u)
	if euid == 0 {
		p.Skip, p.Reason = model.SkipNoKeys, reasonNoEUID
		return p, nil
	}
	body, err := translate(u, euid)
	if err != nil {
		return model.Plan{}, err
	}
	if body == nil {
		p.Skip, p.Reason = model.SkipNothingToSend, reasonNothing
		return p, nil
	}
	req, err := a.request(a.contactURL, body)
	if err != nil {
		return model.Plan{}, err
	}
	p.Request = req
	return p, nil
}

func engageLabEUID(u *model.Update) int64 {
	return u.Fields.VendorRefs.Of(Name).Int64(refEUID)
}
