package main

import (
	"fmt"

	openapi "github.com/customergateway/gateway/api"

	"github.com/customergateway/gateway/internal/vendors"
	"github.com/customergateway/gateway/internal/vendors/engagelab"
	"github.com/customergateway/gateway/internal/vendors/happytalk"
	"github.com/customergateway/gateway/internal/vendors/ladiflow"
	"github.com/customergateway/gateway/internal/vendorsim"
	engagelabsim "github.com/customergateway/gateway/internal/vendorsim/engagelab"
	happytalksim "github.com/customergateway/gateway/internal/vendorsim/happytalk"
	ladiflowsim "github.com/customergateway/gateway/internal/vendorsim/ladiflow"
)

// registered is every vendor the gateway delivers to, in the order results are reported.
// This list is the one place that names them: adding a vendor is a package under
// internal/vendors, its simulator under internal/vendorsim, one line here, and its entries
// in api/openapi.yaml (README, "Adding a vendor").
var registered = []plugin{
	{fromEnv: adapter(happytalk.FromEnv), env: happytalk.Env{}, sandbox: happyTalkSandbox},
	{fromEnv: adapter(ladiflow.FromEnv), env: ladiflow.Env{}, sandbox: simulated(ladiflowsim.Sandbox, ladiflowsim.SandboxEnv)},
	{fromEnv: adapter(engagelab.FromEnv), env: engagelab.Env{}, sandbox: simulated(engagelabsim.Sandbox, engagelabsim.SandboxEnv)},
}

// document is the contract the gateway serves and validates against: its VendorName and
// VendorRefs schemas name every registered vendor.
var document = openapi.Document

// plugin is one registered vendor: its adapter, built from the environment, the variables
// it reads, and its simulator for --sandbox.
type plugin struct {
	fromEnv func(getenv func(string) string) (vendors.Vendor, error)
	// env is the vendor's Env struct: the variables it reads and their defaults.
	env any
	// sandbox starts the vendor's simulator (configured from getenv where the account's
	// settings change what it accepts) and answers the variables that point the adapter
	// at it, served at baseURL.
	sandbox func(getenv func(string) string, baseURL string) (vendorsim.Vendor, map[string]string, error)
}

// adapter adapts a vendor package's FromEnv to the plug-in's.
func adapter[V vendors.Vendor](fromEnv func(func(string) string) (V, error)) func(func(string) string) (vendors.Vendor, error) {
	return func(getenv func(string) string) (vendors.Vendor, error) { return fromEnv(getenv) }
}

// simulated is a sandbox that needs nothing from the environment.
func simulated[S vendorsim.Vendor](sim func() S, env func(baseURL string) map[string]string) func(func(string) string, string) (vendorsim.Vendor, map[string]string, error) {
	return func(_ func(string) string, baseURL string) (vendorsim.Vendor, map[string]string, error) {
		return sim(), env(baseURL), nil
	}
}

// sandboxParameterMap maps the README's example attributes to HappyTalk parameters when
// the caller set no map of their own.
const sandboxParameterMap = "tier:parameter1,note:user_parameter"

// happyTalkSandbox simulates a HappyTalk account in the gender format the gateway is
// configured with, and maps the README's example attributes unless told otherwise.
func happyTalkSandbox(getenv func(string) string, baseURL string) (vendorsim.Vendor, map[string]string, error) {
	cfg := happytalksim.SandboxConfig()
	if f := getenv("HAPPYTALK_GENDER_FORMAT"); f != "" {
		cfg.GenderFormat = f
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("HAPPYTALK_GENDER_FORMAT: %w", err)
	}
	env := happytalksim.SandboxEnv(baseURL)
	if getenv("HAPPYTALK_PARAMETER_MAP") == "" {
		env["HAPPYTALK_PARAMETER_MAP"] = sandboxParameterMap
	}
	return happytalksim.New(cfg), env, nil
}
