package vendorsim

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

// fixedNow is the clock of every test simulator.
var fixedNow = time.Date(2023, 10, 26, 10, 17, 9, 529_000_000, time.UTC)

// The EngageLab credentials of the document's sample Authorization header.
const (
	docEngageLabKey    = "7d431e42dfa6a6d693ac2d04"
	docEngageLabSecret = "5e987ac6d2e04d95a9d8f0d1"
	docEngageLabAuth   = "Basic N2Q0MzFlNDJkZmE2YTZkNjkzYWMyZDA0OjVlOTg3YWM2ZDJlMDRkOTVhOWQ4ZjBkMQ=="
)

// testConfig is the sandbox configuration with a fixed clock.
func testConfig() Config {
	c := SandboxConfig()
	c.Now = func() time.Time { return fixedNow }
	return c
}

// start serves a simulator with cfg on 127.0.0.1 for the test's life.
func start(t *testing.T, cfg Config) (*Sim, *httptest.Server) {
	t.Helper()
	sim := New(cfg)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv
}

// reply is a simulator answer: the HTTP status, the raw body and the body decoded.
type reply struct {
	status int
	raw    []byte
	body   map[string]any
}

// code reads the body's numeric code field.
func (r reply) code() int {
	n, _ := r.body["code"].(float64)
	return int(n)
}

func (r reply) str(k string) string {
	s, _ := r.body[k].(string)
	return s
}

// post sends body to path with the given headers.
func post(t *testing.T, srv *httptest.Server, path string, header http.Header, body string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range header {
		req.Header[k] = vs
	}
	return do(t, srv.Client(), req)
}

func do(t *testing.T, c *http.Client, req *http.Request) reply {
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
	r := reply{status: resp.StatusCode, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// readTestdata returns a file under testdata/.
func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// withFields returns the JSON object body with fields set (a nil value removes the field).
func withFields(t *testing.T, body string, fields map[string]any) string {
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

// null is a JSON null for withFields (nil removes a field).
var null = json.RawMessage("null")

// golden compares got, indented, with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
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

// decodeInto decodes raw into v or fails the test.
func decodeInto(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}
