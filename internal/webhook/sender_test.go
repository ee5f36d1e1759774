package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// received is one request a test receiver got.
type received struct {
	header http.Header
	body   []byte
	err    error // the library's verdict on its signature
}

// receiver is a Standard Webhooks receiver on 127.0.0.1: it verifies each request with the
// library's own Verify and secret, answers 401 when that fails and status otherwise, and
// keeps what it got.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	hook *standardwebhooks.Webhook
}

func newReceiver(t *testing.T, secret string, answer func(w http.ResponseWriter)) *receiver {
	t.Helper()
	hook, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{hook: hook}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		verr := rc.hook.Verify(body, r.Header)
		rc.mu.Lock()
		rc.got = append(rc.got, received{header: r.Header.Clone(), body: body, err: verr})
		rc.mu.Unlock()
		if verr != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		answer(w)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func status(code int) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) { w.WriteHeader(code) }
}

func newSecret(t *testing.T) string {
	t.Helper()
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newSender(t *testing.T, url, secret string, client *http.Client) *Sender {
	t.Helper()
	s, err := New(Env{URL: url, Secret: secret, Timeout: 5 * time.Second}, client)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const payload = `{"type":"update.completed","timestamp":"2025-01-02T03:04:05Z","data":{"update_id":"u1"}}`

// A receiver verifying with the library and the shared secret accepts what Send posts; the
// same request with a byte of its body changed, or checked with another secret, fails.
func TestSendIsVerifiedByTheLibrary(t *testing.T) {
	t.Parallel()
	secret := newSecret(t)
	rc := newReceiver(t, secret, status(http.StatusNoContent))
	s := newSender(t, rc.URL+"/hooks", secret, nil)
	at := time.Now()
	if err := s.Send(t.Context(), "msg_01", at, []byte(payload)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := rc.requests()
	if len(got) != 1 || got[0].err != nil {
		t.Fatalf("receiver got %d requests, verdict %v", len(got), got[0].err)
	}
	r := got[0]
	if string(r.body) != payload {
		t.Errorf("body %s", r.body)
	}
	for name, want := range map[string]string{
		"webhook-id":        "msg_01",
		"webhook-timestamp": strconv.FormatInt(at.Unix(), 10),
		"Content-Type":      "application/json",
		"User-Agent":        UserAgent,
	} {
		if v := r.header.Get(name); v != want {
			t.Errorf("%s: %q, want %q", name, v, want)
		}
	}
	if sig := r.header.Get("webhook-signature"); !strings.HasPrefix(sig, "v1,") || strings.Contains(sig, " ") {
		t.Errorf("webhook-signature %q: want one v1 signature", sig)
	}

	tampered := []byte(strings.Replace(payload, "u1", "u2", 1))
	if err := rc.hook.Verify(tampered, r.header); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("tampered body verified: %v", err)
	}
	other, err := standardwebhooks.NewWebhook(newSecret(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Verify(r.body, r.header); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("verified with another secret: %v", err)
	}
}

// A receiver holding another secret refuses the webhook, and Send says so.
func TestSendWithAnotherSecretFails(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, newSecret(t), status(http.StatusNoContent))
	err := newSender(t, rc.URL, newSecret(t), nil).Send(t.Context(), "msg_01", time.Now(), []byte(payload))
	var we *Error
	if !errors.As(err, &we) || we.Status != http.StatusUnauthorized {
		t.Fatalf("Send: %v; want the receiver's 401", err)
	}
	if got := rc.requests(); len(got) != 1 || !errors.Is(got[0].err, standardwebhooks.ErrNoMatchingSignature) {
		t.Fatalf("receiver: %+v", got)
	}
}

// A retry is the same webhook: the same webhook-id and body, signed anew for its own
// attempt time, and both attempts verify.
func TestRetryKeepsTheID(t *testing.T) {
	t.Parallel()
	secret := newSecret(t)
	rc := newReceiver(t, secret, status(http.StatusOK))
	s := newSender(t, rc.URL, secret, nil)
	first := time.Now().Add(-2 * time.Second)
	for _, at := range []time.Time{first, first.Add(2 * time.Second)} {
		if err := s.Send(t.Context(), "msg_0192d5e6-7b1c-7c3a-9f0e-1a2b3c4d5e6f", at, []byte(payload)); err != nil {
			t.Fatal(err)
		}
	}
	got := rc.requests()
	if len(got) != 2 {
		t.Fatalf("%d requests", len(got))
	}
	a, b := got[0], got[1]
	if a.err != nil || b.err != nil {
		t.Fatalf("verdicts %v, %v", a.err, b.err)
	}
	if id := a.header.Get("webhook-id"); id != "msg_0192d5e6-7b1c-7c3a-9f0e-1a2b3c4d5e6f" || b.header.Get("webhook-id") != id {
		t.Errorf("ids %q and %q", id, b.header.Get("webhook-id"))
	}
	if a.header.Get("webhook-timestamp") == b.header.Get("webhook-timestamp") || a.header.Get("webhook-signature") == b.header.Get("webhook-signature") {
		t.Error("the second attempt was not signed for its own time")
	}
	if string(a.body) != string(b.body) {
		t.Error("bodies differ")
	}
}

// Anything but a 2xx is a failure naming the status; only a 410 is ErrGone; a Retry-After
// is read.
func TestSendFailsOnNon2xx(t *testing.T) {
	t.Parallel()
	secret := newSecret(t)
	tests := []struct {
		status     int
		header     string
		gone       bool
		retryAfter time.Duration
	}{
		{status: http.StatusInternalServerError},
		{status: http.StatusBadRequest},
		{status: http.StatusNotFound},
		{status: http.StatusGone, gone: true},
		{status: http.StatusTooManyRequests, header: "7", retryAfter: 7 * time.Second},
		{status: http.StatusServiceUnavailable, header: "soon"},
		{status: http.StatusNotModified},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t, secret, func(w http.ResponseWriter) {
				if tc.header != "" {
					w.Header().Set("Retry-After", tc.header)
				}
				w.WriteHeader(tc.status)
			})
			err := newSender(t, rc.URL, secret, nil).Send(t.Context(), "msg_1", time.Now(), []byte(payload))
			var we *Error
			if !errors.As(err, &we) || we.Status != tc.status || we.RetryAfter != tc.retryAfter {
				t.Fatalf("Send: %#v; want status %d, retry after %v", err, tc.status, tc.retryAfter)
			}
			if !strings.Contains(err.Error(), strconv.Itoa(tc.status)) {
				t.Errorf("%q does not say the status", err)
			}
			if errors.Is(err, ErrGone) != tc.gone {
				t.Errorf("errors.Is(ErrGone) = %v", !tc.gone)
			}
		})
	}
}

// A redirect is not followed, even by a client that would follow it: the webhook never
// reaches where it points, and the attempt fails with the 3xx.
func TestSendDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	secret := newSecret(t)
	elsewhere := newReceiver(t, secret, status(http.StatusOK))
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for name, client := range map[string]*http.Client{"default client": nil, "a client that follows": {}} {
			t.Run(strconv.Itoa(code)+" "+name, func(t *testing.T) {
				redirect := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/stolen", code))
				t.Cleanup(redirect.Close)
				err := newSender(t, redirect.URL, secret, client).Send(t.Context(), "msg_1", time.Now(), []byte(payload))
				var we *Error
				if !errors.As(err, &we) || we.Status != code {
					t.Fatalf("Send: %v; want the %d", err, code)
				}
				if strings.Contains(err.Error(), "stolen") {
					t.Errorf("%q names where the redirect points", err)
				}
			})
		}
	}
	if n := len(elsewhere.requests()); n != 0 {
		t.Fatalf("the redirect was followed %d times", n)
	}
}

// A receiver that never answers is cut at the timeout, even under a context without a
// deadline.
func TestSendIsCutAtTheTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	t.Cleanup(hung.Close)
	t.Cleanup(func() { close(release) }) // runs first: lets Close end the handler
	s, err := New(Env{URL: hung.URL, Secret: newSecret(t), Timeout: 50 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Send(context.Background(), "msg_1", time.Now(), []byte(payload)) }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Send still waits on a receiver that does not answer")
	}
	var we *Error
	if !errors.As(err, &we) || we.Status != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send: %v; want no answer in time", err)
	}
	if want := "webhook not delivered: no answer in time"; err.Error() != want {
		t.Errorf("%q, want %q", err, want)
	}
}

// Send's errors hold neither the URL's user information and query nor the receiver's
// address: they may reach a caller of the gateway.
func TestSendErrorsHoldNoAddress(t *testing.T) {
	t.Parallel()
	secret := newSecret(t)
	rc := newReceiver(t, secret, status(http.StatusBadGateway))
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for name, base := range map[string]string{"an answer": rc.URL, "no answer": closed.URL} {
		t.Run(name, func(t *testing.T) {
			url := strings.Replace(base, "http://", "http://hookuser:hookpass@", 1) + "/in?token=querysecret"
			err := newSender(t, url, secret, nil).Send(t.Context(), "msg_1", time.Now(), []byte(payload))
			if err == nil {
				t.Fatal("delivered")
			}
			for _, leak := range []string{"hookuser", "hookpass", "querysecret", "127.0.0.1", strings.TrimPrefix(base, "http://")} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("%q holds %q", err, leak)
				}
			}
		})
	}
}

// An id Standard Webhooks forbid is refused before anything is sent.
func TestSendRefusesBadIDs(t *testing.T) {
	t.Parallel()
	secret := newSecret(t)
	rc := newReceiver(t, secret, status(http.StatusOK))
	s := newSender(t, rc.URL, secret, nil)
	for _, id := range []string{"", "msg.1", "msg 1", "msg,1", "msg\r\nX-Evil: 1", strings.Repeat("m", maxIDBytes+1)} {
		if err := s.Send(t.Context(), id, time.Now(), []byte(payload)); err == nil {
			t.Errorf("id %q sent", id)
		}
	}
	if n := len(rc.requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

func TestNewRefusesAnEnvWithoutWebhooks(t *testing.T) {
	t.Parallel()
	if _, err := New(Env{Timeout: time.Second}, nil); err == nil || !strings.Contains(err.Error(), "GATEWAY_WEBHOOK_URL") {
		t.Fatalf("off: %v", err)
	}
	if _, err := New(Env{URL: "http://127.0.0.1:9/in", Secret: secretOf(8), Timeout: time.Second}, nil); err == nil || !strings.Contains(err.Error(), "GATEWAY_WEBHOOK_SECRET") {
		t.Fatalf("short secret: %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"-5":                            0,
		"120":                           2 * time.Minute,
		"x":                             0,
		"Thu, 02 Jan 2025 03:05:05 GMT": time.Minute,
		"Thu, 02 Jan 2025 03:03:05 GMT": 0,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}
