package ladiflow

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/customergateway/gateway/internal/model"
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

// recorded is one request the fake LadiFlow received.
type recorded struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// fakeLadiFlow answers every request with one status and body and records what it got.
type fakeLadiFlow struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newFakeLadiFlow(tb testing.TB, status int, body string) *fakeLadiFlow {
	tb.Helper()
	f := &fakeLadiFlow{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: b})
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	tb.Cleanup(f.Close)
	return f
}

func (f *fakeLadiFlow) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}
