package happytalk

import (
	"fmt"
	"time"

	"github.com/customergateway/gateway/internal/config"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

// Env is HappyTalk's part of the gateway's environment; the credential enables HappyTalk.
type Env struct {
	BaseURL      string `env:"HAPPYTALK_BASE_URL, default=https://customer.happytalk.io"`
	Token        string `env:"HAPPYTALK_TOKEN" credential:"true"`
	GenderFormat string `env:"HAPPYTALK_GENDER_FORMAT, default=code"`
	Timezone     string `env:"HAPPYTALK_TIMEZONE, default=Asia/Seoul"`
	ParameterMap string `env:"HAPPYTALK_PARAMETER_MAP"`
}

// FromEnv builds the adapter from the environment getenv reads; an error names the
// variable to fix, never a credential.
func FromEnv(getenv func(string) string) (*Adapter, error) {
	var e Env
	if err := config.Process(getenv, &e); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(e.Timezone)
	if err != nil {
		return nil, fmt.Errorf("HAPPYTALK_TIMEZONE: %w", err)
	}
	gf, err := ParseGenderFormat(e.GenderFormat)
	if err != nil {
		return nil, fmt.Errorf("HAPPYTALK_GENDER_FORMAT: %w", err)
	}
	pm, err := ParseParameterMap(e.ParameterMap)
	if err != nil {
		return nil, fmt.Errorf("HAPPYTALK_PARAMETER_MAP: %w", err)
	}
	return New(Config{BaseURL: e.BaseURL, Token: e.Token, GenderFormat: gf, ParameterMap: pm, Location: loc}, vendorhttp.NewClient()), nil
}
