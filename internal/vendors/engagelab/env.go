package engagelab

import (
	"github.com/customergateway/gateway/internal/config"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

// Env is EngageLab's part of the gateway's environment; the two credentials enable
// EngageLab.
type Env struct {
	BaseURL   string `env:"ENGAGELAB_BASE_URL, default=https://ma-api.engagelab.com"`
	APIKey    string `env:"ENGAGELAB_API_KEY" credential:"true"`
	APISecret string `env:"ENGAGELAB_API_SECRET" credential:"true"`
	// AutoRegister lets the gateway register a customer without a known euid at EngageLab
	// (POST /v1/user/register) to get one; false skips EngageLab for that customer instead.
	AutoRegister bool `env:"ENGAGELAB_AUTO_REGISTER, default=true"`
}

// FromEnv builds the adapter from the environment getenv reads.
func FromEnv(getenv func(string) string) (*Adapter, error) {
	var e Env
	if err := config.Process(getenv, &e); err != nil {
		return nil, err
	}
	cfg := Config{BaseURL: e.BaseURL, APIKey: e.APIKey, APISecret: e.APISecret, NoAutoRegister: !e.AutoRegister}
	return New(cfg, vendorhttp.NewClient()), nil
}
