// Package simtest holds what the simulator's tests share: a fixed clock, a way to post to a
// simulator and read its answer, the document samples under a package's testdata/, and
// golden files. Only tests import it.
package simtest

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Seoul and America/New_York on machines without a zone database
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// FixedNow is the clock of every test simulator.
var FixedNow = time.Date(2023, 10, 26, 10, 17, 9, 529_000_000, time.UTC)

// Now returns FixedNow, for a Config's Now.
func Now() time.Time { return FixedNow }

// Serve serves h on 127.0.0.1 for the test's life.
func Serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// Reply is a simulator answer: the HTTP status, the raw body and the body decoded.
type Reply struct {
	Status int
	Raw    []byte
	Body   map[string]any
}

// Code reads the body's numeric code field.
func (r Reply) Code() int {
	n, _ := r.Body["code"].(float64)
	return int(n)
}

// Str reads the body's string field k.
func (r Reply) Str(k string) string {
	s, _ := r.Body[k].(string)
	return s
}

// Post sends body to path with the given headers.
func Post(t *testing.T, srv *httptest.Server, path string, header http.Header, body string) Reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range header {
		req.Header[k] = vs
	}
	return Do(t, srv.Client(), req)
}

// Do sends req with c and reads the answer.
func Do(t *testing.T, c *http.Client, req *http.Request) Reply {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := Reply{Status: resp.StatusCode, Raw: raw}
	_ = json.Unmarshal(raw, &r.Body)
	return r
}

// ReadTestdata returns a file under the test package's testdata/.
func ReadTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// WithFields returns the JSON object body with fields set (a nil value removes the field).
func WithFields(t *testing.T, body string, fields map[string]any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Null is a JSON null for WithFields (nil removes a field).
var Null = json.RawMessage("null")

// Golden compares got, indented, with testdata/name, or rewrites it with -update.
func Golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, got)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("answer differs from %s:\n got: %s\nwant: %s", path, buf.Bytes(), want)
	}
}

// DecodeInto decodes raw into v or fails the test.
func DecodeInto(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}
