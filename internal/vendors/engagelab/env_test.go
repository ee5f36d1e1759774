package engagelab

import (
	"strings"
	"testing"

	"github.com/customergateway/gateway/internal/model"
)

// ENGAGELAB_AUTO_REGISTER decides whether a customer without a known euid is registered at
// EngageLab (the default) or skipped like any vendor without keys.
func TestFromEnvAutoRegister(t *testing.T) {
	emailOnly := model.CustomerUpdate{Email: ptr("a@example.com")}
	tests := []struct {
		value     string
		wantNeeds bool
	}{
		{"", true}, // unset: the default
		{"true", true},
		{"false", false},
	}
	for _, tt := range tests {
		t.Run("ENGAGELAB_AUTO_REGISTER="+tt.value, func(t *testing.T) {
			vars := map[string]string{"ENGAGELAB_API_KEY": testKey, "ENGAGELAB_API_SECRET": testSecret, "ENGAGELAB_AUTO_REGISTER": tt.value}
			a, err := FromEnv(func(k string) string { return vars[k] })
			if err != nil {
				t.Fatal(err)
			}
			u := prepare(t, "c-1", emailOnly)
			if got := a.NeedsKeys(u); got != tt.wantNeeds {
				t.Fatalf("NeedsKeys(email only) = %t, want %t", got, tt.wantNeeds)
			}
			// Without resolution, the plan skips EngageLab as a vendor without keys.
			p, err := a.Plan(u)
			if err != nil || p.Skip != model.SkipNoKeys || p.Reason != reasonNoEUID {
				t.Fatalf("Plan = %+v, %v; want skipped for want of an euid", p, err)
			}
			// An euid the caller sent is used either way.
			if p, err := a.Plan(prepare(t, "c-1", model.CustomerUpdate{Email: ptr("a@example.com"), VendorRefs: refs(7)})); err != nil || p.Request == nil {
				t.Fatalf("Plan with an euid = %+v, %v; want a request", p, err)
			}
		})
	}
	t.Run("not a boolean", func(t *testing.T) {
		vars := map[string]string{"ENGAGELAB_AUTO_REGISTER": "sometimes"}
		if _, err := FromEnv(func(k string) string { return vars[k] }); err == nil || !strings.Contains(err.Error(), "ENGAGELAB_AUTO_REGISTER") {
			t.Fatalf("FromEnv = %v, want an error naming ENGAGELAB_AUTO_REGISTER", err)
		}
	})
}
