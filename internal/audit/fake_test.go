package audit

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// gauge counts calls in flight, possibly shared by several readers.
type gauge struct {
	mu       sync.Mutex
	now, max int
}

func (g *gauge) add(d int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.now += d
	g.max = max(g.max, g.now)
}

func (g *gauge) peak() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.max
}

// fakeReader is a model.AuditSourceReader over a fixed list of events that records the
// windows it is asked for and how many calls ran at once.
type fakeReader struct {
	source model.AuditSource
	events []model.AuditEvent
	delay  time.Duration              // each successful call waits this long (or until cancelled)
	fail   func(w model.Window) error // a non-nil error fails that window at once
	panics func(w model.Window) bool  // true panics in that window
	sloppy bool                       // returns every event, ignoring the window
	onCall func(w model.Window)       // runs at the start of each call
	gauge  *gauge                     // calls in flight; shared when set by the test

	mu        sync.Mutex
	calls     []model.Window
	cancelled int
}

func (f *fakeReader) Source() model.AuditSource { return f.source }

func (f *fakeReader) Events(ctx context.Context, w model.Window) ([]model.AuditEvent, error) {
	f.enter(w)
	defer f.gauge.add(-1)
	if f.onCall != nil {
		f.onCall(w)
	}
	if f.panics != nil && f.panics(w) {
		panic("reader bug")
	}
	if f.fail != nil {
		if err := f.fail(w); err != nil {
			return nil, err
		}
	}
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	var out []model.AuditEvent
	for _, e := range f.events {
		if f.sloppy || (!e.OccurredAt.Before(w.From) && e.OccurredAt.Before(w.To)) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeReader) enter(w model.Window) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gauge == nil {
		f.gauge = &gauge{}
	}
	f.calls = append(f.calls, w)
	f.gauge.add(1)
}

func (f *fakeReader) wait(ctx context.Context) error {
	if f.delay == 0 {
		return nil
	}
	select {
	case <-time.After(f.delay):
		return nil
	case <-ctx.Done():
		f.mu.Lock()
		f.cancelled++
		f.mu.Unlock()
		return ctx.Err()
	}
}

// asked returns the windows asked since the last call, sorted, as "from/to" in their own
// zone, and forgets them so the next assertion sees only new calls.
func (f *fakeReader) asked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	got := windowStrings(f.calls)
	f.calls = nil
	slices.Sort(got)
	return got
}
