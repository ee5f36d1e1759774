package store

import (
	"crypto/sha256"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// streamUpdate is one update of a steady stream at now, as the gateway writes it: its
// Idempotency-Key reply, its audit event, its record for GET /updates with the fields
// delivered to LadiFlow and, every third update, a HappyTalk delivery queued that ends
// failed at once, its fields dropped after a minute (GATEWAY_DELIVERY_RETENTION).
func streamUpdate(t *testing.T, s *Store, i int, now time.Time) {
	t.Helper()
	ctx := t.Context()
	customer, id := fmt.Sprintf("c-%d", i), fmt.Sprintf("%s-%06d", now.Format("20060102T150405"), i)
	key := "key-" + id
	if _, _, err := s.BeginIdempotent(ctx, "billing", key, sha256.Sum256([]byte(id)), now); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishIdempotent(ctx, "billing", key, now, 200, []byte(`{"outcome":"delivered"}`)); err != nil {
		t.Fatal(err)
	}
	u := model.UpdateRecord{UpdateResult: model.UpdateResult{UpdateID: id, CustomerID: customer, Outcome: model.OutcomeOK,
		Results: map[model.Vendor]model.VendorResult{ladiFlow: {Status: model.StatusOK, Attempts: 1, Warnings: []string{}}}},
		Caller: "billing", ReceivedAt: now}
	e := model.AuditEvent{OccurredAt: now, Kind: model.KindCustomerUpdate, CustomerID: customer}
	delivered := map[model.Vendor]model.PendingFields{ladiFlow: fieldsOf(t, `{"email":"a@example.com","address":{"city":"Seoul"}}`, now.UnixNano())}
	if err := s.RecordUpdate(ctx, e, u, delivered); err != nil {
		t.Fatal(err)
	}
	if i%3 == 0 {
		p, err := s.QueueDelivery(ctx, customer, happyTalk, fieldsOf(t, `{"phone":"010-1234-5678"}`, now.UnixNano()), model.Origin{UpdateID: id}, now, time.Minute, noJob)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = s.DropDelivery(ctx, customer, happyTalk, p.Version, func(tx *sql.Tx, p Pending, _ bool) error {
			return s.EndDeliveryTx(ctx, tx, p, model.VendorResult{Status: model.StatusFailed, Reason: "gave up"}, now)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.PurgeDeliveryFields(ctx, now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
}

// TestPurgeBoundsTheDatabase: under a steady stream of updates (one every 20 fake seconds, each a
// new customer) with a retention of ten minutes, purged every fake minute, no table the
// stream writes grows past what ten minutes (plus a minute between purges) of updates
// leave; the last ten minutes are kept whole, and nothing older survives a purge. The
// Idempotency-Key replies, kept 24 hours whatever the retention, go a day after the stream,
// with everything else it left.
func TestPurgeBoundsTheDatabase(t *testing.T) {
	t.Parallel()
	const (
		step   = 20 * time.Second
		keep   = 10 * time.Minute
		every  = 3      // updates between purges: a minute
		n      = 60 * 3 // an hour of updates: six retention windows
		window = int(keep/step) + every
	)
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		// The customers' last-delivery records carry the wall clock: the fake one runs
		// ahead of it, so they are purged as they come.
		start := time.Now().Add(time.Hour)
		for i := range n {
			now := start.Add(time.Duration(i) * step)
			streamUpdate(t, s, i, now)
			if i%every != every-1 {
				continue
			}
			purged, err := s.Purge(ctx, now, keep)
			if err != nil || purged.Busy {
				t.Fatalf("Purge: %+v, %v", purged, err)
			}
			counts, err := s.rowCounts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			kept := min(i+1, window)
			bounds := map[string]int{
				"gateway_events":   kept,
				"updates":          kept,
				"update_results":   kept/3 + 1,
				"delivered_seqs":   kept, // LadiFlow's email and address.city, one row
				"customer_vendors": every,
				"ended_deliveries": kept/3 + 1,
			}
			for table, bound := range bounds {
				if counts[table] > bound {
					t.Fatalf("after %d updates %s holds %d rows, want at most %d: %v", i+1, table, counts[table], bound, counts)
				}
			}
			if counts["pending_deliveries"] != 0 {
				t.Fatalf("pending deliveries left: %v", counts)
			}
			if i+1 >= window && counts["gateway_events"] < int(keep/step) {
				t.Fatalf("after %d updates only %d events are kept, want the last %d", i+1, counts["gateway_events"], keep/step)
			}
		}
		events, err := s.Events(ctx, model.Window{From: start, To: start.Add(n * step)})
		if err != nil {
			t.Fatal(err)
		}
		last := start.Add((n - 1) * step)
		if oldest := events[0].OccurredAt; oldest.Before(last.Add(-keep)) || oldest.After(last.Add(-keep+step)) {
			t.Errorf("oldest event kept %v, want the first at or after %v", oldest, last.Add(-keep))
		}
		counts, err := s.rowCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Replies are kept a day: the stream's two hours all are, until a day after it.
		if counts["idempotency_keys"] != n {
			t.Errorf("idempotency_keys holds %d rows, want the stream's %d", counts["idempotency_keys"], n)
		}
		t.Logf("rows after %d updates: %v", n, counts)
		// A day later the queue has dropped the last failed delivery's fields too.
		if _, err := s.PurgeDeliveryFields(ctx, last.Add(IdempotencyTTL)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Purge(ctx, last.Add(IdempotencyTTL), keep); err != nil {
			t.Fatal(err)
		}
		if counts, err = s.rowCounts(ctx); err != nil {
			t.Fatal(err)
		}
		for table, rows := range counts {
			if rows != 0 {
				t.Errorf("a day after the stream %s holds %d rows, want none: %v", table, rows, counts)
			}
		}
	})
}

// TestPurgeKeeps: what a purge keeps past the retention, and why. An update still due its
// webhook (a vendor queued) is kept; a customer's delivered-field records for a vendor are
// kept while a delivery to it waits or may be retried, and go once it cannot; an
// Idempotency-Key still in flight is kept.
func TestPurgeKeeps(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		old := time.Now().Add(-48 * time.Hour)
		now, keep := time.Now(), 24*time.Hour
		// c-1: answered with LadiFlow queued; its delivery still waits.
		u := queuedUpdate("u-1", old)
		if err := s.RecordUpdate(ctx, updateEventOf("c-1"), u, map[model.Vendor]model.PendingFields{
			happyTalk: fieldsOf(t, `{"email":"a@example.com"}`, old.UnixNano()),
			ladiFlow:  fieldsOf(t, `{"email":"a@example.com"}`, old.UnixNano()),
		}); err != nil {
			t.Fatal(err)
		}
		p, err := s.QueueDelivery(ctx, "c-1", ladiFlow, fieldsOf(t, `{"phone":"010-1234-5678"}`, old.UnixNano()), model.Origin{UpdateID: "u-1"}, old, time.Hour, noJob)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.BeginIdempotent(ctx, "billing", "in-flight", sha256.Sum256(nil), old); err != nil {
			t.Fatal(err)
		}
		if _, err := s.w.ExecContext(ctx, `UPDATE idempotency_keys SET lease_ns = $1`, int64(72*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Purge(ctx, now, keep); err != nil {
			t.Fatal(err)
		}
		counts, err := s.rowCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"updates": 1, "delivered_seqs": 1, "idempotency_keys": 1, "gateway_events": 1}
		for table, n := range want {
			if counts[table] != n {
				t.Errorf("%s holds %d rows, want %d: %v", table, counts[table], n, counts)
			}
		}
		if d, err := s.delivered(ctx, "c-1", ladiFlow); err != nil || len(d) != 1 {
			t.Errorf("LadiFlow's delivered fields while its delivery waits: %v, %v", d, err)
		}
		// The delivery fails: it may be retried while its fields are kept...
		_, _, err = s.DropDelivery(ctx, "c-1", ladiFlow, p.Version, func(tx *sql.Tx, p Pending, _ bool) error {
			return s.EndDeliveryTx(ctx, tx, p, model.VendorResult{Status: model.StatusFailed}, old)
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Purge(ctx, now, keep); err != nil {
			t.Fatal(err)
		}
		if counts, _ = s.rowCounts(ctx); counts["delivered_seqs"] != 1 || counts["ended_deliveries"] != 1 {
			t.Errorf("while a retry may send: %v", counts)
		}
		// ...and once they are dropped, nothing of the update is left but what was written
		// now: its event and the customer's last-delivery records (stamped with the wall
		// clock), and the key in flight.
		if _, err := s.PurgeDeliveryFields(ctx, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Purge(ctx, now, keep); err != nil {
			t.Fatal(err)
		}
		counts, _ = s.rowCounts(ctx)
		for table, n := range counts {
			if n != map[string]int{"idempotency_keys": 1, "gateway_events": 1, "customer_vendors": 2}[table] {
				t.Errorf("%s holds %d rows once nothing can be sent: %v", table, n, counts)
			}
		}
	})
}

// TestPurgeTakesTurns: on PostgreSQL a purge that finds another one's lock held deletes
// nothing and says so; it purges once the lock is free.
func TestPurgeTakesTurns(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		if err := s.RecordEvent(ctx, model.AuditEvent{OccurredAt: time.Now().Add(-time.Hour), Kind: model.KindCustomerUpdate}); err != nil {
			t.Fatal(err)
		}
		if s.engine == EnginePostgres {
			tx, err := s.w.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if ok, err := s.purgeLock(ctx, tx); err != nil || !ok {
				t.Fatalf("lock: %v, %v", ok, err)
			}
			purged, err := s.Purge(ctx, time.Now(), time.Minute)
			if err != nil || !purged.Busy || purged.Total() != 0 {
				t.Errorf("purge beside a held lock = %+v, %v; want busy and nothing deleted", purged, err)
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
		}
		purged, err := s.Purge(ctx, time.Now(), time.Minute)
		if err != nil || purged.Busy || purged.Events != 1 {
			t.Errorf("purge = %+v, %v; want the event deleted", purged, err)
		}
	})
}
