package store

import (
	"database/sql"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// PendingByVendor counts each vendor's waiting deliveries and finds the oldest one's queue
// time: a merge keeps its row's first time, a finished delivery leaves the count.
func TestPendingByVendor(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		if got, err := s.PendingByVendor(ctx); err != nil || len(got) != 0 {
			t.Fatalf("empty queue: %v, %v", got, err)
		}
		t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
		queue := func(customer string, v model.Vendor, at time.Time, seq int64) Pending {
			t.Helper()
			p, err := s.QueueDelivery(ctx, customer, v, fieldsOf(t, `{"email":"a@example.com"}`, seq), model.Origin{}, at, time.Hour, noJob)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		queue("c-1", ladiFlow, t0.Add(time.Minute), 1)
		queue("c-2", ladiFlow, t0, 1)
		queue("c-2", ladiFlow, t0.Add(5*time.Minute), 2) // merged: c-2 still waits since t0
		last := queue("c-3", ladiFlow, t0.Add(2*time.Minute), 1)
		queue("c-1", happyTalk, t0.Add(3*time.Minute), 1)

		want := map[model.Vendor]VendorQueue{ladiFlow: {Count: 3, Oldest: t0}, happyTalk: {Count: 1, Oldest: t0.Add(3 * time.Minute)}}
		check := func(want map[model.Vendor]VendorQueue) {
			t.Helper()
			got, err := s.PendingByVendor(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("PendingByVendor = %v, want %v", got, want)
			}
			for v, w := range want {
				if g := got[v]; g.Count != w.Count || !g.Oldest.Equal(w.Oldest) {
					t.Errorf("%s: %+v, want %+v", v, g, w)
				}
			}
		}
		check(want)

		done, err := s.FinishDelivery(ctx, "c-3", ladiFlow, last.Version, last.Fields, func(*sql.Tx) error { return nil })
		if err != nil || !done {
			t.Fatalf("finish: %v, %v", done, err)
		}
		want[ladiFlow] = VendorQueue{Count: 2, Oldest: t0}
		check(want)
	})
}
