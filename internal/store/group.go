package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync"
	"time"
)

// Group commit: the transactions that record requests (an update's refs, queued deliveries,
// event and record) are handed to a committer, which runs every one handed to it meanwhile
// in one transaction. While a batch commits the next one gathers, so a busy gateway commits
// once for many updates and an idle one commits each at once, with no timer to wait out.
// Each writer still learns its own outcome: when a batch fails, its transactions are run
// again one by one, so one update's failure is never another's.

// maxBatch bounds the transactions one commit takes: a batch's locks are held until its
// commit, and a long batch would hold them for others.
const maxBatch = 64

// batchTimeout bounds one batch, its reruns included: each writer waits for its outcome
// once handed over, however its own context ends, so that it never answers "failed" for
// something that was committed.
const batchTimeout = 10 * time.Second

// ErrClosed is the answer of a write handed to a store that is closing.
var ErrClosed = errors.New("store: closed")

type groupOp struct {
	// key orders a batch: the customer, or for a write of one vendor's delivery the
	// customer, \x1f and the vendor, so that a customer's writes stay together and sort
	// after its updates. Transactions of one key keep their order, and every batch takes the
	// locks of different keys in one order, so that concurrent batches on PostgreSQL never
	// wait on each other the other way round.
	key string
	fn  func(ctx context.Context, b *batch) error
	err chan error
}

// batch is one transaction of group commit, and the queue's jobs its writes asked for:
// they are inserted together, in one statement per queue, before it commits.
type batch struct {
	tx   *sql.Tx
	jobs map[*Jobs][]Job
	// batchJobs is the job each queue inserted to own the batch's deliveries due now.
	batchJobs map[*Jobs]int64
}

// batchJob answers the job that owns the deliveries due now that the batch's writes make
// for js's queue, inserting it with the first.
func (b *batch) batchJob(ctx context.Context, js *Jobs) (int64, error) {
	if id, ok := b.batchJobs[js]; ok {
		return id, nil
	}
	id, err := js.InsertBatch(ctx, b.tx)
	if err != nil {
		return 0, err
	}
	if b.batchJobs == nil {
		b.batchJobs = map[*Jobs]int64{}
	}
	b.batchJobs[js] = id
	return id, nil
}

// insertJobs has js's jobs inserted with the batch's.
func (b *batch) insertJobs(js *Jobs, jobs ...Job) {
	if b.jobs == nil {
		b.jobs = map[*Jobs][]Job{}
	}
	b.jobs[js] = append(b.jobs[js], jobs...)
}

// flush inserts the jobs asked for, once per customer and vendor: the first asked wins, as
// it would have had each write inserted its own (the job is unique per customer and
// vendor, and the later inserts would have found it there).
func (b *batch) flush(ctx context.Context) error {
	for js, jobs := range b.jobs {
		seen := make(map[Job]bool, len(jobs))
		unique := jobs[:0:0]
		for _, j := range jobs {
			if k := (Job{CustomerID: j.CustomerID, Vendor: j.Vendor}); !seen[k] {
				seen[k] = true
				unique = append(unique, j)
			}
		}
		if err := js.Insert(ctx, b.tx, unique); err != nil {
			return err
		}
	}
	return nil
}

// runBatch runs ops in tx, then inserts the jobs they asked for.
func runBatch(ctx context.Context, tx *sql.Tx, ops ...*groupOp) error {
	b := &batch{tx: tx}
	for _, op := range ops {
		if err := op.fn(ctx, b); err != nil {
			return err
		}
	}
	return b.flush(ctx)
}

type committer struct {
	// mu guards closed: a write is handed over only while the committers run, and Close
	// waits for the writes being handed over.
	mu     sync.RWMutex
	closed bool
	ops    chan *groupOp
	done   sync.WaitGroup
}

// startCommitters starts n committers: one for SQLite's single writer, a few for
// PostgreSQL's pool.
func (s *Store) startCommitters(n int) {
	// Buffered: a write waiting for the batch being committed waits in the channel.
	s.group = &committer{ops: make(chan *groupOp, maxBatch)}
	for range n {
		s.group.done.Add(1)
		go func() {
			defer s.group.done.Done()
			for first := range s.group.ops {
				s.commitBatch(s.gather(first))
			}
		}()
	}
}

// stopCommitters turns new writes away and waits for those handed over to be committed.
func (s *Store) stopCommitters() {
	if s.group == nil {
		return
	}
	s.group.mu.Lock()
	if !s.group.closed {
		s.group.closed = true
		close(s.group.ops)
	}
	s.group.mu.Unlock()
	s.group.done.Wait()
}

// gather takes, after first, every write already waiting (up to maxBatch).
func (s *Store) gather(first *groupOp) []*groupOp {
	batch := []*groupOp{first}
	for len(batch) < maxBatch {
		select {
		case op, ok := <-s.group.ops:
			if !ok {
				return batch
			}
			batch = append(batch, op)
		default:
			return batch
		}
	}
	return batch
}

// commitBatch runs batch in one transaction; when it fails, each of its writes alone.
func (s *Store) commitBatch(batch []*groupOp) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	slices.SortStableFunc(batch, func(a, b *groupOp) int { return cmp.Compare(a.key, b.key) })
	err := s.inTx(ctx, func(tx *sql.Tx) error { return runBatch(ctx, tx, batch...) })
	if err == nil || len(batch) == 1 {
		for _, op := range batch {
			op.err <- err
		}
		return
	}
	for _, op := range batch {
		op.err <- s.inTx(ctx, func(tx *sql.Tx) error { return runBatch(ctx, tx, op) })
	}
}

// inGroupTx runs fn in a transaction shared with other writers', key naming what it
// changes (the customer), and answers how that transaction ended. fn may run twice (a
// second time alone when its batch failed): it must build what it answers afresh on each
// run, and it runs under the batch's context (ctx's values do not reach it). The span of the wait, a child of ctx's, stands for the transaction in the trace.
func (s *Store) inGroupTx(ctx context.Context, key string, fn func(ctx context.Context, b *batch) error) (err error) {
	ctx, end := s.txSpan(ctx)
	defer func() { end(err) }()
	op := &groupOp{key: key, fn: fn, err: make(chan error, 1)}
	if err := s.handOver(ctx, op); err != nil {
		return err
	}
	return <-op.err
}

// handOver gives op to the committers, unless the store is closing or ctx ends first.
func (s *Store) handOver(ctx context.Context, op *groupOp) error {
	s.group.mu.RLock()
	defer s.group.mu.RUnlock()
	if s.group.closed {
		return ErrClosed
	}
	select {
	case s.group.ops <- op:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
