package ladiflow

import (
	"net/http/httptest"
	"testing"

	"github.com/customergateway/gateway/internal/vendorsim"
	"github.com/customergateway/gateway/internal/vendorsim/internal/simtest"
)

// The shared test helpers, under the names the tests use.
var (
	post         = simtest.Post
	readTestdata = simtest.ReadTestdata
	withFields   = simtest.WithFields
	golden       = simtest.Golden
	null         = simtest.Null
)

// testConfig is the sandbox account with a fixed clock.
func testConfig() Config {
	c := SandboxConfig()
	c.Now = simtest.Now
	return c
}

// testSim is a simulated LadiFlow mounted alone on the core, which has a fixed clock.
type testSim struct {
	*Sim
	core *vendorsim.Sim
}

// start serves a simulated LadiFlow with cfg on 127.0.0.1 for the test's life.
func start(t *testing.T, cfg Config) (testSim, *httptest.Server) {
	t.Helper()
	s := testSim{Sim: New(cfg)}
	s.core = vendorsim.New(vendorsim.Config{Now: simtest.Now}, s.Sim)
	return s, simtest.Serve(t, s.core)
}
