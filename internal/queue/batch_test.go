package queue

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendorsim"
)

// writeAsync writes an update of customer as the gateway does for Prefer: respond-async:
// its delivery to LadiFlow queued, due now, with the update's record.
func (b *bench) writeAsync(q *Queue, customer, body string, seq int64) {
	b.t.Helper()
	if _, err := q.WriteUpdate(b.t.Context(), b.asyncUpdate(customer, body, seq)); err != nil {
		b.t.Fatal(err)
	}
}

// asyncUpdate is what writeAsync writes.
func (b *bench) asyncUpdate(customer, body string, seq int64) model.UpdateWrites {
	b.t.Helper()
	return model.UpdateWrites{CustomerID: customer, Queue: []model.QueueItem{{Vendor: ladiFlow, At: time.Now()}}, Fields: b.fields(body, seq),
		Origin: model.Origin{RequestID: fmt.Sprintf("req-%d", seq)},
		Record: func(model.UpdateWritten) (model.AuditEvent, model.UpdateRecord, map[model.Vendor]model.PendingFields) {
			return model.AuditEvent{OccurredAt: time.Now(), Kind: model.KindCustomerUpdate, CustomerID: customer},
				model.UpdateRecord{UpdateResult: model.UpdateResult{CustomerID: customer}}, nil
		}}
}

// jobs lists q's jobs of kind in states.
func (b *bench) jobs(q *Queue, kind string, states ...rivertype.JobState) []*rivertype.JobRow {
	b.t.Helper()
	params := river.NewJobListParams().Kinds(kind).First(1000)
	if len(states) > 0 {
		params = params.States(states...)
	}
	res, err := q.client.JobList(b.t.Context(), params)
	if err != nil {
		b.t.Fatal(err)
	}
	return res.Jobs
}

// Updates queued at once, due now, are sent by their batches' jobs: one job per batch,
// named by every delivery it owns, none of their own; each completes once it has sent
// all it owns.
func TestDeliveriesDueNowAreSentByTheirBatchsJob(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, b *bench) {
		const n = 6
		customers := make([]string, n)
		for i := range customers {
			customers[i] = fmt.Sprintf("c-%d", i)
		}
		b.refs(customers...)
		q, start := b.heldQueue(b.store, testConfig())
		var wg sync.WaitGroup
		for i, c := range customers {
			wg.Go(func() { b.writeAsync(q, c, fmt.Sprintf(`{"email":"a%d@example.com"}`, i), int64(i+1)) })
		}
		wg.Wait()
		owners := map[int64]bool{}
		for _, c := range customers {
			p, ok, err := b.store.PendingDelivery(t.Context(), c, ladiFlow)
			if err != nil || !ok || p.BatchJob == 0 {
				t.Fatalf("%s's delivery: %+v %v %v, want one a batch's job owns", c, p, ok, err)
			}
			owners[p.BatchJob] = true
		}
		batches := b.jobs(q, batchArgs{}.Kind())
		if len(batches) != len(owners) || len(b.jobs(q, deliverArgs{}.Kind())) != 0 {
			t.Fatalf("%d batch jobs for %d owners, and deliveries' own jobs: want one per owner, none of their own", len(batches), len(owners))
		}
		for _, j := range batches {
			if !owners[j.ID] {
				t.Fatalf("batch job %d owns nothing", j.ID)
			}
		}
		start()
		b.drained(waitLimit)
		for i, c := range customers {
			if got := b.ladiflow(c)["email"]; got != fmt.Sprintf("a%d@example.com", i) {
				t.Errorf("LadiFlow holds %v for %s", got, c)
			}
			if evs := b.deliveryEvents(c); len(evs) != 1 {
				t.Errorf("%s: %d delivery events, want 1", c, len(evs))
			}
		}
		b.settled(q)
		if done := b.jobs(q, batchArgs{}.Kind(), rivertype.JobStateCompleted); len(done) != len(owners) {
			t.Fatalf("%d batch jobs completed, want %d", len(done), len(owners))
		}
	})
}

// A delivery a batch's job could not send is handed to a job of its own, which retries it
// with the queue's backoff until the vendor is back; the batch's job completes meanwhile.
func TestDeliveryABatchCouldNotSendIsRetriedByItsOwnJob(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, b *bench) {
		q := b.oneCustomer(vendorsim.Fault{Mode: vendorsim.ModeHTTP500, Count: -1})
		b.writeAsync(q, "c-1", `{"email":"a@example.com"}`, 1)
		b.refused(2) // the batch's attempt, then its own job's first
		b.waitFor(waitLimit, "the batch's job still live", func() bool {
			return len(b.jobs(q, batchArgs{}.Kind(), rivertype.JobStateCompleted)) == 1
		})
		p, ok, err := b.store.PendingDelivery(t.Context(), "c-1", ladiFlow)
		if err != nil || !ok || p.BatchJob != 0 || p.Attempts < 1 {
			t.Fatalf("c-1's delivery: %+v %v %v, want it its own job's, its attempts counted", p, ok, err)
		}
		b.sim.SetFault(ladiFlow, vendorsim.Fault{})
		b.drained(waitLimit)
		if got := b.ladiflow("c-1")["email"]; got != "a@example.com" {
			t.Fatalf("LadiFlow holds %v", got)
		}
		b.settled(q)
	})
}

// An update merged into a delivery while its batch's job is sending it is sent too, by
// the same job (none is inserted for it), after the first: the newest wins.
func TestUpdateMergedWhileABatchSendsIsSentToo(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, b *bench) {
		b.gate.hold()
		q := b.oneCustomer(vendorsim.Fault{})
		b.writeAsync(q, "c-1", `{"email":"first@example.com"}`, 1)
		release := b.onTheWire()
		b.writeAsync(q, "c-1", `{"email":"second@example.com"}`, 2)
		if n := len(b.jobs(q, deliverArgs{}.Kind())) + len(b.jobs(q, batchArgs{}.Kind())); n != 1 {
			t.Fatalf("%d jobs, want the batch's one", n)
		}
		release()
		b.drained(waitLimit)
		if got := b.ladiflow("c-1")["email"]; got != "second@example.com" {
			t.Fatalf("LadiFlow holds %v, want the second email", got)
		}
		if got := len(b.sim.Received(ladiFlow)); got != 2 {
			t.Fatalf("LadiFlow received %d requests, want the first update's, then the second's", got)
		}
	})
}

// A delivery's own job, inserted for a delivery a batch's job owns (a request whose
// attempt failed merged into it), sends nothing: the batch's job sends it, once.
func TestOwnJobLeavesWhatABatchOwns(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, b *bench) {
		b.refs("c-1")
		q, start := b.heldQueue(b.store, testConfig())
		b.writeAsync(q, "c-1", `{"email":"first@example.com"}`, 1)
		b.enqueue(q, "c-1", `{"email":"second@example.com"}`, 2)
		if n := len(b.jobs(q, deliverArgs{}.Kind())); n != 1 {
			t.Fatalf("%d own jobs, want the enqueue's", n)
		}
		start()
		b.drained(waitLimit)
		b.settled(q)
		if got := b.ladiflow("c-1")["email"]; got != "second@example.com" {
			t.Fatalf("LadiFlow holds %v, want the second email", got)
		}
		if got := len(b.sim.Received(ladiFlow)); got != 1 {
			t.Fatalf("LadiFlow received %d requests, want one, the batch's", got)
		}
	})
}

// A batch's job out of time to start attempts runs again at once with what it still owns,
// and gets on each run: here each run may start one attempt only, and every delivery of a
// job that owns several still goes out.
func TestBatchsJobOutOfTimeRunsAgain(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, b *bench) {
		q, start := b.heldQueue(b.store, testConfig())
		q.batchBudget = 0
		customers := b.writeOwnedByOneJob(q, 3)
		start()
		b.drained(waitLimit)
		for _, c := range customers {
			if got := b.ladiflow(c)["email"]; got != c+"@example.com" {
				t.Errorf("LadiFlow holds %v for %s", got, c)
			}
		}
		b.settled(q)
	})
}

// writeOwnedByOneJob writes an async update for each of n new customers through q's
// store, one transaction each, with every delivery owned by the one batch's job the first
// inserted: as if they had all been written in one batch.
func (b *bench) writeOwnedByOneJob(q *Queue, n int) []string {
	b.t.Helper()
	var job int64
	jobs := *q.jobs
	jobs.InsertBatch = func(ctx context.Context, tx *sql.Tx) (int64, error) {
		if job == 0 {
			id, err := q.insertBatch(ctx, tx)
			if err != nil {
				return 0, err
			}
			job = id
		}
		return job, nil
	}
	customers := make([]string, n)
	for i := range customers {
		customers[i] = fmt.Sprintf("c-%d", i)
		b.refs(customers[i])
		w := b.asyncUpdate(customers[i], fmt.Sprintf(`{"email":"%s@example.com"}`, customers[i]), 1)
		if _, err := b.store.WriteQueuedUpdate(b.t.Context(), w, &jobs); err != nil {
			b.t.Fatal(err)
		}
	}
	if owned, err := b.store.BatchDeliveries(b.t.Context(), job, n+1); err != nil || len(owned) != n {
		b.t.Fatalf("the batch's job owns %d deliveries (%v), want %d", len(owned), err, n)
	}
	return customers
}

// A batch's job sends at most Workers of its deliveries at once, each holding one of the
// process's send slots while it is at the vendor; the attempts waiting for a slot hold
// none. It runs attemptsPerSend attempts for each slot, or one while requests are writing
// updates.
func TestOnlyWorkersDeliveriesAreSentAtOnce(t *testing.T) {
	t.Parallel()
	for _, busy := range []bool{false, true} {
		t.Run(fmt.Sprintf("busy=%t", busy), func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, b *bench) {
				cfg := testConfig()
				cfg.Workers = 2
				cfg.SendTimeout = waitLimit // no request held at LadiFlow is given up meanwhile
				q, start := b.heldQueue(b.store, cfg)
				q.busy = func() bool { return busy }
				customers := b.writeOwnedByOneJob(q, attemptsPerSend*cfg.Workers)
				want := len(customers) // every attempt started, two of them sending
				if busy {
					want = cfg.Workers
				}
				b.gate.hold()
				start()
				t.Cleanup(b.gate.open) // before the queue stops, which waits for its sends
				b.waitFor(waitLimit, "the attempts did not start", func() bool {
					return b.gate.heldCount() >= cfg.Workers && len(q.attempts) >= want
				})
				if held, sending, running := b.gate.heldCount(), len(q.sends), len(q.attempts); held != cfg.Workers || sending != held || running != want {
					t.Fatalf("%d requests at LadiFlow, %d send slots taken and %d attempts running, want %d, %d and %d",
						held, sending, running, cfg.Workers, cfg.Workers, want)
				}
				b.gate.open()
				b.drained(waitLimit)
				b.settled(q)
				if got := len(b.sim.Received(ladiFlow)); got != len(customers) {
					t.Errorf("LadiFlow received %d requests, want one for each of %d customers", got, len(customers))
				}
			})
		})
	}
}
