// Package ladiflow is the LadiFlow adapter: it translates a canonical customer update into
// LadiFlow's POST /1.0/customer/update and reads LadiFlow's answer.
package ladiflow

import (
	"net/http"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

// Name is LadiFlow's name in the contract.
const Name model.Vendor = "ladiflow"

// displayName is LadiFlow's own spelling, for messages.
const displayName = "LadiFlow"

// refID is LadiFlow's one vendor_refs key: its customer _id.
const refID = "id"

// DefaultBaseURL is LadiFlow's production API, used when Config.BaseURL is empty.
const DefaultBaseURL = "https://api.service.ladiflow.com"

// updatePath is the customer update call of the vendor document.
const updatePath = "/1.0/customer/update"

// apiKeyHeader carries the credential; View masks it.
const apiKeyHeader = "Api-Key"

// Config is what the adapter needs to reach one LadiFlow account.
type Config struct {
	// BaseURL is the API's root, such as https://api.service.ladiflow.com; a trailing
	// slash is tolerated.
	BaseURL string
	// APIKey is sent in the Api-Key header; empty means LadiFlow is not configured.
	APIKey string
}

// Adapter speaks LadiFlow's customer API. It is safe for concurrent use.
type Adapter struct {
	enabled bool
	url     string
	// header is the template every request's header is cloned from: built once, because
	// Plan is on the hot path.
	header http.Header
	client *http.Client
}

var _ vendors.Vendor = (*Adapter)(nil)

// New returns the adapter for cfg. client should come from vendorhttp.NewClient; nil gets
// one of those.
func New(cfg Config, client *http.Client) *Adapter {
	if client == nil {
		client = vendorhttp.NewClient()
	}
	base := vendorhttp.BaseURL(cfg.BaseURL, DefaultBaseURL)
	h := vendorhttp.JSONHeader()
	h.Set(apiKeyHeader, cfg.APIKey)
	return &Adapter{
		enabled: cfg.APIKey != "",
		url:     base + updatePath,
		header:  h,
		client:  client,
	}
}

// Name is "ladiflow".
func (a *Adapter) Name() model.Vendor { return Name }

// DisplayName is "LadiFlow".
func (a *Adapter) DisplayName() string { return displayName }

// Enabled reports whether an API key is configured.
func (a *Adapter) Enabled() bool { return a.enabled }

// Plan translates u into LadiFlow's customer update. It skips when LadiFlow is not
// configured, when no LadiFlow id is known, or when no field of u concerns LadiFlow; it
// answers FieldErrors when u concerns LadiFlow but carries neither email nor phone, which
// LadiFlow requires in every update.
func (a *Adapter) Plan(u *model.Update) (model.Plan, error) {
	p := model.Plan{Vendor: Name}
	if !a.enabled {
		p.Skip, p.Reason = model.SkipNoKeys, "LadiFlow is not configured"
		return p, nil
	}
	id := ladiflowID(u)
	if id == "" {
		p.Skip, p.Reason = model.SkipNoKeys, "no LadiFlow id known for this customer"
		return p, nil
	}
	t := translate(u)
	p.Warnings = t.warnings
	if t.fields == 0 {
		// The warnings stay: they say why fields the caller sent went nowhere.
		p.Skip, p.Reason = model.SkipNothingToSend, "nothing in the update concerns LadiFlow"
		return p, nil
	}
	if t.body.Email == nil && t.body.Phone == nil {
		return model.Plan{}, model.FieldErrors{{
			Field:   "email",
			Vendor:  Name,
			Message: "LadiFlow requires email or phone in every update",
		}}
	}
	t.body.ID = id
	t.body.ExternalCustomerID = u.CustomerID
	req, err := a.request(&t.body)
	if err != nil {
		return model.Plan{}, err
	}
	p.Request = req
	return p, nil
}

func ladiflowID(u *model.Update) string {
	return u.Fields.VendorRefs.Of(Name).String(refID)
}
