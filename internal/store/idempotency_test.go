package store

import (
	"github.com/customergateway/gateway/internal/model"

	"bytes"
	"errors"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.FixedZone("KST", 9*3600))

// idemStep is one call in an idempotency scenario: begin (the default), finish, release or
// renew (the claim made at at, renewed at now).
type idemStep struct {
	name   string
	op     string
	caller string
	key    string
	hash   [32]byte
	at     time.Time
	status int
	body   []byte
	now    time.Time
	// What begin answers: a claim (no reply, no conflict), a reply, a conflict or an error.
	wantReply    *model.IdempotentReply
	wantConflict bool
	wantErr      error
}

func runIdemSteps(t *testing.T, s *Store, steps []idemStep) {
	t.Helper()
	for _, st := range steps {
		switch st.op {
		case "finish":
			if err := s.FinishIdempotent(t.Context(), st.caller, st.key, st.at, st.status, st.body); !errors.Is(err, st.wantErr) {
				t.Fatalf("%s: FinishIdempotent = %v, want %v", st.name, err, st.wantErr)
			}
		case "renew":
			if err := s.RenewIdempotent(t.Context(), st.caller, st.key, st.at, st.now); !errors.Is(err, st.wantErr) {
				t.Fatalf("%s: RenewIdempotent = %v, want %v", st.name, err, st.wantErr)
			}
		case "release":
			if err := s.ReleaseIdempotent(t.Context(), st.caller, st.key, st.at); err != nil {
				t.Fatalf("%s: ReleaseIdempotent = %v", st.name, err)
			}
		default:
			reply, conflict, err := s.BeginIdempotent(t.Context(), st.caller, st.key, st.hash, st.at)
			if !errors.Is(err, st.wantErr) || conflict != st.wantConflict || !sameReply(reply, st.wantReply) {
				t.Fatalf("%s: BeginIdempotent = %+v, %v, %v; want %+v, %v, %v",
					st.name, reply, conflict, err, st.wantReply, st.wantConflict, st.wantErr)
			}
		}
	}
}

func sameReply(a, b *model.IdempotentReply) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Status == b.Status && bytes.Equal(a.Body, b.Body) && a.BodyHash == b.BodyHash &&
		a.CreatedAt.Equal(b.CreatedAt) && a.CreatedAt.Location() == time.UTC
}

func TestIdempotencyLifecycle(t *testing.T) {
	t.Parallel()
	hashA := model.RequestHash("PUT", "/customers/c-42", []byte(`{"email":"a@example.com"}`))
	hashB := model.RequestHash("PUT", "/customers/c-42", []byte(`{"email":"b@example.com"}`))
	// Binary, with a NUL and bytes that are not UTF-8: the reply is kept byte for byte.
	body := []byte("{\"outcome\":\"partial\"}\x00\xff\xfe")
	first := &model.IdempotentReply{Status: 207, Body: body, BodyHash: hashA, CreatedAt: t0}
	renewed := &model.IdempotentReply{Status: 200, Body: []byte{}, BodyHash: hashA, CreatedAt: t0.Add(IdempotencyTTL)}
	steps := []idemStep{
		{name: "a new key is claimed", key: "k-1", hash: hashA, at: t0},
		{name: "a repeat while in flight waits", key: "k-1", hash: hashA, at: t0.Add(time.Second), wantErr: ErrInFlight},
		{name: "another body while in flight conflicts", key: "k-1", hash: hashB, at: t0.Add(time.Second), wantConflict: true},
		{name: "the first reply is stored", op: "finish", key: "k-1", at: t0, status: 207, body: body},
		{name: "a second finish finds no claim", op: "finish", key: "k-1", at: t0, status: 500, wantErr: ErrNotClaimed},
		{name: "a repeat gets the first reply", key: "k-1", hash: hashA, at: t0.Add(time.Minute), wantReply: first},
		{name: "the last instant within 24h still replays", key: "k-1", hash: hashA, at: t0.Add(IdempotencyTTL - time.Nanosecond), wantReply: first},
		{name: "another body after the reply conflicts", key: "k-1", hash: hashB, at: t0.Add(time.Hour), wantConflict: true},
		{name: "after 24h the key is claimed afresh", key: "k-1", hash: hashA, at: t0.Add(IdempotencyTTL)},
		{name: "the renewed claim finishes", op: "finish", key: "k-1", at: t0.Add(IdempotencyTTL), status: 200, body: nil},
		{name: "the renewed reply replays", key: "k-1", hash: hashA, at: t0.Add(IdempotencyTTL + time.Hour), wantReply: renewed},
		{name: "a finish on an unknown key finds no claim", op: "finish", key: "k-unknown", at: t0, status: 200, wantErr: ErrNotClaimed},
		{name: "keys are independent", key: "k-2", hash: hashB, at: t0.Add(time.Minute)},
		{name: "k-2 answers", op: "finish", key: "k-2", at: t0.Add(time.Minute), status: 200, body: []byte("{}")},
		{name: "after 24h a key takes another body", key: "k-2", hash: hashA, at: t0.Add(time.Minute + IdempotencyTTL)},
	}
	forEachEngine(t, func(t *testing.T, s *Store) { runIdemSteps(t, s, steps) })
}

// TestIdempotencyAbandonedClaims covers requests that never finish: a released claim and a
// claim whose lease ran out (its process died) let the next request go ahead.
func TestIdempotencyAbandonedClaims(t *testing.T) {
	t.Parallel()
	hashA := model.RequestHash("PUT", "/customers/c-1", []byte(`{}`))
	hashB := model.RequestHash("PUT", "/customers/c-1", []byte(`{"a":1}`))
	steps := []idemStep{
		{name: "claim", key: "k-lease", hash: hashA, at: t0},
		{name: "within the lease it is in flight", key: "k-lease", hash: hashA, at: t0.Add(DefaultInFlightLease - time.Nanosecond), wantErr: ErrInFlight},
		{name: "past the lease it is taken over", key: "k-lease", hash: hashA, at: t0.Add(DefaultInFlightLease)},
		{name: "the new owner holds a fresh lease", key: "k-lease", hash: hashA, at: t0.Add(DefaultInFlightLease + DefaultInFlightLease/2), wantErr: ErrInFlight},
		// The first owner's process was only stuck: its late release or finish must not
		// drop or answer the claim the new owner holds.
		{name: "the old owner's release leaves the new claim", op: "release", key: "k-lease", at: t0},
		{name: "the old owner cannot finish", op: "finish", key: "k-lease", at: t0, status: 500, wantErr: ErrNotClaimed},
		{name: "still in flight for the new owner", key: "k-lease", hash: hashA, at: t0.Add(DefaultInFlightLease + DefaultInFlightLease/2), wantErr: ErrInFlight},
		{name: "the new owner finishes", op: "finish", key: "k-lease", at: t0.Add(DefaultInFlightLease), status: 200, body: []byte("ok")},
		{name: "claim to release", key: "k-release", hash: hashA, at: t0},
		{name: "release", op: "release", key: "k-release", at: t0},
		{name: "after a release even another body is claimed", key: "k-release", hash: hashB, at: t0.Add(time.Second)},
		{name: "release does not drop a stored reply", op: "finish", key: "k-release", at: t0.Add(time.Second), status: 200, body: []byte("kept")},
		{name: "release after finish", op: "release", key: "k-release", at: t0.Add(time.Second)},
		{name: "the reply is still there", key: "k-release", hash: hashB, at: t0.Add(time.Minute),
			wantReply: &model.IdempotentReply{Status: 200, Body: []byte("kept"), BodyHash: hashB, CreatedAt: t0.Add(time.Second)}},
	}
	forEachEngine(t, func(t *testing.T, s *Store) { runIdemSteps(t, s, steps) })
}

// TestIdempotencyConcurrentBegin sends one key from many goroutines at once: exactly one
// request may go ahead, every other one is told it is in flight.
func TestIdempotencyConcurrentBegin(t *testing.T) {
	t.Parallel()
	const n = 24
	hash := model.RequestHash("PUT", "/customers/c-1", []byte(`{}`))
	forEachEngine(t, func(t *testing.T, s *Store) {
		var mu sync.Mutex
		var claims, waits int
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				reply, conflict, err := s.BeginIdempotent(t.Context(), "", "k-race", hash, t0)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case errors.Is(err, ErrInFlight):
					waits++
				case err == nil && reply == nil && !conflict:
					claims++
				default:
					t.Errorf("BeginIdempotent = %+v, %v, %v", reply, conflict, err)
				}
			})
		}
		wg.Wait()
		if claims != 1 || waits != n-1 {
			t.Errorf("%d claims and %d in flight, want 1 and %d", claims, waits, n-1)
		}
	})
}

func TestPurgeIdempotent(t *testing.T) {
	t.Parallel()
	hash := model.RequestHash("PUT", "/customers/c-1", nil)
	forEachEngine(t, func(t *testing.T, s *Store) {
		for i, at := range []time.Time{t0, t0.Add(time.Hour), t0.Add(IdempotencyTTL)} {
			if _, _, err := s.BeginIdempotent(t.Context(), "", string(rune('a'+i)), hash, at); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.PurgeIdempotent(t.Context(), t0.Add(IdempotencyTTL+30*time.Minute))
		if err != nil || n != 1 {
			t.Fatalf("PurgeIdempotent = %d, %v; want 1 key", n, err)
		}
		for key, want := range map[string]bool{"a": false, "b": true, "c": true} {
			if _, found, err := s.readKey(t.Context(), key); err != nil || found != want {
				t.Errorf("key %s kept = %v (%v), want %v", key, found, err, want)
			}
		}
	})
}

func TestRequestHash(t *testing.T) {
	t.Parallel()
	base := model.RequestHash("PUT", "/customers/c-1", []byte(`{"a":1}`))
	others := map[string][32]byte{
		"another customer": model.RequestHash("PUT", "/customers/c-2", []byte(`{"a":1}`)),
		"another query":    model.RequestHash("PUT", "/customers/c-1?dry_run=true", []byte(`{"a":1}`)),
		"another body":     model.RequestHash("PUT", "/customers/c-1", []byte(`{"a":2}`)),
		"shifted parts":    model.RequestHash("PUT", "/customers/c-1{", []byte(`"a":1}`)),
	}
	for name, h := range others {
		if h == base {
			t.Errorf("%s hashes like the original", name)
		}
	}
	if model.RequestHash("PUT", "/customers/c-1", []byte(`{"a":1}`)) != base {
		t.Error("the same request hashes differently")
	}
}
