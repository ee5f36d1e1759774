package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/store"
)

// These tests run in a synctest bubble: its clock is virtual and moves on only when every
// goroutine of the test is blocked, so a wait on a renewal count (renewedFor) or on a span
// of time with nothing to do (noRenewalWithin) costs no real time. Nothing waits for real
// time.

// hbReplies is a store whose renewals can be made to fail, and which counts them.
type hbReplies struct {
	Replies
	mu       sync.Mutex
	renewals int
	fail     func(n int) error // the n-th renewal (from 1) fails with its error
}

func (h *hbReplies) RenewIdempotent(ctx context.Context, caller, key string, claimedAt, now time.Time) error {
	h.mu.Lock()
	h.renewals++
	n, fail := h.renewals, h.fail
	h.mu.Unlock()
	if fail != nil {
		if err := fail(n); err != nil {
			return err
		}
	}
	return h.Replies.RenewIdempotent(ctx, caller, key, claimedAt, now)
}

func (h *hbReplies) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.renewals
}

// renewedFor waits, in the bubble, until the claim has been renewed n times, failing if
// that takes longer than d of the bubble's clock. Renewals come every third of a lease, so
// n of them mean that n/3 leases have passed with the claim held.
func renewedFor(t *testing.T, rs *hbReplies, n int, d time.Duration) {
	t.Helper()
	tick := time.NewTicker(d / 100)
	defer tick.Stop()
	deadline := time.After(d)
	for rs.count() < n {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%d renewals within %v, want %d: one every third of a lease", rs.count(), d, n)
		}
	}
}

// noRenewalWithin lets d of the bubble's clock pass with nothing else to wake for, then
// fails if the claim was renewed meanwhile. A negative check needs the time to pass: in
// the bubble it passes at once, so no real time is spent.
func noRenewalWithin(t *testing.T, rs *hbReplies, d time.Duration) {
	t.Helper()
	n := rs.count()
	<-time.After(d)
	synctest.Wait()
	if got := rs.count(); got != n {
		t.Fatalf("%d renewals within %v, want none", got-n, d)
	}
}

// hbStore opens a store in the bubble, with the default lease: a copy of the migrated
// template (migrating a fresh database is most of these tests' work).
func hbStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), templates.SQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// hbPut sends PUT /customers/c-1 with key to h, logging to logs when given.
func hbPut(h http.Handler, key, body string, logs *syncBuffer) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPut, "/customers/c-1", strings.NewReader(body))
	req.Header.Set(IdempotencyKeyHeader, key)
	if logs != nil {
		req = req.WithContext(zerolog.New(logs).WithContext(req.Context()))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// A slow handler keeps its claim, renewed, long past one lease: a second request with the
// key meanwhile is told to wait, and once the handler answers its reply is replayed. The
// renewals stop with the answer.
func TestIdempotencyHeartbeatKeepsClaim(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := hbStore(t)
		rs := &hbReplies{Replies: st}
		lease := st.InFlightLease()
		entered, answer := make(chan struct{}), make(chan struct{})
		calls := 0
		h := recoverer(idempotent(rs, noCaller)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls++
			close(entered)
			<-answer
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"ok":true}`))
		})))
		var first *httptest.ResponseRecorder
		var wg sync.WaitGroup
		wg.Go(func() { first = hbPut(h, "k-slow", `{}`, nil) })
		<-entered

		renewedFor(t, rs, 8, 3*lease) // the first request still running
		second := hbPut(h, "k-slow", `{}`, nil)
		if second.Code != http.StatusConflict || second.Header().Get("Retry-After") != "1" {
			t.Fatalf("second request during the first: %d %q, want 409 with Retry-After", second.Code, second.Header().Get("Retry-After"))
		}

		close(answer)
		wg.Wait()
		if first.Code != http.StatusOK {
			t.Fatalf("first request: %d", first.Code)
		}
		third := hbPut(h, "k-slow", `{}`, nil)
		if third.Code != http.StatusOK || third.Header().Get("Idempotent-Replayed") != "true" || third.Body.String() != `{"ok":true}` {
			t.Fatalf("repeat after the answer: %d %q %s, want the first reply replayed", third.Code, third.Header().Get("Idempotent-Replayed"), third.Body)
		}
		if calls != 1 {
			t.Fatalf("handler ran %d times, want once", calls)
		}
		noRenewalWithin(t, rs, 3*lease)
	})
}

// A renewal that fails while the lease still has time is tried again, and the claim holds.
func TestIdempotencyHeartbeatSurvivesAFailedRenewal(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := hbStore(t)
		rs := &hbReplies{Replies: st, fail: func(n int) error {
			if n == 1 {
				return errors.New("store unreachable")
			}
			return nil
		}}
		lease := st.InFlightLease()
		entered, answer := make(chan struct{}), make(chan struct{})
		var cause error
		h := idempotent(rs, noCaller)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			select {
			case <-answer:
			case <-r.Context().Done():
				cause = context.Cause(r.Context())
			}
			w.WriteHeader(http.StatusOK)
		}))
		logs := &syncBuffer{}
		var wg sync.WaitGroup
		wg.Go(func() { hbPut(h, "k-flaky", `{}`, logs) })
		<-entered
		renewedFor(t, rs, 6, 3*lease) // two leases' worth, the failed one included
		if got := hbPut(h, "k-flaky", `{}`, nil); got.Code != http.StatusConflict {
			t.Fatalf("twin after two leases: %d, want 409", got.Code)
		}
		close(answer)
		wg.Wait()
		if cause != nil {
			t.Fatalf("request cancelled: %v", cause)
		}
		if !strings.Contains(logs.String(), "store unreachable") {
			t.Fatalf("the failed renewal is not logged: %s", logs)
		}
	})
}

// The hard case: renewals fail for so long that the lease would run out while the request
// runs (the store is out of reach of this process only). Before another request could take
// the key over, the request's context is cancelled with errClaimLapsed and the lapse logged;
// once it answers and releases the key, the twin goes ahead.
func TestIdempotencyHeartbeatLapse(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := hbStore(t)
		rs := &hbReplies{Replies: st, fail: func(int) error { return errors.New("store unreachable") }}
		lease := st.InFlightLease()
		var claimed time.Time
		var cause error
		var twin int
		h := idempotent(rs, noCaller)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			claimed = time.Now()
			<-r.Context().Done()
			cause = context.Cause(r.Context())
			if elapsed := time.Since(claimed); elapsed >= lease {
				t.Errorf("cancelled %v after the claim, want before its lease %v ends", elapsed, lease)
			} else {
				t.Logf("cancelled %v after the claim, with %v of the lease left", elapsed, lease-elapsed)
			}
			// At the lapse the claim is still held: no one has sent beside this request.
			twin = hbPut(idempotent(st, noCaller)(http.NotFoundHandler()), "k-lapse", `{}`, nil).Code
			writeError(w, r, cause)
		}))
		logs := &syncBuffer{}
		first := hbPut(h, "k-lapse", `{}`, logs)
		if !errors.Is(cause, errClaimLapsed) {
			t.Fatalf("the handler's context ended with %v, want errClaimLapsed", cause)
		}
		if twin != http.StatusConflict {
			t.Fatalf("twin at the lapse: %d, want 409", twin)
		}
		if first.Code < 500 {
			t.Fatalf("lapsed request answered %d", first.Code)
		}
		if !strings.Contains(logs.String(), "another request may take the key over") {
			t.Fatalf("the lapse is not logged: %s", logs)
		}
		// The 5xx released the key: the retry goes ahead at once.
		retried := false
		retry := idempotent(st, noCaller)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			retried = true
			w.WriteHeader(http.StatusOK)
		}))
		if got := hbPut(retry, "k-lapse", `{}`, nil); got.Code != http.StatusOK || !retried {
			t.Fatalf("retry after the lapse: %d (ran %v)", got.Code, retried)
		}
	})
}

// A handler that panics after renewing its claim stops the renewals and releases the key.
func TestIdempotencyHeartbeatStopsOnPanic(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := hbStore(t)
		rs := &hbReplies{Replies: st}
		lease := st.InFlightLease()
		calls := 0
		h := recoverer(idempotent(rs, noCaller)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls++
			if calls == 1 {
				renewedFor(t, rs, 6, 3*lease) // held for two leases, then the panic
				panic("boom")
			}
			w.WriteHeader(http.StatusOK)
		})))
		if got := hbPut(h, "k-panic", `{}`, nil); got.Code != http.StatusInternalServerError {
			t.Fatalf("panicking request: %d", got.Code)
		}
		if rs.count() == 0 {
			t.Fatal("no renewal while the handler ran")
		}
		noRenewalWithin(t, rs, 2*lease)
		if got := hbPut(h, "k-panic", `{}`, nil); got.Code != http.StatusOK || calls != 2 {
			t.Fatalf("retry after the panic: %d, handler ran %d times", got.Code, calls)
		}
	})
}

// Keys are the caller's: two callers' same key are two keys, each with its own reply.
func TestIdempotencyKeysPerCaller(t *testing.T) {
	t.Parallel()
	st := hbStore(t)
	calls := 0
	h := idempotent(st, func(r *http.Request) string { return r.Header.Get("X-Test-Caller") })(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(r.Header.Get("X-Test-Caller")))
	}))
	put := func(caller string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPut, "/customers/c-1", strings.NewReader(`{}`))
		req.Header.Set(IdempotencyKeyHeader, "k-shared")
		req.Header.Set("X-Test-Caller", caller)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, caller := range []string{"alice", "bob", ""} {
		if got := put(caller); got.Code != http.StatusOK || got.Header().Get("Idempotent-Replayed") != "" || got.Body.String() != caller {
			t.Fatalf("%q's first request: %d %q %q", caller, got.Code, got.Header().Get("Idempotent-Replayed"), got.Body)
		}
	}
	for _, caller := range []string{"alice", "bob", ""} {
		if got := put(caller); got.Header().Get("Idempotent-Replayed") != "true" || got.Body.String() != caller {
			t.Fatalf("%q's repeat: %d %q %q, want its own reply", caller, got.Code, got.Header().Get("Idempotent-Replayed"), got.Body)
		}
	}
	if calls != 3 {
		t.Fatalf("handler ran %d times, want once per caller", calls)
	}
	// The unit separator joins caller and key in the store: a key cannot hold it, nor any
	// other control character.
	req := httptest.NewRequest(http.MethodPut, "/customers/c-1", strings.NewReader(`{}`))
	req.Header.Set(IdempotencyKeyHeader, "k\x1fshared")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("a key with a control character: %d, want 400", rec.Code)
	}
}
