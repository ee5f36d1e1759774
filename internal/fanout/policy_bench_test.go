package fanout

import (
	"context"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// BenchmarkPolicies is the cost of the policies around one successful vendor call: what
// each delivery pays on top of the call itself.
func BenchmarkPolicies(b *testing.B) {
	v := &fakeAdapter{vendor: "ladiflow", enabled: true}
	call, _ := DefaultPolicy().wrap(v, v.Send, func(model.Vendor, model.VendorResult, time.Duration) {})
	ctx, _ := withAttempts(context.Background())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := call(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
