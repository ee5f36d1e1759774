package engagelab

import (
	"github.com/customergateway/gateway/internal/config"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

// Env is EngageLab's part of the gateway's environment.
type Env struct {
	BaseURL   string `env:"ENGAGELAB_BASE_URL, default=https://ma-api.engagelab.com"`
	APIKey    string `env:"ENGAGELAB_API_KEY"`
	APISecret string `env:"ENGAGELAB_API_SECRET"`
}

// FromEnv builds the adapter from the environment getenv reads.
func FromEnv(getenv func(string) string) (*Adapter, error) {
	var e Env
	if err := config.Process(getenv, &e); err != nil {
		return nil, err
	}
	return New(Config(e), vendorhttp.NewClient()), nil
}
