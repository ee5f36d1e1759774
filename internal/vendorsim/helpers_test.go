package vendorsim_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendorsim"
	"github.com/customergateway/gateway/internal/vendorsim/engagelab"
	"github.com/customergateway/gateway/internal/vendorsim/happytalk"
	"github.com/customergateway/gateway/internal/vendorsim/internal/simtest"
	"github.com/customergateway/gateway/internal/vendorsim/ladiflow"
)

// The shared test helpers, under the names the tests use.
var (
	post       = simtest.Post
	do         = simtest.Do
	decodeInto = simtest.DecodeInto
	fixedNow   = simtest.FixedNow
)

type reply = simtest.Reply

// vendors lists the mounted vendors in the order they are mounted.
var vendors = []model.Vendor{happytalk.Name, ladiflow.Name, engagelab.Name}

// firstEUID is the first EUID the simulated EngageLab hands out.
const firstEUID = 10000000

// testSim is the core with the three sandbox vendors mounted, and a fixed clock.
type testSim struct {
	*vendorsim.Sim
	ht *happytalk.Sim
	lf *ladiflow.Sim
	el *engagelab.Sim
}

// start serves the three sandbox vendors on one core on 127.0.0.1 for the test's life.
func start(t *testing.T) (testSim, *httptest.Server) {
	t.Helper()
	lfCfg := ladiflow.SandboxConfig()
	lfCfg.Now = simtest.Now
	s := testSim{ht: happytalk.Sandbox(), lf: ladiflow.New(lfCfg), el: engagelab.Sandbox()}
	s.Sim = vendorsim.New(vendorsim.Config{Now: simtest.Now}, s.ht, s.lf, s.el)
	return s, simtest.Serve(t, s.Sim)
}

// The vendors' sandbox credentials, as request headers.
var (
	lfKey  = http.Header{"Api-Key": {ladiflow.SandboxAPIKey}}
	elAuth = http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(engagelab.SandboxAPIKey+":"+engagelab.SandboxAPISecret))}}
)

// registerBody is an EngageLab register request.
func registerBody(name string, values ...string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = fmt.Sprintf("%q", v)
	}
	return fmt.Sprintf(`{"identity_name":%q,"identity_values":[%s]}`, name, strings.Join(quoted, ","))
}

// historyBody is a HappyTalk service_history request.
func historyBody(start, end string) string {
	return `{"token":"sandbox-happytalk-token","start_date":"` + start + `","end_date":"` + end + `"}`
}
