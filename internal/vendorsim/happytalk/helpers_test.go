package happytalk

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

type reply = simtest.Reply

// testConfig is the sandbox account.
func testConfig() Config { return SandboxConfig() }

// testSim is a simulated HappyTalk mounted alone on the core, which has a fixed clock.
type testSim struct {
	*Sim
	core *vendorsim.Sim
}

// start serves a simulated HappyTalk with cfg on 127.0.0.1 for the test's life.
func start(t *testing.T, cfg Config) (testSim, *httptest.Server) {
	t.Helper()
	s := testSim{Sim: New(cfg)}
	s.core = vendorsim.New(vendorsim.Config{Now: simtest.Now}, s.Sim)
	return s, simtest.Serve(t, s.core)
}
