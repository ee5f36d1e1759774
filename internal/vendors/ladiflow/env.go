package ladiflow

import (
	"github.com/customergateway/gateway/internal/config"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

// Env is LadiFlow's part of the gateway's environment; the credential enables LadiFlow.
type Env struct {
	BaseURL string `env:"LADIFLOW_BASE_URL, default=https://api.service.ladiflow.com"`
	APIKey  string `env:"LADIFLOW_API_KEY" credential:"true"`
}

// FromEnv builds the adapter from the environment getenv reads.
func FromEnv(getenv func(string) string) (*Adapter, error) {
	var e Env
	if err := config.Process(getenv, &e); err != nil {
		return nil, err
	}
	return New(Config(e), vendorhttp.NewClient()), nil
}
