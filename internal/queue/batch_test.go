package queue

import (
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
	b.write(q, b.asyncUpdate(customer, body, seq))
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

// write writes w through q, failing the test (from any goroutine) when it fails.
func (b *bench) write(q *Queue, w model.UpdateWrites) {
	if _, err := q.WriteUpdate(b.t.Context(), w); err != nil {
		b.t.Error(err)
	}
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
		// Updates written at once share a batch when they meet in a committer, so each
		// round's are built first and then handed over together, more of them than
		// PostgreSQL has committers: written until one job owns several.
		var customers []string
		for round := 0; round < 20 && mostOwned(b, customers) < 2; round++ {
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range 16 {
				c := fmt.Sprintf("c-%d-%d", round, i)
				customers = append(customers, c)
				b.refs(c)
				w := b.asyncUpdate(c, fmt.Sprintf(`{"email":"%s@example.com"}`, c), 1)
				wg.Go(func() { <-start; b.write(q, w) })
			}
			close(start)
			wg.Wait()
		}
		if n := mostOwned(b, customers); n < 2 {
			t.Fatalf("no batch's job owns more than %d deliveries", n)
		}
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

// mostOwned answers the most of customers' waiting deliveries one batch's job owns.
func mostOwned(b *bench, customers []string) int {
	b.t.Helper()
	owned := map[int64]int{}
	most := 0
	for _, c := range customers {
		p, ok, err := b.store.PendingDelivery(b.t.Context(), c, ladiFlow)
		if err != nil {
			b.t.Fatal(err)
		}
		if ok && p.BatchJob != 0 {
			owned[p.BatchJob]++
			most = max(most, owned[p.BatchJob])
		}
	}
	return most
}
