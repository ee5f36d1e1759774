package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// batchJobs is a queue's Jobs that notes the jobs asked for: each batch's job gets the
// next id from 101, and the deliveries' own jobs are listed.
type batchJobs struct {
	mu      sync.Mutex
	batches int64
	own     []Job
}

func (j *batchJobs) jobs() *Jobs {
	return &Jobs{MaxAge: time.Hour, Now: time.Now,
		Insert: func(_ context.Context, _ *sql.Tx, js []Job) error {
			j.mu.Lock()
			defer j.mu.Unlock()
			j.own = append(j.own, js...)
			return nil
		},
		InsertBatch: func(context.Context, *sql.Tx) (int64, error) {
			j.mu.Lock()
			defer j.mu.Unlock()
			j.batches++
			return 100 + j.batches, nil
		}}
}

// queueUpdate writes an update of customer c that queues an email at LadiFlow, first
// tried at at.
func queueUpdate(t *testing.T, s *Store, jobs *Jobs, c string, seq int64, at time.Time) error {
	t.Helper()
	w := model.UpdateWrites{CustomerID: c, Queue: []model.QueueItem{{Vendor: ladiFlow, At: at}},
		Fields: fieldsOf(t, fmt.Sprintf(`{"email":"a%d@example.com"}`, seq), seq),
		Record: func(model.UpdateWritten) (model.AuditEvent, model.UpdateRecord, map[model.Vendor]model.PendingFields) {
			return groupEvent(c), model.UpdateRecord{UpdateResult: model.UpdateResult{CustomerID: c}}, nil
		}}
	_, err := s.WriteQueuedUpdate(context.Background(), w, jobs)
	return err
}

func pendingOf(t *testing.T, s *Store, c string) Pending {
	t.Helper()
	p, ok, err := s.PendingDelivery(t.Context(), c, ladiFlow)
	if err != nil || !ok {
		t.Fatalf("%s's delivery: %v %v", c, ok, err)
	}
	return p
}

// The deliveries due now that one batch of updates makes are owned by one job, the
// batch's: two batches, two jobs, and no job of their own for any of them.
func TestDeliveriesDueNowShareTheirBatchsJob(t *testing.T) {
	t.Parallel()
	s, _, hold := heldWriter(t)
	var noted batchJobs
	jobs := noted.jobs()
	errs := inTwoBatches(t, s, 4, func(i int) error {
		return queueUpdate(t, s, jobs, fmt.Sprintf("c-%d", i), int64(i+1), time.Now())
	}, hold())
	for i, err := range errs {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if noted.batches != 2 || len(noted.own) != 0 {
		t.Fatalf("%d batch jobs and own jobs %v, want 2 and none", noted.batches, noted.own)
	}
	if got := pendingOf(t, s, "c-0").BatchJob; got != 101 {
		t.Errorf("the first batch's delivery is owned by %d, want 101", got)
	}
	owned, err := s.BatchDeliveries(t.Context(), 102, 10)
	if err != nil || len(owned) != 3 {
		t.Fatalf("job 102 owns %d deliveries (%v), want the second batch's 3", len(owned), err)
	}
	for i, p := range owned {
		if want := fmt.Sprintf("c-%d", i+1); p.CustomerID != want || p.BatchJob != 102 {
			t.Errorf("job 102's delivery %d: %s owned by %d, want %s", i, p.CustomerID, p.BatchJob, want)
		}
	}
}

// Who owns a delivery is settled when it is made: an update merged into one a batch's
// job owns asks for no job and leaves it that job's; one due later (a first retry) gets a
// job of its own, and so does an update merged into such a delivery.
func TestADeliveryKeepsTheJobItWasMadeWith(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		var noted batchJobs
		jobs := noted.jobs()
		if err := queueUpdate(t, s, jobs, "c-1", 1, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := queueUpdate(t, s, jobs, "c-1", 2, time.Now()); err != nil {
			t.Fatal(err)
		}
		if p := pendingOf(t, s, "c-1"); p.BatchJob != 101 || len(p.Fields) != 1 || p.Fields[0].Seq != 2 {
			t.Fatalf("c-1 after a second update: %+v, want job 101's, the newer email", p)
		}
		later := time.Now().Add(time.Minute)
		for seq := int64(1); seq <= 2; seq++ {
			if err := queueUpdate(t, s, jobs, "c-2", seq, later); err != nil {
				t.Fatal(err)
			}
		}
		if p := pendingOf(t, s, "c-2"); p.BatchJob != 0 {
			t.Fatalf("a delivery first tried later is owned by %d, want its own job", p.BatchJob)
		}
		if noted.batches != 1 || len(noted.own) != 2 || noted.own[0].CustomerID != "c-2" || !noted.own[0].At.Equal(later) {
			t.Fatalf("%d batch jobs and own jobs %v, want one, and c-2's own twice at %v", noted.batches, noted.own, later)
		}
	})
}

// A batch's job completes only when it owns nothing; a delivery it could not send is
// handed to a job of its own at the version it sent, with the attempt counted, and a
// delivery's own job takes one a batch's job owns for nothing to send.
func TestABatchsJobHandsOverWhatFailed(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		var noted batchJobs
		if err := queueUpdate(t, s, noted.jobs(), "c-1", 1, time.Now()); err != nil {
			t.Fatal(err)
		}
		p := pendingOf(t, s, "c-1")
		ran := false
		waiting, err := s.FinishIfNothingPending(ctx, "c-1", ladiFlow, func(*sql.Tx) error { ran = true; return nil })
		if err != nil || waiting || !ran {
			t.Fatalf("the delivery's own job on one job 101 owns: waiting %v, ran %v, %v; want nothing of its own", waiting, ran, err)
		}
		ran = false
		if waiting, err := s.FinishBatch(ctx, p.BatchJob, func(*sql.Tx) error { ran = true; return nil }); err != nil || !waiting || ran {
			t.Fatalf("finish job 101 owning c-1: waiting %v, ran %v, %v", waiting, ran, err)
		}
		if handed, err := s.GiveToOwnJob(ctx, "c-1", ladiFlow, p.BatchJob, p.Version-1, "boom", func(*sql.Tx) error { ran = true; return nil }); err != nil || handed || ran {
			t.Fatalf("hand over an older version: handed %v, ran %v, %v", handed, ran, err)
		}
		if handed, err := s.GiveToOwnJob(ctx, "c-1", ladiFlow, p.BatchJob, p.Version, "boom", func(*sql.Tx) error { ran = true; return nil }); err != nil || !handed || !ran {
			t.Fatalf("hand over: handed %v, ran %v, %v", handed, ran, err)
		}
		if got := pendingOf(t, s, "c-1"); got.BatchJob != 0 || got.Attempts != 1 || got.LastError != "boom" || got.Version != p.Version {
			t.Fatalf("handed over: %+v, want its own job's, one attempt, the reason kept", got)
		}
		if waiting, err := s.FinishIfNothingPending(ctx, "c-1", ladiFlow, func(*sql.Tx) error { return nil }); err != nil || !waiting {
			t.Fatalf("the delivery's own job after the hand-over: waiting %v, %v", waiting, err)
		}
		ran = false
		if waiting, err := s.FinishBatch(ctx, p.BatchJob, func(*sql.Tx) error { ran = true; return nil }); err != nil || waiting || !ran {
			t.Fatalf("finish job 101 owning nothing: waiting %v, ran %v, %v", waiting, ran, err)
		}
	})
}

// The queue learns from the store whether requests are writing updates, to give them the
// writer first: a request's write of an update is seen, and the queue's own writes (a
// delivery finished) are not.
func TestUpdatesBeingWrittenAreSeen(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		var noted batchJobs
		before := time.Now()
		if s.UpdatesWrittenSince(before) {
			t.Fatal("an update is being written before any was")
		}
		if err := queueUpdate(t, s, noted.jobs(), "c-1", 1, time.Now()); err != nil {
			t.Fatal(err)
		}
		if !s.UpdatesWrittenSince(before) {
			t.Fatal("an update written is not seen")
		}
		after := time.Now()
		p := pendingOf(t, s, "c-1")
		if _, err := s.FinishDelivery(t.Context(), "c-1", ladiFlow, p.Version, p.Fields, func(*sql.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if s.UpdatesWrittenSince(after) {
			t.Error("a finished delivery counts as an update being written")
		}
	})
}
