package engagelab

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
	decodeInto   = simtest.DecodeInto
)

// The EngageLab credentials of the document's sample Authorization header.
const (
	docEngageLabKey    = "7d431e42dfa6a6d693ac2d04"
	docEngageLabSecret = "5e987ac6d2e04d95a9d8f0d1"
	docEngageLabAuth   = "Basic N2Q0MzFlNDJkZmE2YTZkNjkzYWMyZDA0OjVlOTg3YWM2ZDJlMDRkOTVhOWQ4ZjBkMQ=="
)

// testConfig is the sandbox account.
func testConfig() Config { return SandboxConfig() }

// testSim is a simulated EngageLab mounted alone on the core, which has a fixed clock.
type testSim struct {
	*Sim
	core *vendorsim.Sim
}

// start serves a simulated EngageLab with cfg on 127.0.0.1 for the test's life.
func start(t *testing.T, cfg Config) (testSim, *httptest.Server) {
	t.Helper()
	s := testSim{Sim: New(cfg)}
	s.core = vendorsim.New(vendorsim.Config{Now: simtest.Now}, s.Sim)
	return s, simtest.Serve(t, s.core)
}
