package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

func fieldsOf(t *testing.T, body string, seq int64) model.PendingFields {
	t.Helper()
	var u model.CustomerUpdate
	if err := json.Unmarshal([]byte(body), &u); err != nil {
		t.Fatal(err)
	}
	f, err := model.QueuedFields(u, seq)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func noJob(*sql.Tx) error { return nil }

func TestQueueDeliveryMergesAndFinishesByVersion(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
		jobs := 0
		job := func(*sql.Tx) error { jobs++; return nil }
		first, err := s.QueueDelivery(ctx, "c-1", ladiFlow, fieldsOf(t, `{"email":"a@example.com","full_name":"A"}`, 1), model.Origin{RequestID: "req-1"}, t0, time.Hour, job)
		if err != nil {
			t.Fatal(err)
		}
		// A newer update merged in: its value wins, the older field stays, the time limit
		// restarts from the newer update.
		second, err := s.QueueDelivery(ctx, "c-1", ladiFlow, fieldsOf(t, `{"email":"b@example.com"}`, 2), model.Origin{RequestID: "req-2"}, t0.Add(time.Minute), time.Hour, job)
		if err != nil || second.Version <= first.Version {
			t.Fatalf("second queue: version %d after %d, err %v", second.Version, first.Version, err)
		}
		if jobs != 2 {
			t.Fatalf("the job callback ran %d times, want once per queueing", jobs)
		}
		got, ok, err := s.PendingDelivery(ctx, "c-1", ladiFlow)
		if err != nil || !ok {
			t.Fatalf("pending: %v %v", ok, err)
		}
		u, err := got.Fields.Update()
		if err != nil {
			t.Fatal(err)
		}
		if *u.Email != "b@example.com" || *u.FullName != "A" || got.Version != second.Version ||
			!got.QueuedAt.Equal(t0) || !got.ExpiresAt.Equal(t0.Add(61*time.Minute)) || fmt.Sprint(got.RequestIDs) != "[req-1 req-2]" {
			t.Fatalf("merged row = %+v, update %s/%s", got, *u.Email, *u.FullName)
		}
		if vs, err := s.PendingVendors(ctx, "c-1"); err != nil || fmt.Sprint(vs) != "[ladiflow]" {
			t.Fatalf("PendingVendors = %v, %v", vs, err)
		}

		// A sender that read the first version must not remove the row: the second is unsent.
		ran := false
		done, err := s.FinishDelivery(ctx, "c-1", ladiFlow, first.Version, first.Fields, func(*sql.Tx) error { ran = true; return nil })
		if err != nil || done || ran {
			t.Fatalf("finish at a stale version: done %v, ran %v, err %v", done, ran, err)
		}
		done, err = s.FinishDelivery(ctx, "c-1", ladiFlow, second.Version, got.Fields, func(*sql.Tx) error { ran = true; return nil })
		if err != nil || !done || !ran {
			t.Fatalf("finish at the current version: done %v, ran %v, err %v", done, ran, err)
		}
		if _, ok, _ := s.PendingDelivery(ctx, "c-1", ladiFlow); ok {
			t.Fatal("row still there after finish")
		}
		// What was sent is now delivered: the same update queued again is superseded, a
		// row made again gets a version the old sender cannot match.
		if _, err := s.QueueDelivery(ctx, "c-1", ladiFlow, fieldsOf(t, `{"email":"b@example.com"}`, 2), model.Origin{}, t0.Add(2*time.Minute), time.Hour, noJob); !errors.Is(err, ErrSuperseded) {
			t.Fatalf("queueing what was delivered: %v, want ErrSuperseded", err)
		}
		again, err := s.QueueDelivery(ctx, "c-1", ladiFlow, fieldsOf(t, `{"email":"c@example.com"}`, 3), model.Origin{}, t0.Add(3*time.Minute), time.Hour, noJob)
		if err != nil || again.Version == second.Version || again.Version == first.Version {
			t.Fatalf("a row made again reuses a version: %d (before %d, %d), err %v", again.Version, first.Version, second.Version, err)
		}
	})
}

// TestQueueDeliveryRollsBackWithItsJob: when the job cannot be written, neither is the row,
// so no delivery waits without a job to send it.
func TestQueueDeliveryRollsBackWithItsJob(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		boom := errors.New("job insert failed")
		_, err := s.QueueDelivery(t.Context(), "c-1", happyTalk, fieldsOf(t, `{"email":"a@example.com"}`, 1), model.Origin{}, time.Now(), time.Hour, func(*sql.Tx) error { return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the job's", err)
		}
		if n, err := s.CountPending(t.Context()); err != nil || n != 0 {
			t.Fatalf("%d rows pending (err %v), want 0", n, err)
		}
	})
}

func TestDropDelivery(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		first, err := s.QueueDelivery(ctx, "c-1", engageLab, fieldsOf(t, `{"email":"a@example.com"}`, 1), model.Origin{}, time.Now(), time.Hour, noJob)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.NoteAttempt(ctx, "c-1", engageLab, "EngageLab answered 500"); err != nil {
			t.Fatal(err)
		}
		second, err := s.QueueDelivery(ctx, "c-1", engageLab, fieldsOf(t, `{"phone":"+821012345678"}`, 2), model.Origin{}, time.Now(), time.Hour, noJob)
		if err != nil {
			t.Fatal(err)
		}
		dropped := func(*sql.Tx, Pending, bool) error { return nil }
		// A sender that tried the first version may not drop what was merged in since.
		if _, _, err := s.DropDelivery(ctx, "c-1", engageLab, first.Version, dropped); !errors.Is(err, ErrVersionMoved) {
			t.Fatalf("drop at a stale version: %v, want ErrVersionMoved", err)
		}
		p, found, err := s.DropDelivery(ctx, "c-1", engageLab, second.Version, dropped)
		if err != nil || !found || p.Attempts != 1 || p.LastError != "EngageLab answered 500" {
			t.Fatalf("drop = %+v, %v, %v", p, found, err)
		}
		if _, found, err := s.DropDelivery(ctx, "c-1", engageLab, second.Version, dropped); err != nil || found {
			t.Fatalf("second drop found %v, err %v", found, err)
		}
	})
}

// TestQueueDeliveryConcurrentMergesLoseNothing: updates queued at once for one customer and
// vendor all end up in the row, and the version counts every one.
func TestQueueDeliveryConcurrentMergesLoseNothing(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		const n = 12
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				body := fmt.Sprintf(`{"attributes":{"a%d":"v"}}`, i)
				_, err := s.QueueDelivery(t.Context(), "c-1", ladiFlow, fieldsOf(t, body, int64(i+1)), model.Origin{}, time.Now(), time.Hour, noJob)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		p, _, err := s.PendingDelivery(t.Context(), "c-1", ladiFlow)
		if err != nil {
			t.Fatal(err)
		}
		u, err := p.Fields.Update()
		if err != nil || len(u.Attributes) != n {
			t.Fatalf("after %d concurrent merges: %d attributes, err %v", n, len(u.Attributes), err)
		}
	})
}

// TestQueueDeliveryLeavesOutWhatANewerUpdateDelivered: an update delivered directly (seq 20)
// is recorded with its audit event; an older one (seq 10) queued afterwards keeps only the
// fields the newer one did not set.
func TestQueueDeliveryLeavesOutWhatANewerUpdateDelivered(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		e := model.AuditEvent{OccurredAt: time.Now(), Kind: model.KindCustomerUpdate, CustomerID: "c-1"}
		newer := map[model.Vendor]model.PendingFields{ladiFlow: fieldsOf(t, `{"email":"new@example.com"}`, 20)}
		if err := s.RecordUpdate(ctx, e, model.UpdateRecord{UpdateResult: model.UpdateResult{CustomerID: "c-1"}}, newer); err != nil {
			t.Fatal(err)
		}
		p, err := s.QueueDelivery(ctx, "c-1", ladiFlow, fieldsOf(t, `{"email":"old@example.com","full_name":"Kim"}`, 10), model.Origin{}, time.Now(), time.Hour, noJob)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Fields.Names(); fmt.Sprint(got) != "[full_name]" {
			t.Fatalf("queued %v, want only full_name", got)
		}
		// Another vendor did not receive the newer update: it keeps everything.
		p, err = s.QueueDelivery(ctx, "c-1", happyTalk, fieldsOf(t, `{"email":"old@example.com"}`, 10), model.Origin{}, time.Now(), time.Hour, noJob)
		if err != nil || fmt.Sprint(p.Fields.Names()) != "[email]" {
			t.Fatalf("HappyTalk queued %v, err %v", p.Fields.Names(), err)
		}
	})
}

func TestFinishIfNothingPending(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		ran := false
		finish := func(*sql.Tx) error { ran = true; return nil }
		if waiting, err := s.FinishIfNothingPending(ctx, "c-1", ladiFlow, finish); err != nil || waiting || !ran {
			t.Fatalf("nothing pending: waiting %v, ran %v, err %v", waiting, ran, err)
		}
		if _, err := s.QueueDelivery(ctx, "c-1", ladiFlow, fieldsOf(t, `{"email":"a@example.com"}`, 1), model.Origin{}, time.Now(), time.Hour, noJob); err != nil {
			t.Fatal(err)
		}
		ran = false
		if waiting, err := s.FinishIfNothingPending(ctx, "c-1", ladiFlow, finish); err != nil || !waiting || ran {
			t.Fatalf("a delivery waits: waiting %v, ran %v, err %v", waiting, ran, err)
		}
	})
}

// TestPendingChangesTakeTurns: while a job finishes because it found no delivery, a merge
// that would create one waits for it, on both engines (PostgreSQL cannot lock a row that
// does not exist yet; the store locks the customer and vendor instead). Otherwise the merge
// could skip its job insert for the finishing job and leave a delivery with no job.
func TestPendingChangesTakeTurns(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		finishing, release := make(chan struct{}), make(chan struct{})
		finished := make(chan error, 1)
		go func() {
			_, err := s.FinishIfNothingPending(ctx, "c-1", ladiFlow, func(*sql.Tx) error {
				close(finishing)
				<-release
				return nil
			})
			finished <- err
		}()
		<-finishing
		queued := make(chan error, 1)
		go func() {
			_, err := s.QueueDelivery(ctx, "c-1", ladiFlow, fieldsOf(t, `{"email":"a@example.com"}`, 1), model.Origin{}, time.Now(), time.Hour, noJob)
			queued <- err
		}()
		select {
		case err := <-queued:
			t.Fatalf("the merge ran beside the finishing job (err %v)", err)
		case <-time.After(300 * time.Millisecond):
		}
		close(release)
		if err := <-finished; err != nil {
			t.Fatal(err)
		}
		if err := <-queued; err != nil {
			t.Fatal(err)
		}
	})
}

func TestPendingKeepsTheNewestRequestIDs(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		var p Pending
		var err error
		for i := range maxRequestIDs + 5 {
			p, err = s.QueueDelivery(t.Context(), "c-1", ladiFlow, fieldsOf(t, `{"email":"a@example.com"}`, int64(i+1)), model.Origin{RequestID: fmt.Sprintf("req-%d", i)}, time.Now(), time.Hour, noJob)
			if err != nil {
				t.Fatal(err)
			}
		}
		if len(p.RequestIDs) != maxRequestIDs || p.RequestIDs[0] != "req-5" || p.RequestIDs[maxRequestIDs-1] != fmt.Sprintf("req-%d", maxRequestIDs+4) {
			t.Fatalf("kept %d ids, from %s to %s", len(p.RequestIDs), p.RequestIDs[0], p.RequestIDs[len(p.RequestIDs)-1])
		}
	})
}

// queueAt writes an update of customer c that queues fields at vendors (and records an
// event), its jobs inserted by insert.
func queueAt(t *testing.T, s *Store, c string, vendors []model.Vendor, fields model.PendingFields, origin model.Origin, insert func([]Job) error) (model.UpdateWritten, error) {
	t.Helper()
	w := model.UpdateWrites{CustomerID: c, Fields: fields, Origin: origin,
		Record: func(model.UpdateWritten) (model.AuditEvent, model.UpdateRecord, map[model.Vendor]model.PendingFields) {
			return model.AuditEvent{OccurredAt: time.Now(), Kind: model.KindCustomerUpdate, CustomerID: c}, model.UpdateRecord{UpdateResult: model.UpdateResult{CustomerID: c}}, nil
		}}
	for _, v := range vendors {
		w.Queue = append(w.Queue, model.QueueItem{Vendor: v, At: time.Now()})
	}
	return s.WriteQueuedUpdate(t.Context(), w, &Jobs{MaxAge: time.Hour, Now: time.Now,
		Insert: func(_ context.Context, _ *sql.Tx, jobs []Job) error { return insert(jobs) }})
}

// An update queued at several vendors in one transaction: every vendor that still lacks a
// field is queued and its job inserted, all in one insert; one whose every field is older
// than what it received is left out.
func TestQueueDeliveriesTogether(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		e := model.AuditEvent{OccurredAt: time.Now(), Kind: model.KindCustomerUpdate, CustomerID: "c-1"}
		if err := s.RecordUpdate(ctx, e, model.UpdateRecord{UpdateResult: model.UpdateResult{CustomerID: "c-1"}},
			map[model.Vendor]model.PendingFields{engageLab: fieldsOf(t, `{"email":"newer@example.com"}`, 5)}); err != nil {
			t.Fatal(err)
		}
		fields := fieldsOf(t, `{"email":"a@example.com"}`, 1)
		var calls [][]model.Vendor
		written, err := queueAt(t, s, "c-1", []model.Vendor{ladiFlow, happyTalk, engageLab}, fields, model.Origin{RequestID: "req-1", UpdateID: "u-1"}, func(jobs []Job) error {
			var vs []model.Vendor
			for _, j := range jobs {
				vs = append(vs, j.Vendor)
			}
			calls = append(calls, vs)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) != 1 || fmt.Sprint(calls[0]) != fmt.Sprint([]model.Vendor{happyTalk, ladiFlow}) {
			t.Fatalf("jobs inserted %v, want once for [happytalk ladiflow]", calls)
		}
		queued := map[model.Vendor]Pending{}
		for _, v := range []model.Vendor{ladiFlow, happyTalk} {
			p, ok, err := s.PendingDelivery(ctx, "c-1", v)
			if err != nil || !ok {
				t.Fatalf("%s: %v %v", v, ok, err)
			}
			queued[v] = p
		}
		if _, ok := written.Queued[engageLab]; ok || len(written.Queued) != 2 || queued[ladiFlow].UpdateIDs[0] != "u-1" {
			t.Fatalf("queued %+v, %+v", written, queued)
		}
		// A second update merges into the rows waiting: both fields, a newer version, the
		// same delivery.
		again, err := queueAt(t, s, "c-1", []model.Vendor{ladiFlow, happyTalk}, fieldsOf(t, `{"phone":"010-1234-5678"}`, 2),
			model.Origin{RequestID: "req-2", UpdateID: "u-2"}, func([]Job) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []model.Vendor{ladiFlow, happyTalk} {
			p, ok, err := s.PendingDelivery(ctx, "c-1", v)
			if err != nil || !ok || len(p.Fields) != 2 || p.Version <= queued[v].Version || p.DeliveryID != queued[v].DeliveryID ||
				fmt.Sprint(p.UpdateIDs) != "[u-1 u-2]" || !p.ExpiresAt.Equal(again.Queued[v]) {
				t.Fatalf("%s after a second update: %+v %v %v (first %+v)", v, p, ok, err, queued[v])
			}
		}
		boom := errors.New("boom")
		if _, err := queueAt(t, s, "c-2", []model.Vendor{ladiFlow, happyTalk}, fields, model.Origin{}, func([]Job) error { return boom }); !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if vs, err := s.PendingVendors(ctx, "c-2"); err != nil || len(vs) != 0 {
			t.Fatalf("a failed batch left %v waiting: %v", vs, err)
		}
	})
}

// readJSON (encoding/json/v2) reads what the store wrote (encoding/json) as encoding/json
// reads it: raw leaf values of every kind byte for byte, escapes and all, and the lists.
func TestReadJSONReadsWhatTheStoreWrote(t *testing.T) {
	fields := fieldsOf(t, `{"email":"a<b>&c@example.com","lead_score":14,"tags":["x","\u2028y"],
		"address":{"city":"Hà Nội","line1":"68 \"Nguyen\" Co Thach"},"attributes":{"vip":"yes","note":"likes \u00e9 tea"}}`, 3)
	written := []any{fields, []string{"u-1", "u-2"}, []string{}}
	for _, w := range written {
		text, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		v1 := reflect.New(reflect.TypeOf(w))
		if err := json.Unmarshal(text, v1.Interface()); err != nil {
			t.Fatal(err)
		}
		v2 := reflect.New(reflect.TypeOf(w))
		if err := readJSON(string(text), v2.Interface()); err != nil {
			t.Fatalf("readJSON(%s): %v", text, err)
		}
		if !reflect.DeepEqual(v1.Elem().Interface(), v2.Elem().Interface()) {
			t.Errorf("readJSON(%s) = %#v, encoding/json reads %#v", text, v2.Elem().Interface(), v1.Elem().Interface())
		}
	}
}
