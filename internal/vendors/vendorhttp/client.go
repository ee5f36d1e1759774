// Package vendorhttp holds what every vendor adapter needs on the wire: one tuned
// http.Client per vendor and a bounded read of the vendor's answer.
package vendorhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// MaxResponseBytes bounds what the gateway reads of a vendor's answer.
const MaxResponseBytes = 1 << 20

// NewClient returns the client one vendor uses for its whole life: connections are kept and
// reused, bounded per host so a slow vendor cannot take every socket. Per-call deadlines
// come from the context, so the client itself has no timeout.
func NewClient() *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		MaxConnsPerHost:       128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: t}
}

// Do sends req and returns the HTTP status and the body (at most MaxResponseBytes).
func Do(ctx context.Context, c *http.Client, req *model.Request) (int, []byte, error) {
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return 0, nil, fmt.Errorf("build request: %w", err)
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	resp, err := c.Do(hr)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("read answer: %w", err)
	}
	return resp.StatusCode, body, nil
}

// JSONHeader is the header of a JSON request with no credential in it.
func JSONHeader() http.Header {
	return http.Header{"Content-Type": {"application/json"}}
}

// View turns req into what a dry run shows. maskHeaders names headers whose value is a
// credential; maskBody replaces credentials inside the decoded body.
func View(req *model.Request, maskHeaders []string, maskBody func(map[string]any)) model.RequestView {
	v := model.RequestView{Method: req.Method, URL: req.URL, Headers: map[string]string{}}
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
