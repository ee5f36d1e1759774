package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/store/storetest"
)

// forEachEngineWith is forEachEngine on a store opened with opts.
func forEachEngineWith(t *testing.T, opts []Option, test func(t *testing.T, s *Store)) {
	t.Helper()
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s, err := Open(t.Context(), e.Fresh(t), opts...)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			test(t, s)
		})
	}
}

func TestInFlightLeaseOption(t *testing.T) {
	s, err := Open(t.Context(), "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.InFlightLease(); got != 10*time.Second {
		t.Errorf("default InFlightLease = %v, want 10s", got)
	}
	for d, want := range map[time.Duration]time.Duration{3 * time.Second: 3 * time.Second, 0: DefaultInFlightLease, -time.Second: DefaultInFlightLease} {
		s := &Store{lease: DefaultInFlightLease}
		WithInFlightLease(d)(s)
		if got := s.InFlightLease(); got != want {
			t.Errorf("WithInFlightLease(%v): %v, want %v", d, got, want)
		}
	}
}

// TestIdempotencyRenewal covers the lease a running request renews: a renewed claim is never
// taken over, however long past its first lease; one that stops being renewed is, one lease
// after its last renewal; and a renewal extends only the claim the request made.
func TestIdempotencyRenewal(t *testing.T) {
	const lease = 3 * time.Second // not the default: the store's own lease rules
	hash := model.RequestHash("PUT", "/customers/c-1", []byte(`{}`))
	other := model.RequestHash("PUT", "/customers/c-1", []byte(`{"a":1}`))
	third := lease / 3
	last := t0.Add(5 * lease) // the last renewal of the first claim
	steps := []idemStep{
		{name: "claim", key: "k", hash: hash, at: t0},
		{name: "renew after a third", op: "renew", key: "k", at: t0, now: t0.Add(third)},
		{name: "held past the first lease", key: "k", hash: hash, at: t0.Add(lease), wantErr: ErrInFlight},
		{name: "renew again", op: "renew", key: "k", at: t0, now: t0.Add(2 * third)},
		{name: "another body still conflicts", key: "k", hash: other, at: t0.Add(lease), wantConflict: true},
		{name: "renew much later", op: "renew", key: "k", at: t0, now: last},
		// A renewal with an earlier clock (another replica's, or a step back) keeps the lease.
		{name: "a late renewal does not shorten", op: "renew", key: "k", at: t0, now: t0.Add(third)},
		{name: "held to the last renewal's lease", key: "k", hash: hash, at: last.Add(lease - time.Nanosecond), wantErr: ErrInFlight},
		{name: "a renewal with another claim's time is refused", op: "renew", key: "k", at: t0.Add(time.Nanosecond), now: last, wantErr: ErrNotClaimed},
		{name: "an unknown key has no claim to renew", op: "renew", key: "k-unknown", at: t0, now: last, wantErr: ErrNotClaimed},
		{name: "unrenewed for a lease: taken over", key: "k", hash: hash, at: last.Add(lease)},
		{name: "the old owner can no longer renew", op: "renew", key: "k", at: t0, now: last.Add(lease), wantErr: ErrNotClaimed},
		{name: "nor finish", op: "finish", key: "k", at: t0, status: 200, wantErr: ErrNotClaimed},
		{name: "the new owner renews", op: "renew", key: "k", at: last.Add(lease), now: last.Add(lease + third)},
		{name: "the new owner is held", key: "k", hash: hash, at: last.Add(2*lease + third - time.Nanosecond), wantErr: ErrInFlight},
		{name: "the new owner finishes", op: "finish", key: "k", at: last.Add(lease), status: 201, body: []byte("done")},
		{name: "an answered claim is not renewed", op: "renew", key: "k", at: last.Add(lease), now: last.Add(lease + third), wantErr: ErrNotClaimed},
		{name: "the reply replays", key: "k", hash: hash, at: last.Add(time.Hour),
			wantReply: &model.IdempotentReply{Status: 201, Body: []byte("done"), BodyHash: hash, CreatedAt: t0}},
		// A lease that ran out but that no one took over is still the request's: a renewal
		// (the process was only stalled) keeps it.
		{name: "claim k-2", key: "k-2", hash: hash, at: t0},
		{name: "renew after the lease ran out", op: "renew", key: "k-2", at: t0, now: t0.Add(2 * lease)},
		{name: "k-2 is held again", key: "k-2", hash: hash, at: t0.Add(3*lease - time.Nanosecond), wantErr: ErrInFlight},
		{name: "k-2 is released", op: "release", key: "k-2", at: t0},
		{name: "a released claim is not renewed", op: "renew", key: "k-2", at: t0, now: t0.Add(2 * lease), wantErr: ErrNotClaimed},
		{name: "k-2 is free", key: "k-2", hash: other, at: t0.Add(2 * lease)},
	}
	forEachEngineWith(t, []Option{WithInFlightLease(lease)}, func(t *testing.T, s *Store) { runIdemSteps(t, s, steps) })
}

// TestIdempotencyDeadProcess simulates a process killed while it answers: it claims a key,
// renews it every third of the lease as the middleware does, and dies between two renewals.
// Its twin is told to wait while the process lives, however long that is, and gets the key
// one lease after the last renewal: within one lease of the death, not the old 5 minutes.
func TestIdempotencyDeadProcess(t *testing.T) {
	hash := model.RequestHash("PUT", "/customers/c-9", []byte(`{"a":1}`))
	forEachEngine(t, func(t *testing.T, s *Store) {
		lease := s.InFlightLease()
		begin := func(at time.Time) error {
			reply, conflict, err := s.BeginIdempotent(t.Context(), "", "k-dead", hash, at)
			if reply != nil || conflict {
				t.Fatalf("BeginIdempotent at %v = %+v, %v", at.Sub(t0), reply, conflict)
			}
			return err
		}
		if err := begin(t0); err != nil {
			t.Fatal(err)
		}
		last := t0
		for at := t0.Add(lease / 3); at.Before(t0.Add(4 * lease)); at = at.Add(lease / 3) {
			if err := s.RenewIdempotent(t.Context(), "", "k-dead", t0, at); err != nil {
				t.Fatalf("renew at %v: %v", at.Sub(t0), err)
			}
			last = at
			if err := begin(at.Add(lease / 6)); !errors.Is(err, ErrInFlight) {
				t.Fatalf("twin at %v while the process lives: %v, want in flight", at.Add(lease/6).Sub(t0), err)
			}
		}
		died := last.Add(lease / 6)
		if err := begin(last.Add(lease - time.Nanosecond)); !errors.Is(err, ErrInFlight) {
			t.Fatalf("twin within the last renewal's lease: %v, want in flight", err)
		}
		free := last.Add(lease)
		if err := begin(free); err != nil {
			t.Fatalf("twin one lease after the last renewal: %v, want the key", err)
		}
		if waited := free.Sub(died); waited > lease || waited >= legacyInFlightLease {
			t.Fatalf("the key was free %v after the process died, want at most the lease %v", waited, lease)
		} else {
			t.Logf("lease %v: the key was free %v after the process died (%v after its last renewal)", lease, waited, free.Sub(last))
		}
		// Had the process only stalled, its renewal now finds the claim gone.
		if err := s.RenewIdempotent(t.Context(), "", "k-dead", t0, free); !errors.Is(err, ErrNotClaimed) {
			t.Fatalf("the stalled owner's renewal: %v, want ErrNotClaimed", err)
		}
	})
}

// TestIdempotencyRenewalRacesTakeover renews a claim whose lease just ran out while twins
// try to take it over: either the renewal wins and every twin waits, or one twin wins and
// the renewal is refused. Never both: that would be two requests sending.
func TestIdempotencyRenewalRacesTakeover(t *testing.T) {
	const rounds, twins = 30, 4
	hash := model.RequestHash("PUT", "/customers/c-1", []byte(`{}`))
	forEachEngine(t, func(t *testing.T, s *Store) {
		expired := t0.Add(s.InFlightLease())
		var renewedWins, takeoverWins int
		for i := range rounds {
			key := fmt.Sprintf("k-%d", i)
			if _, _, err := s.BeginIdempotent(t.Context(), "", key, hash, t0); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var renewed bool
			var takeovers int
			var wg sync.WaitGroup
			wg.Go(func() {
				err := s.RenewIdempotent(t.Context(), "", key, t0, expired)
				if err != nil && !errors.Is(err, ErrNotClaimed) {
					t.Errorf("renew: %v", err)
				}
				mu.Lock()
				defer mu.Unlock()
				renewed = err == nil
			})
			for range twins {
				wg.Go(func() {
					reply, conflict, err := s.BeginIdempotent(t.Context(), "", key, hash, expired)
					if (err != nil && !errors.Is(err, ErrInFlight)) || reply != nil || conflict {
						t.Errorf("begin: %+v, %v, %v", reply, conflict, err)
					}
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						takeovers++
					}
				})
			}
			wg.Wait()
			switch {
			case renewed && takeovers == 0:
				renewedWins++
			case !renewed && takeovers == 1:
				takeoverWins++
			default:
				t.Fatalf("round %d: renewed %v and %d takeovers", i, renewed, takeovers)
			}
		}
		t.Logf("%d renewals won, %d takeovers won", renewedWins, takeoverWins)
	})
}

// TestIdempotencyCallers: each caller has keys of its own, and the caller "" keeps the keys
// stored before callers were known.
func TestIdempotencyCallers(t *testing.T) {
	hashA := model.RequestHash("PUT", "/customers/c-1", []byte(`{"a":1}`))
	hashB := model.RequestHash("PUT", "/customers/c-1", []byte(`{"b":1}`))
	steps := []idemStep{
		{name: "alice claims k", caller: "alice", key: "k", hash: hashA, at: t0},
		{name: "bob's k is another key", caller: "bob", key: "k", hash: hashB, at: t0},
		{name: "no caller's k is a third", key: "k", hash: hashA, at: t0},
		{name: "alice's twin waits", caller: "alice", key: "k", hash: hashA, at: t0.Add(time.Second), wantErr: ErrInFlight},
		{name: "bob cannot finish alice's claim under his name", op: "finish", caller: "bob", key: "k", at: t0.Add(time.Nanosecond), status: 200, wantErr: ErrNotClaimed},
		{name: "alice renews", op: "renew", caller: "alice", key: "k", at: t0, now: t0.Add(time.Second)},
		{name: "alice finishes", op: "finish", caller: "alice", key: "k", at: t0, status: 200, body: []byte("alice")},
		{name: "bob is still in flight", caller: "bob", key: "k", hash: hashB, at: t0.Add(time.Second), wantErr: ErrInFlight},
		{name: "bob releases", op: "release", caller: "bob", key: "k", at: t0},
		{name: "alice's reply stays", caller: "alice", key: "k", hash: hashA, at: t0.Add(time.Minute),
			wantReply: &model.IdempotentReply{Status: 200, Body: []byte("alice"), BodyHash: hashA, CreatedAt: t0}},
		{name: "bob's k is free", caller: "bob", key: "k", hash: hashA, at: t0.Add(time.Minute)},
		// The separator would let "a"+"b\x1fc" and "a\x1fb"+"c" share a key.
		{name: "a caller with the separator", caller: "a\x1fb", key: "c", hash: hashA, at: t0, wantErr: ErrBadIdempotencyKey},
		{name: "a key with the separator", caller: "a", key: "b\x1fc", hash: hashA, at: t0, wantErr: ErrBadIdempotencyKey},
		{name: "no renewal with the separator", op: "renew", caller: "a\x1fb", key: "c", at: t0, now: t0, wantErr: ErrBadIdempotencyKey},
		{name: "no finish with the separator", op: "finish", caller: "a", key: "b\x1fc", at: t0, status: 200, wantErr: ErrBadIdempotencyKey},
	}
	forEachEngine(t, func(t *testing.T, s *Store) {
		runIdemSteps(t, s, steps)
		if err := s.ReleaseIdempotent(t.Context(), "a\x1fb", "c", t0); !errors.Is(err, ErrBadIdempotencyKey) {
			t.Errorf("release with the separator: %v", err)
		}
		// Stored keys: the caller "" is the key as it was.
		for stored, want := range map[string]bool{"k": true, "alice\x1fk": true, "bob\x1fk": true, "alice": false} {
			if _, found, err := s.readKey(t.Context(), stored); err != nil || found != want {
				t.Errorf("stored key %q: %v (%v), want %v", stored, found, err, want)
			}
		}
	})
}

// TestIdempotencyHeldClaimOutlivesTTL: a claim still renewed is neither claimed afresh nor
// purged when its key's 24 hours pass.
func TestIdempotencyHeldClaimOutlivesTTL(t *testing.T) {
	hash := model.RequestHash("PUT", "/customers/c-1", nil)
	later := t0.Add(IdempotencyTTL + time.Hour)
	steps := []idemStep{
		{name: "claim", key: "k", hash: hash, at: t0},
		{name: "renewed a day on", op: "renew", key: "k", at: t0, now: later},
		{name: "still in flight after 24h", key: "k", hash: hash, at: later.Add(time.Second), wantErr: ErrInFlight},
	}
	forEachEngine(t, func(t *testing.T, s *Store) {
		runIdemSteps(t, s, steps)
		if n, err := s.PurgeIdempotent(t.Context(), later.Add(time.Second)); err != nil || n != 0 {
			t.Fatalf("PurgeIdempotent = %d, %v; want the held claim kept", n, err)
		}
		after := later.Add(s.InFlightLease())
		if n, err := s.PurgeIdempotent(t.Context(), after); err != nil || n != 1 {
			t.Fatalf("PurgeIdempotent once the lease ran out = %d, %v; want 1", n, err)
		}
	})
}

// Claims made before migration 00005, or by a gateway of an earlier version running beside
// this one during an upgrade, have no lease of their own and are never renewed: they hold
// for the 5 minutes that version gave them. And a claim of this version that an earlier
// version takes over holds at least as long as it did.
func TestIdempotencyLegacyClaims(t *testing.T) {
	hash := model.RequestHash("PUT", "/customers/c-1", []byte(`{}`))
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			url := e.Fresh(t)
			db := migratedTo(t, url, 4)
			// What the earlier version wrote for a claim.
			oldClaim := `INSERT INTO idempotency_keys (idem_key, body_hash, created_at, claimed_at) VALUES ($1, $2, $3, $3)`
			hexHash := fmt.Sprintf("%x", hash)
			if _, err := db.ExecContext(t.Context(), oldClaim, "k-old", hexHash, nanos(t0)); err != nil {
				t.Fatal(err)
			}
			s, err := Open(t.Context(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := db.ExecContext(t.Context(), oldClaim, "k-beside", hexHash, nanos(t0)); err != nil {
				t.Fatal(err)
			}
			runIdemSteps(t, s, []idemStep{
				{name: "a claim from before the migration holds 5 minutes", key: "k-old", hash: hash, at: t0.Add(legacyInFlightLease - time.Nanosecond), wantErr: ErrInFlight},
				{name: "and is taken over after them", key: "k-old", hash: hash, at: t0.Add(legacyInFlightLease)},
				{name: "the earlier version's claim beside this one holds 5 minutes", key: "k-beside", hash: hash, at: t0.Add(legacyInFlightLease - time.Nanosecond), wantErr: ErrInFlight},
				{name: "and is taken over after them", key: "k-beside", hash: hash, at: t0.Add(legacyInFlightLease)},
				{name: "this version claims k-new", key: "k-new", hash: hash, at: t0},
				{name: "and renews it for a minute", op: "renew", key: "k-new", at: t0, now: t0.Add(time.Minute)},
			})
			// The earlier version takes a claim over on claimed_at alone, 5 minutes after it.
			took := t0.Add(legacyInFlightLease)
			if _, err := db.ExecContext(t.Context(), `UPDATE idempotency_keys SET claimed_at = $2 WHERE idem_key = $1 AND claimed_at = $3 AND status IS NULL`,
				"k-new", nanos(took), nanos(t0)); err != nil {
				t.Fatal(err)
			}
			held := time.Minute + s.InFlightLease() // the lease the claim had grown to
			runIdemSteps(t, s, []idemStep{
				{name: "the earlier version's takeover holds as long as the claim did", key: "k-new", hash: hash, at: took.Add(held - time.Nanosecond), wantErr: ErrInFlight},
				{name: "and is free after it", key: "k-new", hash: hash, at: took.Add(held)},
			})
		})
	}
}
