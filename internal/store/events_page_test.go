package store

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// TestEventsPage pages through events with ties at one instant and ids whose byte order is
// not a language's (upper case before lower, '-' before letters), under every filter and
// in both orders: the pages, each starting after the last event of the one before, list
// exactly the events of the window that match, in occurred_at then id byte order, as the
// audit trail merges them.
func TestEventsPage(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	w := model.Window{From: from, To: from.Add(time.Hour)}
	ids := []string{"gateway:a", "gateway:B", "gateway:b-1", "gateway:b1", "gateway:Z", "gateway:-"}
	var stored []model.AuditEvent
	for i := range 40 {
		e := model.AuditEvent{
			ID:         fmt.Sprintf("%s%02d", ids[i%len(ids)], i),
			OccurredAt: from.Add(time.Duration(i/4) * time.Minute), // four events an instant
			Type:       []model.AuditType{model.TypeAutomatic, model.TypeManual}[i%2],
			Kind:       []model.AuditKind{model.KindCustomerUpdate, model.KindVendorDelivery, model.KindDeliveryAction}[i%3],
			CustomerID: fmt.Sprintf("c-%d", i%4),
		}
		if i%6 == 5 {
			e.ID = ids[i%len(ids)] + "x" // same prefix, another length
			e.ID = fmt.Sprintf("%s%d", e.ID, i)
		}
		stored = append(stored, e)
	}
	// Outside the window on either side.
	stored = append(stored,
		model.AuditEvent{ID: "gateway:before", OccurredAt: w.From.Add(-time.Nanosecond), Kind: model.KindCustomerUpdate},
		model.AuditEvent{ID: "gateway:at-to", OccurredAt: w.To, Kind: model.KindCustomerUpdate})
	filters := []model.AuditPage{
		{},
		{Kind: model.KindVendorDelivery},
		{Type: model.TypeManual},
		{CustomerID: "c-1"},
		{CustomerID: "c-2", Kind: model.KindCustomerUpdate, Type: model.TypeAutomatic},
		{CustomerID: "c-none"},
	}
	forEachEngine(t, func(t *testing.T, s *Store) {
		for _, e := range stored {
			if err := s.RecordEvent(t.Context(), e); err != nil {
				t.Fatal(err)
			}
		}
		all, err := s.Events(t.Context(), w)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range filters {
			for _, desc := range []bool{false, true} {
				for _, limit := range []int{1, 3, 100} {
					want := expectedPage(all, f, desc)
					var got []string
					p := f
					p.Window, p.Desc, p.Limit = w, desc, limit
					for pages := 0; ; pages++ {
						if pages > len(stored) {
							t.Fatalf("%+v: paging does not end", f)
						}
						page, err := s.EventsPage(t.Context(), p)
						if err != nil {
							t.Fatal(err)
						}
						if len(page) > limit {
							t.Fatalf("%+v: %d events, limit %d", f, len(page), limit)
						}
						for _, e := range page {
							got = append(got, e.ID)
						}
						if len(page) < limit {
							break
						}
						last := page[len(page)-1]
						p.After = &model.AuditKey{At: last.OccurredAt, ID: last.ID}
					}
					if !slices.Equal(got, want) {
						t.Errorf("kind %q type %q customer %q desc %v limit %d:\n got %v\nwant %v", f.Kind, f.Type, f.CustomerID, desc, limit, got, want)
					}
				}
			}
		}
		// A page answers the events themselves, as Events does.
		page, err := s.EventsPage(t.Context(), model.AuditPage{Window: w, Limit: 1})
		if err != nil || len(page) != 1 || !reflect.DeepEqual(page[0], all[0]) {
			t.Errorf("first event %+v, %v; want %+v", page, err, all[0])
		}
	})
}

// expectedPage is what paging through events under f must list: the matching events in
// occurred_at then id byte order, reversed when desc.
func expectedPage(events []model.AuditEvent, f model.AuditPage, desc bool) []string {
	var kept []model.AuditEvent
	for _, e := range events {
		if (f.Kind == "" || e.Kind == f.Kind) && (f.Type == "" || e.Type == f.Type) && (f.CustomerID == "" || e.CustomerID == f.CustomerID) {
			kept = append(kept, e)
		}
	}
	slices.SortFunc(kept, func(a, b model.AuditEvent) int {
		c := a.OccurredAt.Compare(b.OccurredAt)
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		if desc {
			return -c
		}
		return c
	})
	var ids []string
	for _, e := range kept {
		ids = append(ids, e.ID)
	}
	return ids
}
