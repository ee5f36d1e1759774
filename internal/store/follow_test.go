package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/store/storetest"
)

// completions records what the store's completion hook was called with.
type completions struct {
	mu  sync.Mutex
	got []model.UpdateRecord
}

func (c *completions) hook(_ context.Context, _ *sql.Tx, u model.UpdateRecord) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, u)
	return nil
}

func (c *completions) ids() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []string
	for _, u := range c.got {
		ids = append(ids, u.UpdateID)
	}
	return ids
}

// queuedUpdate is an update answered with ladiflow queued and happytalk delivered.
func queuedUpdate(id string, at time.Time) model.UpdateRecord {
	until := at.Add(time.Hour)
	return model.UpdateRecord{
		UpdateResult: model.UpdateResult{UpdateID: id, CustomerID: "c-1", Outcome: model.OutcomeQueued, Results: map[model.Vendor]model.VendorResult{
			ladiFlow:  {Status: model.StatusQueued, Attempts: 1, QueuedUntil: &until, Warnings: []string{"w"}},
			happyTalk: {Status: model.StatusOK, Attempts: 1, DeliveredAt: &at, Warnings: []string{}},
		}},
		Caller: "billing", ReceivedAt: at,
	}
}

func updateEventOf(customerID string) model.AuditEvent {
	return model.AuditEvent{OccurredAt: time.Now(), Kind: model.KindCustomerUpdate, CustomerID: customerID}
}

// queueFor queues fields for the customer at vendor as update id, and answers the row.
func queueFor(t *testing.T, s *Store, vendor model.Vendor, body string, seq int64, id string) Pending {
	t.Helper()
	p, err := s.QueueDelivery(t.Context(), "c-1", vendor, fieldsOf(t, body, seq), model.Origin{RequestID: "req-" + id, UpdateID: id}, time.Now(), time.Hour, noJob)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// endDelivery ends the customer's pending delivery at vendor with r, as the queue's worker does.
func endDelivery(t *testing.T, s *Store, p Pending, r model.VendorResult) {
	t.Helper()
	if r.Status == model.StatusOK && r.DeliveredAt == nil {
		at := time.Now() // as the fan-out answers a delivery a vendor accepted
		r.DeliveredAt = &at
	}
	end := func(tx *sql.Tx) error { return s.EndDeliveryTx(t.Context(), tx, p, r, time.Now()) }
	var err error
	if r.Status == model.StatusOK {
		_, err = s.FinishDelivery(t.Context(), p.CustomerID, p.Vendor, p.Version, p.Fields, end)
	} else {
		_, _, err = s.DropDelivery(t.Context(), p.CustomerID, p.Vendor, p.Version, func(tx *sql.Tx, _ Pending, _ bool) error { return end(tx) })
	}
	if err != nil {
		t.Fatal(err)
	}
}

// An update answered queued shows each vendor's line as it stands: queued until its
// delivery ends, then how it ended; the outcome follows, and the completion hook runs once.
func TestUpdateKeptCurrentAsDeliveriesEnd(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		var done completions
		s.OnCompleted(done.hook)
		ctx := t.Context()
		at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		p := queueFor(t, s, ladiFlow, `{"email":"a@example.com"}`, 1, "u-1")
		if err := s.RecordUpdate(ctx, updateEventOf("c-1"), queuedUpdate("u-1", at), map[model.Vendor]model.PendingFields{happyTalk: fieldsOf(t, `{"email":"a@example.com"}`, 1)}); err != nil {
			t.Fatal(err)
		}
		u, err := s.Update(ctx, "u-1")
		if err != nil {
			t.Fatal(err)
		}
		if u.Outcome != model.OutcomeQueued || u.Results[ladiFlow].Status != model.StatusQueued || u.Caller != "billing" || !u.ReceivedAt.Equal(at) {
			t.Fatalf("before the delivery ended: %+v", u)
		}
		if len(done.ids()) != 0 {
			t.Fatal("completed before its queued delivery ended")
		}
		p.Attempts = 3
		endDelivery(t, s, p, model.VendorResult{Status: model.StatusOK, Attempts: 1})
		u, err = s.Update(ctx, "u-1")
		if err != nil {
			t.Fatal(err)
		}
		lf := u.Results[ladiFlow]
		if u.Outcome != model.OutcomeOK || lf.Status != model.StatusOK || lf.Attempts != 3 || lf.DeliveredAt == nil || lf.QueuedUntil != nil {
			t.Fatalf("after the delivery ended: %+v %+v", u.Outcome, lf)
		}
		if !slices.Equal(lf.Warnings, []string{"w"}) {
			t.Fatalf("the answer's warnings were lost: %v", lf.Warnings)
		}
		if got := done.ids(); !slices.Equal(got, []string{"u-1"}) {
			t.Fatalf("completions %v, want [u-1]", got)
		}
		if c := done.got[0]; c.Results[ladiFlow].Status != model.StatusOK {
			t.Fatalf("the completion was given the update before its end: %+v", c)
		}
		if _, err := s.Update(ctx, "nope"); !errors.Is(err, model.ErrUpdateNotFound) {
			t.Fatalf("an unknown update: %v", err)
		}
	})
}

// A delivery that ends before the request that queued it records the update (the worker is
// faster than the request's last vendor) still completes the update, once, when it is
// recorded.
func TestUpdateCompletedWhenItsDeliveryEndedFirst(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		var done completions
		s.OnCompleted(done.hook)
		p := queueFor(t, s, ladiFlow, `{"email":"a@example.com"}`, 1, "u-1")
		endDelivery(t, s, p, model.VendorResult{Status: model.StatusRejected, Error: &model.VendorError{Code: 400, Message: "bad"}})
		if len(done.ids()) != 0 {
			t.Fatal("completed before the update was recorded")
		}
		if err := s.RecordUpdate(t.Context(), updateEventOf("c-1"), queuedUpdate("u-1", time.Now()), nil); err != nil {
			t.Fatal(err)
		}
		if got := done.ids(); !slices.Equal(got, []string{"u-1"}) {
			t.Fatalf("completions %v, want [u-1]", got)
		}
		u, err := s.Update(t.Context(), "u-1")
		if err != nil {
			t.Fatal(err)
		}
		if u.Outcome != model.OutcomePartial || u.Results[ladiFlow].Error == nil || u.Results[ladiFlow].Error.Code != 400 {
			t.Fatalf("%+v", u)
		}
	})
}

// Deliveries list waiting ones and those that ended without success, newest first, with
// each filter, a page at a time.
func TestListDeliveries(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		failed := queueFor(t, s, happyTalk, `{"email":"a@example.com"}`, 1, "u-1")
		endDelivery(t, s, failed, model.VendorResult{Status: model.StatusFailed, Reason: "time limit passed"})
		rejected := queueFor(t, s, engageLab, `{"email":"a@example.com"}`, 2, "u-2")
		endDelivery(t, s, rejected, model.VendorResult{Status: model.StatusRejected, Reason: "refused"})
		waiting := queueFor(t, s, ladiFlow, `{"email":"b@example.com"}`, 3, "u-3")
		waiting = queueFor(t, s, ladiFlow, `{"full_name":"Kim"}`, 4, "u-4")
		delivered := queueFor(t, s, happyTalk, `{"email":"c@example.com"}`, 5, "u-5")
		endDelivery(t, s, delivered, model.VendorResult{Status: model.StatusOK})

		all, next, err := s.ListDeliveries(ctx, model.DeliveryFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{waiting.DeliveryID, rejected.DeliveryID, failed.DeliveryID}
		if got := deliveryIDs(all); !slices.Equal(got, want) || next != "" {
			t.Fatalf("all: %v next %q, want %v (newest first, the delivered one left out)", got, next, want)
		}
		w := all[0]
		if w.Status != model.StatusQueued || w.UpdateID != "u-4" || !slices.Equal(w.UpdateIDs, []string{"u-3", "u-4"}) || w.EndedAt != nil || w.Retryable {
			t.Fatalf("the waiting one: %+v", w)
		}
		if f := all[2]; f.Status != model.StatusFailed || f.Error != "time limit passed" || f.EndedAt == nil || !f.Retryable || f.Vendor != happyTalk {
			t.Fatalf("the failed one: %+v", f)
		}
		for _, c := range []struct {
			f    model.DeliveryFilter
			want []string
		}{
			{model.DeliveryFilter{Status: model.StatusQueued}, []string{waiting.DeliveryID}},
			{model.DeliveryFilter{Status: model.StatusFailed}, []string{failed.DeliveryID}},
			{model.DeliveryFilter{Vendor: engageLab}, []string{rejected.DeliveryID}},
			{model.DeliveryFilter{CustomerID: "c-2"}, nil},
			{model.DeliveryFilter{Status: model.StatusRejected, Vendor: happyTalk}, nil},
		} {
			c.f.Limit = 10
			got, _, err := s.ListDeliveries(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(deliveryIDs(got), c.want) {
				t.Errorf("%+v: %v, want %v", c.f, deliveryIDs(got), c.want)
			}
		}
		var paged []string
		f := model.DeliveryFilter{Limit: 2}
		for range 3 {
			page, next, err := s.ListDeliveries(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, deliveryIDs(page)...)
			if next == "" {
				break
			}
			f.After = next
		}
		if !slices.Equal(paged, want) {
			t.Fatalf("paged: %v, want %v", paged, want)
		}
	})
}

func deliveryIDs(ds []model.Delivery) []string {
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.DeliveryID)
	}
	return ids
}

func actionOf(action string) ActionEvent {
	return func(d model.Delivery) model.AuditEvent {
		return model.AuditEvent{OccurredAt: time.Now(), Kind: model.KindDeliveryAction, CustomerID: d.CustomerID, Result: action, Actor: "ops"}
	}
}

// A retried delivery is queued again under its id with its fields, its updates show the
// vendor queued again and complete again when it ends; what cannot be retried says why.
func TestRetryDelivery(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		var done completions
		s.OnCompleted(done.hook)
		ctx := t.Context()
		p := queueFor(t, s, ladiFlow, `{"email":"a@example.com","full_name":"Kim"}`, 1, "u-1")
		if err := s.RecordUpdate(ctx, updateEventOf("c-1"), queuedUpdate("u-1", time.Now()), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RetryDelivery(ctx, p.DeliveryID, time.Now(), time.Hour, actionOf("retried"), func(*sql.Tx, Pending) error { return nil }); !errors.Is(err, model.ErrDeliveryWaiting) {
			t.Fatalf("retrying a waiting delivery: %v", err)
		}
		endDelivery(t, s, p, model.VendorResult{Status: model.StatusFailed, Reason: "down"})
		if got := done.ids(); !slices.Equal(got, []string{"u-1"}) {
			t.Fatalf("completions %v", got)
		}
		// A newer update delivers the email meanwhile: the retry sends only the name.
		if err := s.RecordUpdate(ctx, updateEventOf("c-1"), model.UpdateRecord{UpdateResult: model.UpdateResult{CustomerID: "c-1"}},
			map[model.Vendor]model.PendingFields{ladiFlow: fieldsOf(t, `{"email":"new@example.com"}`, 2)}); err != nil {
			t.Fatal(err)
		}
		jobs := 0
		d, err := s.RetryDelivery(ctx, p.DeliveryID, time.Now(), time.Hour, actionOf("retried"), func(*sql.Tx, Pending) error { jobs++; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if d.DeliveryID != p.DeliveryID || d.Status != model.StatusQueued || jobs != 1 {
			t.Fatalf("retried: %+v, %d jobs", d, jobs)
		}
		again, ok, err := s.PendingDelivery(ctx, "c-1", ladiFlow)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		if names := again.Fields.Names(); !slices.Equal(names, []string{"full_name"}) {
			t.Fatalf("the retry sends %v, want only full_name (the email was delivered newer since)", names)
		}
		u, err := s.Update(ctx, "u-1")
		if err != nil {
			t.Fatal(err)
		}
		if u.Results[ladiFlow].Status != model.StatusQueued || u.Outcome != model.OutcomeQueued {
			t.Fatalf("after the retry: %+v", u)
		}
		endDelivery(t, s, again, model.VendorResult{Status: model.StatusOK})
		if got := done.ids(); !slices.Equal(got, []string{"u-1", "u-1"}) {
			t.Fatalf("completions %v: the retried update completes again", got)
		}
		if _, err := s.RetryDelivery(ctx, "no-such", time.Now(), time.Hour, actionOf("retried"), func(*sql.Tx, Pending) error { return nil }); !errors.Is(err, model.ErrDeliveryNotFound) {
			t.Fatalf("an unknown delivery: %v", err)
		}
	})
}

// A retry of a delivery whose every field a newer update delivered is refused, and one
// whose fields were purged after the retention too; the purge drops only what is old.
func TestRetryRefusedWhenSupersededOrPurged(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		old := queueFor(t, s, ladiFlow, `{"email":"a@example.com"}`, 1, "u-1")
		endDelivery(t, s, old, model.VendorResult{Status: model.StatusFailed})
		if err := s.RecordUpdate(ctx, updateEventOf("c-1"), model.UpdateRecord{UpdateResult: model.UpdateResult{CustomerID: "c-1"}},
			map[model.Vendor]model.PendingFields{ladiFlow: fieldsOf(t, `{"email":"new@example.com"}`, 2)}); err != nil {
			t.Fatal(err)
		}
		noop := func(*sql.Tx, Pending) error { return nil }
		if _, err := s.RetryDelivery(ctx, old.DeliveryID, time.Now(), time.Hour, actionOf("retried"), noop); !errors.Is(err, model.ErrDeliverySuperseded) {
			t.Fatalf("a superseded retry: %v", err)
		}
		p := queueFor(t, s, happyTalk, `{"email":"a@example.com"}`, 3, "u-3")
		endDelivery(t, s, p, model.VendorResult{Status: model.StatusRejected})
		if n, err := s.PurgeDeliveryFields(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
			t.Fatalf("a purge of what ended over an hour ago dropped %d: %v", n, err)
		}
		if n, err := s.PurgeDeliveryFields(ctx, time.Now().Add(time.Second)); err != nil || n != 2 {
			t.Fatalf("purged %d: %v, want 2", n, err)
		}
		if _, err := s.RetryDelivery(ctx, p.DeliveryID, time.Now(), time.Hour, actionOf("retried"), noop); !errors.Is(err, model.ErrDeliveryPurged) {
			t.Fatalf("a purged retry: %v", err)
		}
		d, err := s.Delivery(ctx, p.DeliveryID)
		if err != nil || d.Retryable || d.Status != model.StatusRejected {
			t.Fatalf("a purged delivery: %+v %v", d, err)
		}
	})
}

// A cancelled delivery leaves the queue, is listed as cancelled and shows so on its
// updates; an ended one cannot be cancelled.
func TestCancelDelivery(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		var done completions
		s.OnCompleted(done.hook)
		ctx := t.Context()
		p := queueFor(t, s, ladiFlow, `{"email":"a@example.com"}`, 1, "u-1")
		if err := s.RecordUpdate(ctx, updateEventOf("c-1"), queuedUpdate("u-1", time.Now()), nil); err != nil {
			t.Fatal(err)
		}
		d, err := s.CancelDelivery(ctx, p.DeliveryID, "cancelled by ops", time.Now(), actionOf("cancelled"))
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != model.StatusCancelled || d.Error != "cancelled by ops" || d.EndedAt == nil {
			t.Fatalf("cancelled: %+v", d)
		}
		if _, ok, _ := s.PendingDelivery(ctx, "c-1", ladiFlow); ok {
			t.Fatal("the cancelled delivery still waits")
		}
		u, err := s.Update(ctx, "u-1")
		if err != nil {
			t.Fatal(err)
		}
		if u.Results[ladiFlow].Status != model.StatusCancelled || u.Outcome != model.OutcomePartial {
			t.Fatalf("the update after the cancel: %+v", u)
		}
		if got := done.ids(); !slices.Equal(got, []string{"u-1"}) {
			t.Fatalf("completions %v", got)
		}
		if _, err := s.CancelDelivery(ctx, p.DeliveryID, "again", time.Now(), actionOf("cancelled")); !errors.Is(err, model.ErrDeliveryEnded) {
			t.Fatalf("cancelling an ended delivery: %v", err)
		}
		if _, err := s.CancelDelivery(ctx, "no-such", "x", time.Now(), actionOf("cancelled")); !errors.Is(err, model.ErrDeliveryNotFound) {
			t.Fatalf("an unknown delivery: %v", err)
		}
		events, err := s.Events(ctx, model.Window{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(events, func(e model.AuditEvent) bool { return e.Kind == model.KindDeliveryAction && e.Actor == "ops" }) {
			t.Fatalf("no audit event names who cancelled: %+v", events)
		}
	})
}

// The customer view has the refs, and per vendor the last update, the names (never the
// values) of the fields delivered and whether a delivery waits.
func TestCustomerView(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		if _, err := s.Customer(ctx, "c-1"); !errors.Is(err, model.ErrCustomerNotFound) {
			t.Fatalf("a customer never seen: %v", err)
		}
		if _, _, err := s.MergeRefs(ctx, "c-1", model.VendorRefs{}.With(ladiFlow, "id", model.StringRef("lf-1"))); err != nil {
			t.Fatal(err)
		}
		rec := queuedUpdate("u-1", time.Now())
		if err := s.RecordUpdate(ctx, updateEventOf("c-1"), rec,
			map[model.Vendor]model.PendingFields{happyTalk: fieldsOf(t, `{"email":"secret@example.com","address":{"city":"Seoul"}}`, 1)}); err != nil {
			t.Fatal(err)
		}
		queueFor(t, s, ladiFlow, `{"email":"secret@example.com"}`, 1, "u-1")
		c, err := s.Customer(ctx, "c-1")
		if err != nil {
			t.Fatal(err)
		}
		ht, lf := c.Vendors[happyTalk], c.Vendors[ladiFlow]
		if ht.LastUpdateID != "u-1" || ht.LastDeliveredAt == nil || ht.Pending || !slices.Equal(ht.Fields, []string{"address.city", "email"}) {
			t.Fatalf("happytalk: %+v", ht)
		}
		if !lf.Pending || lf.LastUpdateID != "" || len(lf.Fields) != 0 {
			t.Fatalf("ladiflow: %+v", lf)
		}
		if got := c.VendorRefs[ladiFlow].String("id"); got != "lf-1" {
			t.Fatalf("refs: %+v", c.VendorRefs)
		}
	})
}

// A delivery waiting when migration 00006 runs gets an id of its own, found by that id:
// listed, and given up by it.
func TestWaitingDeliveryMigratesWithAnID(t *testing.T) {
	t.Parallel()
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			url := e.Fresh(t)
			db := migratedTo(t, url, 5)
			if _, err := db.ExecContext(t.Context(), `INSERT INTO pending_deliveries (customer_id, vendor, fields, request_ids, version, queued_at, expires_at)
				VALUES ('c-1', 'ladiflow', '[]', '["req-1"]', 7, 1764580000000000001, 1764583600000000001)`); err != nil {
				t.Fatal(err)
			}
			s, err := Open(t.Context(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ds, _, err := s.ListDeliveries(t.Context(), model.DeliveryFilter{Limit: 10})
			if err != nil || len(ds) != 1 || ds[0].DeliveryID != "legacy-1764580000000000001-ladiflow" || ds[0].Status != model.StatusQueued {
				t.Fatalf("after the migration: %+v %v", ds, err)
			}
			if _, err := s.CancelDelivery(t.Context(), ds[0].DeliveryID, "x", time.Now(), actionOf("cancelled")); err != nil {
				t.Fatalf("cancel the migrated delivery by its id: %v", err)
			}
		})
	}
}
