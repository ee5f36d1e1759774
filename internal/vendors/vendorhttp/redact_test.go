package vendorhttp

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:secret@host/p?q=a@b": "https://***@host/p?q=a@b",
		"https://key@host":                 "https://***@host",
		"https://u:p@ss@host/x":            "https://***@host/x",
		"https://host/p@x":                 "https://host/p@x",
		"https://host":                     "https://host",
		"//u:p@host/x":                     "//***@host/x",
		"/relative/u:p@x":                  "/relative/u:p@x",
		"http://u:se cret@host/\x7f":       "http://***@host/\x7f",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// A dry run shows the URL without the credentials a base URL may carry.
func TestViewMasksURLCredentials(t *testing.T) {
	v := View(&model.Request{Method: http.MethodPost, URL: "https://user:secret@vendor.example/v1/x", Body: []byte(`{}`)}, nil, nil)
	if v.URL != "https://***@vendor.example/v1/x" {
		t.Fatalf("view URL %q", v.URL)
	}
}

// No error of Do names a base URL's user or password: not a refused call, not a URL that
// does not parse (net/url quotes such a URL whole), not a failed read of the answer.
func TestDoErrorsCarryNoCredentials(t *testing.T) {
	closed := closedAddr(t)
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		_, _ = w.Write([]byte("short"))
		panic(http.ErrAbortHandler) // ends the connection before the 100 bytes promised
	}))
	defer cut.Close()
	cutURL, _ := url.Parse(cut.URL)
	for name, raw := range map[string]string{
		"refused":       "http://apiuser:s3cret@" + closed + "/v1/x",
		"unparseable":   "http://apiuser:s3cret@" + closed + "/v1/\x7f",
		"bad port":      "http://apiuser:s3cret@127.0.0.1:99999/v1/x",
		"answer cut":    "http://apiuser:s3cret@" + cutURL.Host + "/v1/x",
		"user is a key": "http://s3cret@" + closed + "/v1/x",
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, _, err := Do(ctx, NewClient(), &model.Request{Method: http.MethodPost, URL: raw, Body: []byte(`{}`)})
			if err == nil {
				t.Fatal("no error")
			}
			if msg := err.Error(); strings.Contains(msg, "s3cret") || strings.Contains(msg, "apiuser") {
				t.Fatalf("error carries the credentials: %s", msg)
			}
			if r := Reason(err); strings.Contains(r, "127.0.0.1") || strings.Contains(r, "s3cret") {
				t.Fatalf("reason %q", r)
			}
		})
	}
}

// A vendor's redirect is its answer, not a call to wherever it points with the
// credentials on.
func TestDoFollowsNoRedirect(t *testing.T) {
	var reached atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	defer elsewhere.Close()
	vendor := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/steal", http.StatusTemporaryRedirect))
	defer vendor.Close()
	req := &model.Request{Method: http.MethodPost, URL: vendor.URL + "/v1/x", Header: http.Header{"Api-Key": {"k"}}, Body: []byte(`{"token":"t"}`)}
	status, _, err := Do(context.Background(), NewClient(), req)
	if err != nil || status != http.StatusTemporaryRedirect || reached.Load() != 0 {
		t.Fatalf("status %d, err %v, redirect target reached %d times", status, err, reached.Load())
	}
}

// A call whose context has no deadline gets one.
func TestDoGivesEveryCallADeadline(t *testing.T) {
	var left time.Duration
	c := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		d, ok := r.Context().Deadline()
		if !ok {
			return nil, errors.New("no deadline")
		}
		left = time.Until(d)
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Header: http.Header{}}, nil
	})}
	if _, _, err := Do(context.Background(), c, &model.Request{Method: http.MethodGet, URL: "http://vendor.example/"}); err != nil {
		t.Fatal(err)
	}
	if left <= 0 || left > DefaultTimeout {
		t.Fatalf("deadline in %v, want at most %v", left, DefaultTimeout)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Reason names the kind of failure and nothing of where the upstream is: the failures
// here are real ones, on loopback, but for DNS, which is built as net builds it.
func TestReasonNamesNoAddress(t *testing.T) {
	closed := closedAddr(t)
	silent := silentAddr(t)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer tlsSrv.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer plain.Close()
	hangUp := hangUpAddr(t)
	trusting := NewClient()
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())
	trusting.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool}
	_, tlsPort, _ := net.SplitHostPort(strings.TrimPrefix(tlsSrv.URL, "https://"))

	do := func(c *http.Client, rawURL string, timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, _, err := Do(ctx, c, &model.Request{Method: http.MethodPost, URL: rawURL})
		return err
	}
	dns := &url.Error{Op: "Post", URL: "https://api.vendor.internal/v1", Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: &net.DNSError{Err: "no such host", Name: "api.vendor.internal", Server: "10.255.255.53:53", IsNotFound: true}}}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"refused", do(NewClient(), "http://"+closed+"/v1", 5*time.Second), "connection refused"},
		{"silent", do(NewClient(), "http://"+silent+"/v1", 200*time.Millisecond), "no answer in time"},
		{"hang up", do(NewClient(), "http://"+hangUp+"/v1", 5*time.Second), "the connection closed before a whole answer"},
		{"unknown authority", do(NewClient(), tlsSrv.URL+"/v1", 5*time.Second), "its TLS certificate was not accepted"},
		{"other host name", do(trusting, "https://localhost:"+tlsPort+"/v1", 5*time.Second), "its TLS certificate was not accepted"},
		{"https to http", do(NewClient(), strings.Replace(plain.URL, "http:", "https:", 1)+"/v1", 5*time.Second), "transport failure"},
		{"dns", dns, "its host name does not resolve"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("no error")
			}
			got := Reason(tc.err)
			if got != tc.want {
				t.Errorf("Reason = %q, want %q (error: %v)", got, tc.want, tc.err)
			}
			for _, leak := range []string{"127.0.0.1", "localhost", "example.com", "vendor.internal", "10.255", ":"} {
				if strings.Contains(got, leak) {
					t.Errorf("Reason %q carries %q", got, leak)
				}
			}
		})
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// silentAddr accepts connections and never answers.
func silentAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return ln.Addr().String()
}

// hangUpAddr accepts connections and closes them once the request has arrived, with no
// answer.
func hangUpAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, _ = http.ReadRequest(bufio.NewReader(c))
			}()
		}
	}()
	return ln.Addr().String()
}

// Describe keeps a vendor's own answer, masks a transport failure, and says nothing of an
// error it does not know (a database's may name its host and user).
func TestDescribe(t *testing.T) {
	wrapped := func(err error) error { return fmt.Errorf("resolve EngageLab euid: engagelab: %w", err) }
	for _, tc := range []struct {
		err  error
		want string
	}{
		{wrapped(&model.VendorError{Vendor: "EngageLab", Code: 55004, Message: "invalid business parameters"}), "EngageLab answered 55004: invalid business parameters"},
		{wrapped(&url.Error{Op: "Post", URL: "http://127.0.0.1:39243/v1/user/register", Err: io.EOF}), "the connection closed before a whole answer"},
		{wrapped(context.DeadlineExceeded), "no answer in time"},
		{errors.New("failed to connect to `host=db.internal user=gateway`: dial error"), "the call failed"},
		{nil, ""},
	} {
		if got := Describe(tc.err); got != tc.want {
			t.Errorf("Describe(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
