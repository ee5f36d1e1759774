package queue

import (
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/customergateway/gateway/internal/model"
)

// Only River's leader makes a scheduled job available, and a process that died as the
// leader holds its lease for up to 15 s. A queue started meanwhile sends what is already
// due at once: here the dead leader's lease is an hour long, so without that nothing would
// be sent before the test gives up.
func TestStartResumesWhatIsDueUnderADeadLeader(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, b *bench) {
		b.refs("c-1")
		leader, err := b.store.RiverDriver().GetExecutor().LeaderAttemptElect(t.Context(), &riverdriver.LeaderElectParams{
			LeaderID: "a-process-that-died", TTL: time.Hour,
		})
		if err != nil || leader == nil {
			t.Fatalf("plant the dead process's lease: %v, %v", leader, err)
		}
		q, start := b.heldQueue(b.store, testConfig())
		at := time.Now().Add(100 * time.Millisecond) // scheduled: a retry after a failure
		b.enqueueAt(q, at)
		b.waitFor(waitLimit, "the delivery never came due", func() bool { return time.Now().After(at) })
		start()
		b.drained(waitLimit)
		if got := b.ladiflow("c-1"); got["email"] != "kim@example.com" {
			t.Fatalf("LadiFlow holds %v", got)
		}
	})
}

// A job that is not due yet is left to River's scheduler: resuming it would send a retry
// before its backoff.
func TestStartLeavesWhatIsNotDueToTheScheduler(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, b *bench) {
		b.refs("c-1")
		q, start := b.heldQueue(b.store, testConfig())
		b.enqueueAt(q, time.Now().Add(time.Hour))
		start()
		res, err := q.client.JobList(t.Context(), river.NewJobListParams().Kinds(deliverArgs{}.Kind()))
		if err != nil || len(res.Jobs) != 1 {
			t.Fatalf("jobs: %v, %v", res, err)
		}
		if j := res.Jobs[0]; j.State != rivertype.JobStateScheduled || time.Until(j.ScheduledAt) < 50*time.Minute {
			t.Fatalf("the job an hour away is %s at %v after start", j.State, j.ScheduledAt)
		}
	})
}

// enqueueAt queues an email for c-1 at LadiFlow, first tried at at.
func (b *bench) enqueueAt(q *Queue, at time.Time) {
	b.t.Helper()
	fields, err := model.QueuedFields(model.CustomerUpdate{Email: ptr("kim@example.com")}, 1)
	if err != nil {
		b.t.Fatal(err)
	}
	if _, err := q.Enqueue(b.t.Context(), "c-1", ladiFlow, fields, model.Origin{RequestID: "req-1"}, at); err != nil {
		b.t.Fatal(err)
	}
}
