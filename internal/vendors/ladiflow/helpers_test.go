package ladiflow

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors/vendortest"
)

const testKey = "lf-secret-key-0123456789"

func ptr[T any](v T) *T { return &v }

// prepare runs f through the model's rules as the API does, with Vietnam as the region a
// national phone number is read in.
func prepare(tb testing.TB, customerID string, f model.CustomerUpdate) *model.Update {
	tb.Helper()
	u, err := model.Prepare(customerID, f, "VN")
	if err != nil {
		tb.Fatalf("model.Prepare: %v", err)
	}
	return u
}

// decodeJSON reads a JSON document keeping numbers exact, so 100000 and "100000" differ.
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

func decodeObject(tb testing.TB, b []byte) map[string]any {
	tb.Helper()
	m, ok := decodeJSON(tb, b).(map[string]any)
	if !ok {
		tb.Fatalf("not a JSON object: %s", b)
	}
	return m
}

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// fakeLadiFlow is a recording vendor stand-in on 127.0.0.1.
type fakeLadiFlow = vendortest.Server

func newFakeLadiFlow(tb testing.TB, status int, body string) *fakeLadiFlow {
	return vendortest.New(tb, status, body)
}
