package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// groupEvent is a customer_update event of customer c.
func groupEvent(c string) model.AuditEvent {
	return model.AuditEvent{OccurredAt: time.Now(), Kind: model.KindCustomerUpdate, CustomerID: c, Summary: "customer update"}
}

// groupEvents are n customer_update events, of customers c-0 to c-<n-1>.
func groupEvents(n int) []model.AuditEvent {
	events := make([]model.AuditEvent, n)
	for i := range events {
		events[i] = groupEvent(fmt.Sprintf("c-%d", i))
	}
	return events
}

// openCounting opens the store at url, counting its committed transactions.
func openCounting(t *testing.T, url string) (*Store, *atomic.Int64) {
	t.Helper()
	var commits atomic.Int64
	s, err := Open(t.Context(), url, WithTxObserver(func(_ time.Duration, committed bool) {
		if committed {
			commits.Add(1)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, &commits
}

// heldWriter opens the SQLite store at a fresh database, counting its committed
// transactions, and answers it with a function that holds its one writer connection until
// the function it answers is called: the committer then waits on it with a batch.
func heldWriter(t *testing.T) (*Store, *atomic.Int64, func() (release func())) {
	t.Helper()
	s, commits := openCounting(t, templates.SQLite(t))
	hold := func() func() {
		conn, err := s.w.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return func() { _ = conn.Close() }
	}
	return s, commits, hold
}

// waitFor checks cond every millisecond until it holds, failing the test naming what
// after ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// inTwoBatches runs write(i) for i in 0..n-1 and answers each one's error: the first
// alone, taken by the committer, which then waits for the writer held until release; then
// the others, which wait in the committers' channel meanwhile: the writes handed over while
// a batch commits are the next batch.
func inTwoBatches(t *testing.T, s *Store, n int, write func(i int) error, release func()) []error {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = write(i)
		}()
		if i == 0 {
			// database/sql counts the committer's wait for the held connection.
			waitFor(t, "the committer waiting for the writer", func() bool { return s.w.Stats().WaitCount > 0 })
		}
	}
	waitFor(t, "the other writes waiting", func() bool { return len(s.group.ops) == n-1 })
	release()
	wg.Wait()
	return errs
}

// recordAll records an update for each of events, in two batches (inTwoBatches).
func recordAll(t *testing.T, s *Store, events []model.AuditEvent, release func()) []error {
	t.Helper()
	return inTwoBatches(t, s, len(events), func(i int) error {
		e := events[i]
		return s.RecordUpdate(context.Background(), e, model.UpdateRecord{UpdateResult: model.UpdateResult{CustomerID: e.CustomerID}}, nil)
	}, release)
}

// Writes that arrive while a batch commits are committed together, in one transaction,
// and each is kept.
func TestConcurrentWritesCommitTogether(t *testing.T) {
	t.Parallel()
	s, commits, hold := heldWriter(t)
	events := groupEvents(20)
	for i, err := range recordAll(t, s, events, hold()) {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if n := commits.Load(); n != 2 {
		t.Errorf("%d writes took %d transactions, want the first one's and one for the rest", len(events), n)
	}
	got, err := s.Events(t.Context(), model.Window{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)})
	if err != nil || len(got) != len(events) {
		t.Fatalf("%d events kept (%v), want %d", len(got), err, len(events))
	}
}

// One write the store refuses fails alone: the others of its batch are committed.
func TestAFailedWriteFailsAlone(t *testing.T) {
	t.Parallel()
	s, _, hold := heldWriter(t)
	events := groupEvents(8)
	events[5].Kind = "" // the store refuses an event without a kind
	errs := recordAll(t, s, events, hold())
	for i, err := range errs {
		if (err != nil) != (i == 5) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	got, err := s.Events(t.Context(), model.Window{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)})
	if err != nil || len(got) != len(events)-1 {
		t.Fatalf("%d events kept (%v), want %d", len(got), err, len(events)-1)
	}
}

// A closed store turns writes away; the writes it took before are kept.
func TestWritesAfterCloseAreRefused(t *testing.T) {
	t.Parallel()
	s := openStore(t, templates.SQLite(t))
	if err := s.RecordUpdate(t.Context(), groupEvent("c-1"), model.UpdateRecord{}, nil); err != nil {
		t.Fatal(err)
	}
	s.stopCommitters()
	err := s.RecordUpdate(t.Context(), groupEvent("c-2"), model.UpdateRecord{}, nil)
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("a write after Close: %v, want ErrClosed", err)
	}
}

// The queue's jobs for the deliveries of a batch's writes are inserted together, once per
// customer and vendor: two updates of one customer queued at one vendor make one job, the
// first one's.
func TestJobsOfABatchAreInsertedTogether(t *testing.T) {
	t.Parallel()
	s, _, hold := heldWriter(t)
	var mu sync.Mutex
	var inserts [][]Job
	jobs := &Jobs{MaxAge: time.Hour, Now: time.Now, Insert: func(_ context.Context, _ *sql.Tx, js []Job) error {
		mu.Lock()
		defer mu.Unlock()
		inserts = append(inserts, slices.Clone(js))
		return nil
	}}
	customers := []string{"c-0", "c-1", "c-2", "c-3", "c-1"}
	first := time.Now()
	errs := inTwoBatches(t, s, len(customers), func(i int) error {
		c := customers[i]
		at := first.Add(time.Duration(i) * time.Second)
		w := model.UpdateWrites{CustomerID: c, Queue: []model.QueueItem{{Vendor: ladiFlow, At: at}},
			Fields: fieldsOf(t, fmt.Sprintf(`{"email":"a%d@example.com"}`, i), int64(i+1)),
			Record: func(model.UpdateWritten) (model.AuditEvent, model.UpdateRecord, map[model.Vendor]model.PendingFields) {
				return groupEvent(c), model.UpdateRecord{UpdateResult: model.UpdateResult{CustomerID: c}}, nil
			}}
		if i == 4 {
			// After c-1's first write in the channel: the batch keeps their order.
			waitFor(t, "c-1's first write waiting", func() bool { return len(s.group.ops) == 3 })
		}
		_, err := s.WriteQueuedUpdate(context.Background(), w, jobs)
		return err
	}, hold())
	for i, err := range errs {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if len(inserts) != 2 || len(inserts[0]) != 1 || len(inserts[1]) != 3 {
		t.Fatalf("job inserts %v, want the first write's alone, then one for c-1, c-2 and c-3", inserts)
	}
	for _, j := range inserts[1] {
		if j.CustomerID == "c-1" && !j.At.Equal(first.Add(time.Second)) {
			t.Errorf("c-1's job is first tried at %v, want its first write's %v", j.At, first.Add(time.Second))
		}
	}
	p, ok, err := s.PendingDelivery(t.Context(), "c-1", ladiFlow)
	if err != nil || !ok || len(p.Fields) != 1 || p.Fields[0].Seq != 5 {
		t.Fatalf("c-1's delivery: %+v %v %v, want both writes merged, the newer email", p, ok, err)
	}
}

// Queued deliveries that finish while a batch commits (the queue's workers, draining) are
// finished together, in one transaction: each removes its own row, and a finish whose row
// moved on meanwhile removes nothing and says so, without failing the others.
func TestFinishesCommitTogether(t *testing.T) {
	t.Parallel()
	s, commits, hold := heldWriter(t)
	const n = 6
	versions := make([]int64, n)
	for i := range n {
		p, err := s.QueueDelivery(t.Context(), fmt.Sprintf("c-%d", i), ladiFlow, fieldsOf(t, `{"email":"a@example.com"}`, 1), model.Origin{UpdateID: fmt.Sprintf("u-%d", i)}, time.Now(), time.Hour, noJob)
		if err != nil {
			t.Fatal(err)
		}
		versions[i] = p.Version
	}
	const moved = 3 // finished at a version an update merged over
	before := commits.Load()
	ran := make([]bool, n)
	done := make([]bool, n)
	errs := inTwoBatches(t, s, n, func(i int) error {
		version := versions[i]
		if i == moved {
			version--
		}
		var err error
		done[i], err = s.FinishDelivery(context.Background(), fmt.Sprintf("c-%d", i), ladiFlow, version, fieldsOf(t, `{"email":"a@example.com"}`, 1),
			func(*sql.Tx) error { ran[i] = true; return nil })
		return err
	}, hold())
	for i, err := range errs {
		if err != nil || done[i] != (i != moved) || ran[i] != (i != moved) {
			t.Errorf("finish %d: done %v, ran %v, %v", i, done[i], ran[i], err)
		}
		_, waiting, err := s.PendingDelivery(t.Context(), fmt.Sprintf("c-%d", i), ladiFlow)
		if err != nil || waiting != (i == moved) {
			t.Errorf("c-%d's delivery still waiting: %v (%v)", i, waiting, err)
		}
	}
	if got := commits.Load() - before; got != 2 {
		t.Errorf("%d finishes took %d transactions, want the first one's and one for the rest", n, got)
	}
}
