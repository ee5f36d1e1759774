package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBody bounds what is read of an answer, so a broken or hostile server cannot make the
// client hold an endless body.
const maxBody = 16 << 20

// client talks to one gateway with one key.
type client struct {
	base *url.URL
	key  string
	http *http.Client
}

func newClient(base *url.URL, key string, timeout time.Duration) *client {
	return &client{base: base, key: key, http: &http.Client{Timeout: timeout}}
}

// answer is a successful answer: its status and body as received.
type answer struct {
	status int
	body   []byte
}

// problemError is an error answer, decoded from its application/problem+json body when it
// has one. status is the HTTP status, which a body cannot misstate.
type problemError struct {
	status     int
	statusText string
	// body is the answer as received, for --json.
	body []byte
	problem
}

// problem is an RFC 9457 problem as the gateway writes it.
type problem struct {
	Type      text `json:"type"`
	Title     text `json:"title"`
	Detail    text `json:"detail"`
	RequestID text `json:"request_id"`
	Errors    []struct {
		Field   text `json:"field"`
		Vendor  text `json:"vendor"`
		Message text `json:"message"`
	} `json:"errors"`
}

func (e *problemError) Error() string {
	msg := fmt.Sprintf("the gateway answered %d", e.status)
	if e.Title != "" {
		msg += " " + string(e.Title)
	}
	if e.Detail != "" {
		msg += ": " + string(e.Detail)
	}
	return msg
}

// do sends one request to path (already escaped) with query, and returns a 2xx answer, a
// *problemError for any other status, or the error that kept it from being answered.
func (c *client) do(ctx context.Context, method, escapedPath string, query url.Values) (*answer, error) {
	raw := c.base.String() + escapedPath
	if q := query.Encode(); q != "" {
		raw += "?" + q
	}
	req, err := http.NewRequestWithContext(ctx, method, raw, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error names the URL with any password redacted; the key is only in a header.
		return nil, fmt.Errorf("cannot reach the gateway: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading the gateway's answer: %w", err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("the gateway's answer is larger than %d bytes", maxBody)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return &answer{status: resp.StatusCode, body: body}, nil
	}
	pe := &problemError{status: resp.StatusCode, statusText: http.StatusText(resp.StatusCode), body: body}
	if json.Unmarshal(body, &pe.problem) != nil {
		// Not a problem: a proxy's page, say. Its first line is the best detail there is.
		first, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
		pe.problem = problem{Detail: text(truncate(first, 200))}
	}
	return nil, pe
}

// decode reads a successful answer into v, saying which answer it could not read.
func decode(a *answer, v any) error {
	if err := json.Unmarshal(a.body, v); err != nil {
		return fmt.Errorf("the gateway's answer (%d) is not the JSON expected: %w", a.status, err)
	}
	return nil
}

// text is a string field read leniently: a JSON string is itself, null or absent is empty,
// and any other value (a number such as vendor_code, an object) is its compact JSON, so a
// table can still be printed when the server spells a field differently.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = text(s)
		return nil
	}
	if string(b) == "null" {
		*t = ""
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return err
	}
	*t = text(buf.String())
	return nil
}

// vendorError is a vendor's error as a result or delivery carries it: an object
// {vendor_code, message}, or a plain string.
type vendorError struct {
	Code    text `json:"vendor_code"`
	Message text `json:"message"`
}

func (e *vendorError) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*e = vendorError{Message: text(s)}
		return nil
	}
	type plain vendorError // without this method
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return errors.New("error: want an object {vendor_code, message} or a string")
	}
	*e = vendorError(p)
	return nil
}

// String is "code: message", or whichever of the two there is.
func (e *vendorError) String() string {
	if e == nil {
		return ""
	}
	switch {
	case e.Code != "" && e.Message != "":
		return string(e.Code) + ": " + string(e.Message)
	case e.Code != "":
		return string(e.Code)
	}
	return string(e.Message)
}
