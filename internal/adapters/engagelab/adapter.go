// Package engagelab is the EngageLab MA adapter: it translates a canonical customer update
// into EngageLab's POST /v1/user/contact, reads EngageLab's answer, and resolves a user id
// to its EUID through POST /v1/user/register.
package engagelab

import (
	"encoding/base64"
	"net/http"

	"github.com/customergateway/gateway/internal/adapters/vendorhttp"
	"github.com/customergateway/gateway/internal/model"
)

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
}

// Adapter speaks EngageLab's MA user API. It is safe for concurrent use.
type Adapter struct {
	enabled     bool
	contactURL  string
	registerURL string
	// header is the template every request's header is cloned from, with the Basic
	// credentials encoded once: Plan is on the hot path.
	header http.Header
	client *http.Client
}

var _ model.Adapter = (*Adapter)(nil)

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

// Vendor reports that this adapter speaks to EngageLab.
func (a *Adapter) Vendor() model.Vendor { return model.EngageLab }

// Enabled reports whether both the API key and the API secret are configured.
func (a *Adapter) Enabled() bool { return a.enabled }

// Plan translates u into EngageLab's contact update. It skips when EngageLab is not
// configured, when no euid is known, or when u carries neither email nor phone; it answers
// FieldErrors for values EngageLab would refuse (an empty contact, an euid below 1).
// EngageLab takes no other canonical field, so the plan never carries warnings.
func (a *Adapter) Plan(u *model.Update) (model.Plan, error) {
	p := model.Plan{Vendor: model.EngageLab}
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
	refs := u.Fields.VendorRefs
	if refs == nil || refs.EngageLab == nil {
		return 0
	}
	return refs.EngageLab.EUID
}
