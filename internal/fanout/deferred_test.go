package fanout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/model"
)

// observed records what an Observer is told, vendor by vendor.
type observed struct {
	mu   sync.Mutex
	seen map[model.Vendor][]model.Status
}

func (o *observed) observe(v model.Vendor, r model.VendorResult, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen == nil {
		o.seen = map[model.Vendor][]model.Status{}
	}
	o.seen[v] = append(o.seen[v], r.Status)
}

func (o *observed) of(v model.Vendor) []model.Status {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]model.Status(nil), o.seen[v]...)
}

// Under Defer, what the calls end with is observed once the delivery is settled: a failed
// call as what its delivery came to (queued), any other as it ended; a call that ends
// after the settling is observed at once by the same rule. Without Defer, at once.
func TestDeferObservesWhatTheDeliveryCameTo(t *testing.T) {
	var o observed
	down := sending(ladiFlow)
	down.script = []error{retryable, retryable, retryable}
	bad := sending(engageLab)
	bad.script = []error{rejection}
	f := New(fastPolicy(), o.observe, sending(happyTalk), down, bad)
	u := &model.Update{}
	plans, _ := f.Plan(u)

	ctx, settle := Defer(context.Background())
	res := f.Deliver(ctx, u, plans)
	if res.Results[ladiFlow].Status != model.StatusFailed {
		t.Fatalf("ladiflow %+v, want failed", res.Results[ladiFlow])
	}
	for _, v := range []model.Vendor{happyTalk, ladiFlow, engageLab} {
		if got := o.of(v); len(got) != 0 {
			t.Fatalf("%s observed %v before the delivery was settled", v, got)
		}
	}
	queued := res.Results[ladiFlow]
	queued.Status = model.StatusQueued
	res.Results[ladiFlow] = queued
	settle(res.Results)
	want := map[model.Vendor]model.Status{happyTalk: model.StatusOK, ladiFlow: model.StatusQueued, engageLab: model.StatusRejected}
	for v, s := range want {
		if got := o.of(v); len(got) != 1 || got[0] != s {
			t.Errorf("%s observed %v, want [%s]", v, got, s)
		}
	}

	// A call that ends after the settling (one the deadline left behind) is not lost.
	late := sending(ladiFlow)
	late.script = []error{retryable}
	var o2 observed
	p := fastPolicy()
	p.Attempts = 1
	f2 := New(p, o2.observe, late)
	ctx, settle = Defer(context.Background())
	settle(map[model.Vendor]model.VendorResult{ladiFlow: {Status: model.StatusQueued}})
	if _, err := f2.Call(ladiFlow)(ctx, plans[0].Request); err == nil {
		t.Fatal("the scripted failure did not happen")
	}
	if got := o2.of(ladiFlow); len(got) != 1 || got[0] != model.StatusQueued {
		t.Errorf("a call after the settling observed %v, want [queued]", got)
	}

	// No Defer: observed at once, as the call ended.
	var o3 observed
	again := sending(ladiFlow)
	again.script = []error{retryable, retryable, retryable}
	f3 := New(fastPolicy(), o3.observe, again)
	plans3, _ := f3.Plan(u)
	f3.Deliver(context.Background(), u, plans3)
	if got := o3.of(ladiFlow); len(got) != 1 || got[0] != model.StatusFailed {
		t.Errorf("without Defer observed %v, want [failed]", got)
	}
}

// A delivery's log line names each key once and says, for a delivery that did not
// succeed, the vendor's code and message and the error.
func TestDeliveryLogLine(t *testing.T) {
	var buf bytes.Buffer
	logger := zerolog.New(&buf)
	bad := sending(engageLab)
	bad.script = []error{rejection}
	f := New(fastPolicy(), nil, bad)
	u := &model.Update{}
	plans, _ := f.Plan(u)
	f.Deliver(logger.WithContext(context.Background()), u, plans)

	line := strings.TrimSpace(buf.String())
	if strings.Count(line, "\n") != 0 {
		t.Fatalf("want one line, got:\n%s", line)
	}
	keys := objectKeys(t, line)
	var got struct {
		Level         string `json:"level"`
		Vendor        string `json:"vendor"`
		Status        string `json:"status"`
		VendorCode    *int   `json:"vendor_code"`
		VendorMessage string `json:"vendor_message"`
		Error         string `json:"error"`
		Message       string `json:"message"`
	}
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatal(err)
	}
	if got.Message != "vendor delivery" || got.Vendor != string(engageLab) || got.Status != "rejected" || got.Level != "warn" {
		t.Errorf("line %s", line)
	}
	if got.VendorCode == nil || *got.VendorCode != rejection.Code || got.VendorMessage != rejection.Message || !strings.Contains(got.Error, "55004") {
		t.Errorf("the vendor's code, message or the error is missing: %s (keys %q)", line, keys)
	}
}

// objectKeys reads the top-level keys of the JSON object line token by token and fails
// the test when one appears twice: encoding/json would quietly keep the last.
func objectKeys(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", line)
	}
	var keys []string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%v in %s", err, line)
		}
		key := tok.(string)
		if seen[key] {
			t.Errorf("key %q appears twice in %s", key, line)
		}
		seen[key] = true
		keys = append(keys, key)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("%v in %s", err, line)
		}
	}
	if _, err := dec.Token(); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("%v in %s", err, line)
	}
	return keys
}
