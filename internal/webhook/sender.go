// Package webhook sends the gateway's webhooks to the one receiver GATEWAY_WEBHOOK_URL
// names, signed as the Standard Webhooks specification says (DESIGN.md 6). It sends one
// attempt at a time; retrying, with the same webhook id, is the durable queue's.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

// UserAgent names the gateway to a receiver.
const UserAgent = "customergateway-webhooks/1"

// maxDrainBytes bounds what is read of a receiver's answer, which the gateway ignores: read
// so the connection can be reused, bounded so a receiver cannot keep an attempt busy.
const maxDrainBytes = 64 << 10

// maxIDBytes bounds a webhook id; Standard Webhooks ids are short (msg_ and a few dozen).
const maxIDBytes = 256

// ErrGone matches (errors.Is) a receiver's 410 Gone. Every other failure is worth sending
// again, as Standard Webhooks receivers expect; a 410 is the receiver saying it wants no more
// webhooks from this sender, and the specification asks the sender to stop. The Sender does
// not stop by itself (its one URL is the operator's, and a 410 may be a mistake fixed
// tomorrow): a caller that retries should give this delivery up rather than retry it to the
// time limit, and tell the operator.
var ErrGone = errors.New("the webhook receiver answered 410 Gone: it wants no more webhooks")

// Error is a webhook not delivered. Its text names the receiver's status, or for a request
// that got no answer a reason in words that hold no address, host or URL (vendorhttp.Reason),
// so it may be shown to a caller of the gateway. Unwrap gives the transport's own error,
// with those details, for the logs.
type Error struct {
	// Status is the receiver's HTTP status (3xx: a redirect, not followed), or 0 when no
	// answer came.
	Status int
	// RetryAfter is the wait the receiver asked for in a Retry-After header (429, 503), 0
	// when it asked for none. It is the receiver's word: a caller caps it.
	RetryAfter time.Duration
	// err is the transport's error when no answer came.
	err error
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return "webhook not delivered: " + vendorhttp.Reason(e.err)
	}
	if e.Status == http.StatusGone {
		return ErrGone.Error()
	}
	msg := fmt.Sprintf("the webhook receiver answered %d", e.Status)
	if text := http.StatusText(e.Status); text != "" {
		msg += " " + text
	}
	if e.Status >= 300 && e.Status < 400 {
		msg += " (redirects are not followed: set GATEWAY_WEBHOOK_URL to where it points)"
	}
	return msg
}

// Unwrap is the transport's error (context.DeadlineExceeded for a receiver that did not
// answer in time), nil for an answer.
func (e *Error) Unwrap() error { return e.err }

// Is makes a 410 Gone match ErrGone.
func (e *Error) Is(target error) bool { return target == ErrGone && e.Status == http.StatusGone }

// Sender signs and posts webhooks to one receiver.
type Sender struct {
	url     string
	timeout time.Duration
	signer  *standardwebhooks.Webhook
	client  *http.Client
}

// New returns a Sender for env, which must be Enabled. client carries the requests; nil is
// vendorhttp.NewClient. Whatever client is given, redirects are not followed (one could carry
// the webhook to a host the operator never named): a 3xx is a failed attempt.
func New(env Env, client *http.Client) (*Sender, error) {
	if !env.Enabled() {
		return nil, errors.New("webhooks are off: GATEWAY_WEBHOOK_URL is not set")
	}
	if err := env.validate(); err != nil {
		return nil, err
	}
	signer, err := standardwebhooks.NewWebhook(env.Secret)
	if err != nil {
		// checkSecret has decoded it already; the library's error is not wrapped all the same.
		return nil, errors.New("GATEWAY_WEBHOOK_SECRET could not be read as a signing key")
	}
	if client == nil {
		client = vendorhttp.NewClient()
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Sender{url: env.URL, timeout: env.Timeout, signer: signer, client: &c}, nil
}

// Send makes one attempt to deliver payload, a JSON document, as webhook id. id is the same
// on every attempt of one webhook, so a receiver can tell a retry from a new event; at is this
// attempt's time (the caller's clock, time.Now), which is signed and which receivers hold
// within minutes of theirs against replays: the event's own time is in the payload. The
// attempt is bounded by the Env's timeout, or ctx's deadline when that comes first.
//
// A 2xx answer is a delivery and Send returns nil. Anything else is an *Error: a non-2xx
// status (a redirect included) or no answer. Every one is worth retrying but a 410 Gone
// (ErrGone).
func (s *Sender) Send(ctx context.Context, id string, at time.Time, payload []byte) error {
	if err := checkID(id); err != nil {
		return err
	}
	sig, err := s.signer.Sign(id, at, payload)
	if err != nil {
		return fmt.Errorf("sign webhook %s: %w", id, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(payload))
	if err != nil {
		return &Error{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	// Set, not Add: the library's names are lower case and the wire is case-blind.
	req.Header.Set(standardwebhooks.HeaderWebhookID, id)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)

	resp, err := s.client.Do(req)
	if err != nil {
		return &Error{err: err}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
	_ = resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return &Error{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
}

// checkID refuses an id Standard Webhooks forbid or a header cannot carry: the id is signed
// as "id.timestamp.body", so a full stop in it could make two messages sign alike.
func checkID(id string) error {
	if id == "" || len(id) > maxIDBytes {
		return fmt.Errorf("webhook id must be 1 to %d bytes", maxIDBytes)
	}
	for i := range len(id) {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("webhook id %q: only letters, digits, _ and - may appear", id)
		}
	}
	return nil
}

// retryAfter reads a Retry-After header, delay-seconds or an HTTP date, as a wait from now;
// 0 when there is none or it cannot be read.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 || n > int64(365*24*time.Hour/time.Second) {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
