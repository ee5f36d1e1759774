// Package vendorhttp holds what every vendor adapter needs on the wire: one tuned
// http.Client per vendor and a bounded read of the vendor's answer.
package vendorhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/tracing"
)

// MaxResponseBytes bounds what the gateway reads of a vendor's answer.
const MaxResponseBytes = 1 << 20

// maxResponseHeaderBytes bounds a vendor's answer headers (the transport's default is 10 MB).
const maxResponseHeaderBytes = 64 << 10

// DefaultTimeout is the deadline Do gives a call whose context has none: every outbound
// call ends, even one a caller forgot to bound. The fan-out's and the audit trail's own
// deadlines are shorter and come first.
const DefaultTimeout = 30 * time.Second

// NewClient returns the client one vendor uses for its whole life: connections are kept and
// reused, bounded per host so a slow vendor cannot take every socket. Dialling and the TLS
// handshake have their own bounds; the whole call is bounded by its context's deadline
// (Do gives one to a context without), so the client itself has no timeout.
//
// Redirects are not followed: a vendor API does not redirect, and following one would
// carry the credential headers (Api-Key, a token in a 307's body) to wherever it points.
// The 3xx comes back as the vendor's answer, a rejection the adapter reports.
func NewClient() *http.Client {
	t := &http.Transport{
		Proxy:             http.ProxyFromEnvironment,
		DialContext:       (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2: true,
		MaxIdleConns:      512,
		// As many idle connections per vendor as open ones: with fewer, 128 callers at
		// once made about 10% of vendor calls open a new TCP connection (issue 12).
		MaxIdleConnsPerHost:    128,
		MaxConnsPerHost:        128,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    5 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
	}
	return &http.Client{
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Do sends req and returns the HTTP status and the body (at most MaxResponseBytes), with
// X-Request-Id set to ctx's request id (WithRequestID) when it has one. A call whose ctx
// has no deadline gets DefaultTimeout. Its errors never carry the credentials a
// base URL may hold (https://user:secret@host): the URL they name is RedactURL's.
func Do(ctx context.Context, c *http.Client, req *model.Request) (int, []byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return 0, nil, fmt.Errorf("build request: %w", redacted(err, req.URL))
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	if id := RequestID(ctx); id != "" {
		hr.Header.Set(RequestIDHeader, id)
	}
	tracing.Inject(ctx, propagation.HeaderCarrier(hr.Header)) // traceparent, when tracing is on
	resp, err := c.Do(hr)
	if err != nil {
		return 0, nil, redacted(err, req.URL)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	if err != nil {
		// A *url.Error like the others, so a reader of errors finds the URL in one place.
		return resp.StatusCode, nil, &url.Error{Op: "read answer of " + req.Method, URL: RedactURL(req.URL), Err: err}
	}
	return resp.StatusCode, body, nil
}

// redacted is err with the URL of its *url.Error replaced by rawURL's RedactURL: net/url
// quotes a URL it cannot parse whole, password included, and net/http masks a password but
// keeps the user name, which may be a key too.
func redacted(err error, rawURL string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = RedactURL(rawURL)
	}
	return err
}

// RedactURL is rawURL with its user information, user name and password both, replaced by
// ***: https://user:secret@host/path becomes https://***@host/path. It works on the text,
// so a URL that does not parse is masked too.
func RedactURL(rawURL string) string {
	var start int
	switch i := strings.Index(rawURL, "://"); {
	case i >= 0:
		start = i + 3
	case strings.HasPrefix(rawURL, "//"):
		start = 2
	default:
		return rawURL // no authority, so no user information
	}
	end := len(rawURL)
	if i := strings.IndexAny(rawURL[start:], "/?#"); i >= 0 {
		end = start + i
	}
	at := strings.LastIndexByte(rawURL[start:end], '@')
	if at < 0 {
		return rawURL
	}
	return rawURL[:start] + "***" + rawURL[start+at:]
}

// JSONHeader is the header of a JSON request with no credential in it.
func JSONHeader() http.Header {
	return http.Header{"Content-Type": {"application/json"}}
}

// View turns req into what a dry run shows. maskHeaders names headers whose value is a
// credential; maskBody replaces credentials inside the decoded body; credentials in the URL
// (a base URL's user:password@) are masked always.
func View(req *model.Request, maskHeaders []string, maskBody func(map[string]any)) model.RequestView {
	v := model.RequestView{Method: req.Method, URL: RedactURL(req.URL), Headers: map[string]string{}}
	for k, vs := range req.Header {
		if len(vs) > 0 {
			v.Headers[k] = vs[0]
		}
	}
	for _, h := range maskHeaders {
		if _, ok := v.Headers[http.CanonicalHeaderKey(h)]; ok {
			v.Headers[http.CanonicalHeaderKey(h)] = "***"
		}
	}
	var body map[string]any
	dec := json.NewDecoder(bytes.NewReader(req.Body))
	dec.UseNumber() // keep a 64-bit euid exact
	if err := dec.Decode(&body); err != nil {
		v.Body = string(req.Body)
		return v
	}
	if maskBody != nil {
		maskBody(body)
	}
	v.Body = body
	return v
}

// Code reads a vendor's numeric answer code, sent as a JSON number or a numeric string.
// ok is false when there is none (absent, null or unreadable): a code of 0 is a code.
func Code(raw json.RawMessage) (code int, ok bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false
	}
	if json.Unmarshal(raw, &code) == nil {
		return code, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if n, err := strconv.Atoi(s); err == nil {
			return n, true
		}
	}
	return 0, false
}

// BaseURL is base without a trailing slash, or def when base is empty.
func BaseURL(base, def string) string {
	if base = strings.TrimRight(base, "/"); base == "" {
		return def
	}
	return base
}
