package audit

import (
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

func dayWindow(day int) model.Window {
	from := time.Date(2024, 1, day, 0, 0, 0, 0, time.UTC)
	return model.Window{From: from, To: from.AddDate(0, 0, 1)}
}

func TestWindowCache(t *testing.T) {
	events := []model.AuditEvent{{ID: "e1"}}
	tests := []struct {
		name     string
		capacity int
		put      []int // days stored, in order
		touch    []int // days read after storing, refreshing them
		want     []int // days that must still be cached
		gone     []int // days that must have been evicted
	}{
		{name: "disabled stores nothing", capacity: 0, put: []int{1, 2}, gone: []int{1, 2}},
		{name: "under capacity keeps all", capacity: 3, put: []int{1, 2, 3}, want: []int{1, 2, 3}},
		{name: "evicts the oldest", capacity: 2, put: []int{1, 2, 3}, want: []int{2, 3}, gone: []int{1}},
		{name: "a read refreshes", capacity: 2, put: []int{1, 2}, touch: []int{1}, want: []int{1}, gone: []int{2}},
		{name: "storing again does not grow", capacity: 2, put: []int{1, 1, 1, 2}, want: []int{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newWindowCache(tt.capacity)
			for _, d := range tt.put {
				c.put(dayWindow(d), events)
			}
			for _, d := range tt.touch {
				c.get(dayWindow(d))
			}
			if len(tt.touch) > 0 {
				c.put(dayWindow(9), events) // forces one eviction after the refresh
			}
			for _, d := range tt.want {
				if got, ok := c.get(dayWindow(d)); !ok || len(got) != 1 {
					t.Errorf("day %d not cached (ok=%v, %d events)", d, ok, len(got))
				}
			}
			for _, d := range tt.gone {
				if _, ok := c.get(dayWindow(d)); ok {
					t.Errorf("day %d still cached", d)
				}
			}
			if c.len() > tt.capacity {
				t.Errorf("cache holds %d windows, capacity %d", c.len(), tt.capacity)
			}
		})
	}
}

func TestWindowCacheKeysByInstant(t *testing.T) {
	c := newWindowCache(4)
	w := dayWindow(1)
	c.put(w, []model.AuditEvent{{ID: "e1"}})
	kst := time.FixedZone("KST", 9*3600)
	if _, ok := c.get(model.Window{From: w.From.In(kst), To: w.To.In(kst)}); !ok {
		t.Error("the same window written in another zone missed the cache")
	}
	got, _ := c.get(w)
	got[0].ID = "changed"
	if again, _ := c.get(w); again[0].ID != "e1" {
		t.Errorf("a caller's change reached the cache: %q", again[0].ID)
	}
}
