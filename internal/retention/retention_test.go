package retention

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/store"
)

// fakeStore records the purges asked of it.
type fakeStore struct {
	mu    sync.Mutex
	calls []time.Time
	keeps []time.Duration
}

func (f *fakeStore) Purge(_ context.Context, now time.Time, keep time.Duration) (store.Purged, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.keeps = append(f.calls, now), append(f.keeps, keep)
	return store.Purged{Events: 1}, nil
}

func (f *fakeStore) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// TestPurgerRunsUntilStopped: a started purger purges at once, with its clock and its
// retention, then again every interval; after Stop it purges no more.
func TestPurgerRunsUntilStopped(t *testing.T) {
	t.Parallel()
	st := &fakeStore{}
	clock := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	p := New(st, Config{Keep: 90 * 24 * time.Hour, Interval: 5 * time.Millisecond, Now: func() time.Time { return clock }}, zerolog.Nop())
	p.Start(t.Context())
	for deadline := time.Now().Add(10 * time.Second); st.count() < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("%d purges in 10 s, want 3", st.count())
		}
		time.Sleep(time.Millisecond) // polling, not waiting a fixed time
	}
	p.Stop()
	stopped := st.count()
	st.mu.Lock()
	for i := range st.calls {
		if !st.calls[i].Equal(clock) || st.keeps[i] != 90*24*time.Hour {
			t.Errorf("purge %d at %v keeping %v", i, st.calls[i], st.keeps[i])
		}
	}
	st.mu.Unlock()
	// Stop has returned: the loop is over, so no purge can follow.
	p.Purge(context.Background()) // one by hand still works
	if st.count() != stopped+1 {
		t.Errorf("purges after Stop: %d, want only the one asked", st.count()-stopped)
	}
}

func TestInterval(t *testing.T) {
	t.Parallel()
	for keep, want := range map[time.Duration]time.Duration{
		90 * 24 * time.Hour: time.Hour,
		2 * time.Hour:       5 * time.Minute,
		time.Minute:         2500 * time.Millisecond,
		10 * time.Second:    time.Second,
	} {
		if got := Interval(keep); got != want {
			t.Errorf("Interval(%v) = %v, want %v", keep, got, want)
		}
	}
}
