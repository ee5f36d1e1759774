// Package queue is the gateway's durable delivery queue: a vendor delivery that failed
// retryably (or that the caller asked to be sent asynchronously) waits in the store and is
// retried in the background with backoff until it succeeds or its time limit passes.
//
// The jobs run on River (riverqueue/river) over the store's own database. The data to send
// is not in the job: it is the store's pending row for the customer and vendor, into which
// every queued update is merged, newest value first. A row has one owner, the only job that
// sends it. A delivery's own job only says "send what waits for this customer at this
// vendor", is unique per customer and vendor, and is completed in the transaction that
// removes the row, so a row never waits without a job and a job never finishes while
// something newer waits. The rows that one group-committed batch of updates makes to be
// sent at once are owned by one job for the batch instead (batch.go), which completes in a
// transaction that finds it owns none, and hands a row it could not send to the row's own
// job.
package queue

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/delivery"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/store"
)

// Config is how long and how often the queue retries.
type Config struct {
	// MaxAge is the time limit of a queued delivery, counted from the newest update merged
	// into it; past it the delivery is failed and recorded.
	MaxAge time.Duration
	// Backoff is the first background retry delay; it doubles up to MaxBackoff, with jitter.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Workers is how many deliveries one process sends at once.
	Workers int
	// PollInterval is how often a process looks for due deliveries.
	PollInterval time.Duration
	// SendTimeout bounds one background delivery (all its attempts), like a request's deadline.
	SendTimeout time.Duration
	// DeliveryRetention is how long the fields of a delivery that ended without success
	// are kept for an operator's retry (GATEWAY_DELIVERY_RETENTION); 0: for ever.
	DeliveryRetention time.Duration
	// Webhook, with Payload, sends update.completed webhooks; nil: none are sent.
	Webhook Notifier
	Payload Payload
	// ObserveWebhook, when set, is told how each webhook attempt ended (metrics hang off it).
	ObserveWebhook func(WebhookResult)
}

// Sender sends one queued delivery: the update use case (internal/delivery), the same
// pipeline a request goes through.
type Sender interface {
	DeliverQueued(ctx context.Context, q delivery.Queued) model.VendorResult
	QueuedEvent(q delivery.Queued, r model.VendorResult, at time.Time) model.AuditEvent
}

// Queue queues deliveries and works them. It is safe for concurrent use.
type Queue struct {
	cfg    Config
	store  *store.Store
	sender Sender
	client *river.Client[*sql.Tx]
	log    zerolog.Logger
	now    func() time.Time
	// jobs is how the store inserts this queue's jobs for the updates it writes.
	jobs *store.Jobs
	// sends holds a token for each delivery being sent: at most Workers at once, whether
	// their jobs are their own or a batch's.
	sends chan struct{}
	// attempts holds a token for each attempt a batch's job is running, sending or not: at
	// most attemptsPerSend for each of the Workers sends; busyAttempts one more for each
	// started while updates were being written (busy): at most Workers of those.
	attempts, busyAttempts chan struct{}
	// busy reports whether requests are writing updates now (updatesBeingWritten).
	busy func() bool
	// batchBudget is how long one run of a batch's job starts attempts (batchBudget).
	batchBudget time.Duration
	// stopPurge ends the retention purge Start began; purged is closed when it has.
	stopPurge context.CancelFunc
	purged    chan struct{}
}

// deliverArgs is a River job: send what waits for one customer at one vendor.
type deliverArgs struct {
	CustomerID string       `json:"customer_id" river:"unique"`
	Vendor     model.Vendor `json:"vendor" river:"unique"`
}

func (deliverArgs) Kind() string { return "vendor_delivery" }

// uniqueStates are the job states in which a second job for the same customer and vendor is
// not inserted. Finished jobs are left out, so a delivery queued after one finished gets a
// job of its own.
var uniqueStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

// maxAttempts bounds the jobs' errors that are not vendor failures (a store that does not
// answer). Failed vendor attempts are snoozes, which River does not count: a delivery ends
// at its time limit, never at this. 32767 is the most River's PostgreSQL driver keeps.
const maxAttempts = math.MaxInt16

// New builds the queue over st's database. Jobs can be queued at once; Start works them.
func New(st *store.Store, cfg Config, log zerolog.Logger) (*Queue, error) {
	q := &Queue{cfg: cfg, store: st, log: log, now: time.Now, sends: make(chan struct{}, max(cfg.Workers, 1)), batchBudget: batchBudget}
	q.attempts = make(chan struct{}, attemptsPerSend*cap(q.sends))
	q.busyAttempts = make(chan struct{}, cap(q.sends))
	q.busy = func() bool { return st.UpdatesWrittenSince(time.Now().Add(-updatesBeingWritten)) }
	q.jobs = &store.Jobs{Insert: q.insertJobs, InsertBatch: q.insertBatch, MaxAge: cfg.MaxAge, Now: func() time.Time { return q.now() }}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &worker{q: q}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &batchWorker{q: q}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &webhookWorker{q: q}); err != nil {
		return nil, err
	}
	if cfg.Webhook != nil {
		st.OnCompleted(q.notifyCompleted)
	}
	client, err := river.NewClient(st.RiverDriver(), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:           workers,
		FetchPollInterval: cfg.PollInterval,
		// After jobs finish River fetches again no sooner than this; its 100ms default
		// held a process to about Workers deliveries per 100ms while draining a backlog.
		FetchCooldown: min(cfg.PollInterval, 5*time.Millisecond),
		// The worker's own deadline (SendTimeout) ends a delivery first; River's is the
		// backstop (a batch's job has a longer one, batchWorker.Timeout). A job still
		// "running" after that, whose process died, is handed to a live process again.
		JobTimeout:           cfg.SendTimeout + 5*time.Second,
		RescueStuckJobsAfter: cfg.SendTimeout + 30*time.Second,
		MaxAttempts:          maxAttempts,
		// Every process polls: PostgreSQL through database/sql has no LISTEN, and River's
		// SQLite listener would poll a table every 50ms through the single writer.
		PollOnly: true,
		Logger:   slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q.client = client
	return q, nil
}

// Start works queued deliveries, each sent by sender, until Stop. The sender is given here
// rather than to New because it enqueues through this queue: the two are built in turn.
func (q *Queue) Start(ctx context.Context, sender Sender) error {
	q.sender = sender
	if err := q.client.Start(ctx); err != nil {
		return err
	}
	q.resumeDue(ctx)
	if q.cfg.DeliveryRetention > 0 {
		pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		q.stopPurge, q.purged = cancel, make(chan struct{})
		go func() {
			defer close(q.purged)
			q.purge(pctx, purgeInterval(q.cfg.DeliveryRetention))
		}()
	}
	return nil
}

// resumeBatch bounds the jobs Start makes available at once; any more wait for River's
// scheduler, as every job did before.
const resumeBatch = 1000

// resumeDue makes the jobs already due (deliveries and webhooks waiting for a retry)
// available at once. River moves a due job to available only on its elected leader, and a
// leader that died (SIGKILL, a crash) holds its lease for up to 15 s: a gateway restarted
// after a crash would sit on deliveries that were due all along. Any process may do this:
// River's JobRetry leaves running jobs alone and keeps a job's uniqueness. A job another
// replica finishes between the list and its retry runs once more: a delivery job then
// finds nothing waiting and completes, a webhook is sent again with its webhook-id, as
// any at-least-once retry would.
func (q *Queue) resumeDue(ctx context.Context) {
	params := river.NewJobListParams().
		States(rivertype.JobStateScheduled, rivertype.JobStateRetryable).
		OrderBy(river.JobListOrderByScheduledAt, river.SortOrderAsc).
		First(resumeBatch)
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		q.log.Error().Err(err).Msg("queue: list the jobs due at start")
		return
	}
	now, resumed := q.now(), 0
	for _, j := range res.Jobs {
		if j.ScheduledAt.After(now) {
			break // the rest are not due yet: the scheduler makes them available in time
		}
		if _, err := q.client.JobRetry(ctx, j.ID); err != nil {
			q.log.Error().Err(err).Int64("job", j.ID).Msg("queue: resume a due job at start")
			return
		}
		resumed++
	}
	if resumed > 0 {
		q.log.Info().Int("jobs", resumed).Msg("queue: jobs due at start resumed")
	}
}

// Stop lets running deliveries finish until ctx ends, then cancels them; a cancelled
// delivery is retried by the next process, since its row is still there.
func (q *Queue) Stop(ctx context.Context) error {
	if q.stopPurge != nil {
		q.stopPurge()
		<-q.purged
	}
	if err := q.client.Stop(ctx); err == nil {
		return nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	return q.client.StopAndCancel(cctx)
}

// Enqueue merges fields into what waits for the customer at vendor and makes sure a job
// will send it, first at at (now for a delivery that was not tried yet, now plus the
// backoff for one that just failed). It answers until when the merged delivery is tried.
func (q *Queue) Enqueue(ctx context.Context, customerID string, vendor model.Vendor, fields model.PendingFields, origin model.Origin, at time.Time) (time.Time, error) {
	p, err := q.store.QueueDelivery(ctx, customerID, vendor, fields, origin, q.now(), q.cfg.MaxAge, func(tx *sql.Tx) error {
		return q.insertJobs(ctx, tx, []store.Job{{CustomerID: customerID, Vendor: vendor, At: at}})
	})
	return p.ExpiresAt, err
}

// WriteUpdate writes what one update leaves (internal/store's WriteQueuedUpdate): its
// refs, its deliveries queued with their jobs, each first tried at its At, and its record,
// in one transaction; the jobs of the updates committed together are one batch insert.
func (q *Queue) WriteUpdate(ctx context.Context, w model.UpdateWrites) (model.UpdateWritten, error) {
	return q.store.WriteQueuedUpdate(ctx, w, q.jobs)
}

// insertJobs makes sure, in tx, of a job for each of jobs, in one batch insert. Each job is
// unique per customer and vendor: a merge into a waiting row inserts nothing when its job
// is live, and gives it one if it ever lost it.
func (q *Queue) insertJobs(ctx context.Context, tx *sql.Tx, jobs []store.Job) error {
	params := make([]river.InsertManyParams, len(jobs))
	for i, j := range jobs {
		params[i] = river.InsertManyParams{Args: deliverArgs{CustomerID: j.CustomerID, Vendor: j.Vendor}, InsertOpts: q.jobOpts(j.At)}
	}
	_, err := q.client.InsertManyTx(ctx, tx, params)
	return err
}

// jobOpts are a delivery job's insert options, first tried at at.
func (q *Queue) jobOpts(at time.Time) *river.InsertOpts {
	opts := &river.InsertOpts{
		MaxAttempts: maxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: uniqueStates},
	}
	// River inserts any job given a ScheduledAt as "scheduled", and only its leader's
	// scheduler (every 5 s) makes it available: a delivery due now goes in available.
	if at.After(q.now()) {
		opts.ScheduledAt = at
	}
	return opts
}

// FirstRetry is when a delivery that just failed in a request is tried again.
func (q *Queue) FirstRetry() time.Time { return q.now().Add(q.cfg.Backoff) }

// retryDelay is the wait after the attempt-th failed background attempt: Backoff doubling
// to MaxBackoff, with a quarter of jitter so deliveries queued together spread out.
func (q *Queue) retryDelay(attempt int) time.Duration {
	d := q.cfg.Backoff
	for i := 1; i < attempt && d < q.cfg.MaxBackoff; i++ {
		d *= 2 // doubling until the cap, never shifting past it into an overflow
	}
	d = min(d, q.cfg.MaxBackoff)
	jitter := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return max(d+jitter, time.Millisecond)
}
