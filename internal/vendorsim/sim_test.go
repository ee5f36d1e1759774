package vendorsim

import (
	"net/http"
	"strings"
	"testing"

	"github.com/customergateway/gateway/internal/model"
)

func TestOversizedBodyGetsEachVendorsOwnRefusal(t *testing.T) {
	huge := `{"x":"` + strings.Repeat("a", maxBodyBytes) + `"}`
	tests := []struct {
		vendor     model.Vendor
		wantStatus int
		wantCode   int
	}{
		{model.HappyTalk, http.StatusOK, HappyTalkCodeBadRequest},
		{model.LadiFlow, http.StatusBadRequest, http.StatusBadRequest},
		{model.EngageLab, http.StatusOK, EngageLabCodeInvalidParams},
	}
	for _, tt := range tests {
		t.Run(string(tt.vendor), func(t *testing.T) {
			sim, srv := start(t, testConfig())
			call := callOf(tt.vendor)
			r := post(t, srv, call.path, call.header, huge)
			if r.status != tt.wantStatus || r.code() != tt.wantCode {
				t.Errorf("got %d %s, want %d with code %d", r.status, r.raw, tt.wantStatus, tt.wantCode)
			}
			if got := sim.Received(tt.vendor); len(got) != 1 || len(got[0].Body) != maxBodyBytes {
				t.Errorf("Received kept %d requests", len(got))
			}
		})
	}
}

func TestSandboxConfig(t *testing.T) {
	c := SandboxConfig()
	if c.HappyTalkToken != "sandbox-happytalk-token" || c.LadiFlowAPIKey != "sandbox-ladiflow-key" ||
		c.EngageLabAPIKey != "sandbox-engagelab-key" || c.EngageLabAPISecret != "sandbox-engagelab-secret" ||
		c.HappyTalkGenderFormat != GenderCode || c.Validate() != nil {
		t.Errorf("SandboxConfig = %+v", c)
	}
	// The defaults: Asia/Seoul and the real clock.
	d, err := c.withDefaults()
	if err != nil || d.HappyTalkTimezone.String() != "Asia/Seoul" || d.Now == nil {
		t.Errorf("defaults: %+v, %v", d, err)
	}
}
