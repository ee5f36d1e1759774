package store

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

func updateEvent(id string, at time.Time) model.AuditEvent {
	return model.AuditEvent{ID: id, Source: model.SourceGateway, OccurredAt: at, Kind: model.KindCustomerUpdate, CustomerID: "c-42"}
}

// TestEventsWindow stores events around a window and reads it back: From is inclusive, To
// exclusive to the nanosecond, and the answer is ordered by occurred_at then id.
func TestEventsWindow(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.FixedZone("KST", 9*3600))
	to := from.Add(24 * time.Hour)
	stored := []model.AuditEvent{
		updateEvent("gateway:before", from.Add(-time.Nanosecond)),
		updateEvent("gateway:c", from.Add(time.Hour)),
		updateEvent("gateway:at-to", to),
		updateEvent("gateway:at-from", from),
		updateEvent("gateway:b", from.Add(time.Hour)),
		updateEvent("gateway:last", to.Add(-time.Nanosecond)),
		updateEvent("gateway:a", from.Add(time.Hour+time.Nanosecond)),
	}
	tests := []struct {
		name string
		w    model.Window
		want []string
	}{
		{"the day", model.Window{From: from, To: to}, []string{"gateway:at-from", "gateway:b", "gateway:c", "gateway:a", "gateway:last"}},
		{"the same day in UTC", model.Window{From: from.UTC(), To: to.UTC()}, []string{"gateway:at-from", "gateway:b", "gateway:c", "gateway:a", "gateway:last"}},
		{"one nanosecond", model.Window{From: from.Add(-time.Nanosecond), To: from}, []string{"gateway:before"}},
		{"from the end on", model.Window{From: to, To: to.Add(time.Hour)}, []string{"gateway:at-to"}},
		{"an empty window", model.Window{From: from.Add(2 * time.Hour), To: from.Add(3 * time.Hour)}, nil},
	}
	forEachEngine(t, func(t *testing.T, s *Store) {
		if s.Source() != model.SourceGateway {
			t.Fatalf("Source() = %s", s.Source())
		}
		for _, e := range stored {
			if err := s.RecordEvent(t.Context(), e); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range tests {
			events, err := s.Events(t.Context(), tc.w)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range events {
				ids = append(ids, e.ID)
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("%s: events %v, want %v", tc.name, ids, tc.want)
			}
		}
	})
}

// TestEventRoundTrip stores an event with every field and reads back the same event, its
// times in UTC at full precision.
func TestEventRoundTrip(t *testing.T) {
	t.Parallel()
	applied := time.Date(2026, 3, 1, 10, 0, 0, 987654321, time.FixedZone("ICT", 7*3600))
	in := model.AuditEvent{
		ID:         "gateway:full",
		Source:     model.SourceGateway,
		OccurredAt: time.Date(2026, 3, 1, 9, 59, 59, 123456789, time.FixedZone("KST", 9*3600)),
		Type:       model.TypeManual,
		Kind:       model.KindCustomerUpdate,
		Actor:      "crm-service",
		Summary:    "customer update: 2 fields",
		TargetID:   "c-42",
		Result:     "partial",
		AppliedAt:  &applied,
		CustomerID: "c-42",
		Details: map[string]any{
			"fields":  []any{"email", "vendor_refs.happytalk.room_id"},
			"vendors": map[string]any{"happytalk": "ok", "ladiflow": "failed"},
		},
	}
	forEachEngine(t, func(t *testing.T, s *Store) {
		if err := s.RecordEvent(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		got, err := s.Events(t.Context(), model.Window{From: in.OccurredAt, To: in.OccurredAt.Add(time.Nanosecond)})
		if err != nil || len(got) != 1 {
			t.Fatalf("Events = %v, %v", got, err)
		}
		e := got[0]
		if e.OccurredAt.Location() != time.UTC || e.AppliedAt.Location() != time.UTC {
			t.Errorf("times not in UTC: %v, %v", e.OccurredAt, e.AppliedAt)
		}
		want := in
		want.OccurredAt = in.OccurredAt.UTC()
		appliedUTC := applied.UTC()
		want.AppliedAt = &appliedUTC
		if !reflect.DeepEqual(e, want) {
			t.Errorf("read back\n%+v\nwant\n%+v", e, want)
		}
	})
}

func TestRecordEventRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		e       model.AuditEvent
		errPart string
	}{
		{"a HappyTalk event", model.AuditEvent{Source: model.AuditSource("happytalk"), OccurredAt: t0, Kind: model.KindArchive}, "only gateway events"},
		{"no time", model.AuditEvent{Kind: model.KindCustomerUpdate}, "occurred_at"},
		{"no kind", model.AuditEvent{OccurredAt: t0}, "kind"},
	}
	forEachEngine(t, func(t *testing.T, s *Store) {
		for _, tc := range tests {
			if err := s.RecordEvent(t.Context(), tc.e); err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Errorf("%s: RecordEvent = %v, want an error naming %s", tc.name, err, tc.errPart)
			}
		}
		e := updateEvent("gateway:once", t0)
		if err := s.RecordEvent(t.Context(), e); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordEvent(t.Context(), e); !errors.Is(err, ErrDuplicateEvent) {
			t.Errorf("a second event with the same id: %v, want ErrDuplicateEvent", err)
		}
		// An event given no id or source gets a gateway id and source.
		if err := s.RecordEvent(t.Context(), model.AuditEvent{OccurredAt: t0.Add(time.Second), Kind: model.KindCustomerUpdate}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Events(t.Context(), model.Window{From: t0.Add(time.Second), To: t0.Add(2 * time.Second)})
		if err != nil || len(got) != 1 || !strings.HasPrefix(got[0].ID, "gateway:") || got[0].Source != model.SourceGateway {
			t.Errorf("generated event = %+v, %v", got, err)
		}
	})
}
