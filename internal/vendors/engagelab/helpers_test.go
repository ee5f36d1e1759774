package engagelab

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors/vendortest"
)

// The credentials of most tests; the golden test uses the document's own pair.
const (
	testKey    = "el-key-0123456789abcdef"
	testSecret = "el-secret-fedcba9876543210"
)

func ptr[T any](v T) *T { return &v }

// prepare runs f through the model's rules as the API does, with Korea as the region a
// national phone number is read in (the gateway's default).
func prepare(tb testing.TB, customerID string, f model.CustomerUpdate) *model.Update {
	tb.Helper()
	u, err := model.Prepare(customerID, f, "KR")
	if err != nil {
		tb.Fatalf("model.Prepare: %v", err)
	}
	return u
}

func refs(euid int64) model.VendorRefs {
	return model.VendorRefs{Name: {refEUID: model.Int64Ref(euid)}}
}

// decodeJSON reads a JSON document keeping numbers exact, so 10362473, 10362473.0 and
// "10362473" all differ.
func decodeJSON(tb testing.TB, b []byte) any {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		tb.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// rawField is the JSON text of one top-level field of an object, as it was written.
func rawField(tb testing.TB, body []byte, name string) string {
	tb.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		tb.Fatalf("not a JSON object: %s", body)
	}
	return string(m[name])
}

// fakeEngageLab is a recording vendor stand-in on 127.0.0.1.
type fakeEngageLab = vendortest.Server

func newFakeEngageLab(tb testing.TB, status int, body string) *fakeEngageLab {
	return vendortest.New(tb, status, body)
}

// newTestAdapter is an adapter with the test credentials pointed at f.
func newTestAdapter(f *fakeEngageLab) *Adapter {
	return New(Config{BaseURL: f.URL, APIKey: testKey, APISecret: testSecret}, f.Client())
}

// sendErr keeps only the error of a Send.
func sendErr(_ []byte, err error) error { return err }
