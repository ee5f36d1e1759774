package audit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// pagedReader is a source that pages itself, as the store does: it answers a page from its
// events (filtered, ordered, after the key, cut) and records the pages asked. Its Events
// fails the test's expectations by being counted.
type pagedReader struct {
	*fakeReader

	mu     sync.Mutex
	pages  []model.AuditPage
	events int // calls to Events
}

func newPagedGateway(events []model.AuditEvent) *pagedReader {
	return &pagedReader{fakeReader: newGatewayStore(events)}
}

func (p *pagedReader) Events(ctx context.Context, w model.Window) ([]model.AuditEvent, error) {
	p.mu.Lock()
	p.events++
	p.mu.Unlock()
	return p.fakeReader.Events(ctx, w)
}

func (p *pagedReader) EventsPage(_ context.Context, q model.AuditPage) ([]model.AuditEvent, error) {
	p.mu.Lock()
	p.pages = append(p.pages, q)
	p.mu.Unlock()
	cmp := func(a, b model.AuditEvent) int {
		c := a.OccurredAt.Compare(b.OccurredAt)
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		if q.Desc {
			return -c
		}
		return c
	}
	var out []model.AuditEvent
	for _, e := range p.fakeReader.events {
		switch {
		case e.OccurredAt.Before(q.Window.From) || !e.OccurredAt.Before(q.Window.To),
			q.Type != "" && e.Type != q.Type,
			q.Kind != "" && e.Kind != q.Kind,
			q.CustomerID != "" && e.CustomerID != q.CustomerID,
			q.After != nil && cmp(e, model.AuditEvent{OccurredAt: q.After.At, ID: q.After.ID}) <= 0:
			continue
		}
		out = append(out, e)
	}
	slices.SortFunc(out, cmp)
	return out[:min(len(out), q.Limit)], nil
}

func (p *pagedReader) asked() ([]model.AuditPage, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pages, events := p.pages, p.events
	p.pages, p.events = nil, 0
	return pages, events
}

// walk pages through q with svc, limit events a page, and answers every event's id in turn.
func walk(t *testing.T, svc *Service, q Query, limit int) []string {
	t.Helper()
	var got []string
	q.Limit = limit
	for page := 0; ; page++ {
		if page > 200 {
			t.Fatal("the walk does not end")
		}
		res, err := svc.Query(context.Background(), q)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		got = append(got, ids(res.Events)...)
		if res.NextCursor == nil {
			return got
		}
		if len(res.Events) != limit {
			t.Fatalf("page %d has %d events and a next cursor, want %d", page, len(res.Events), limit)
		}
		q.Cursor = *res.NextCursor
	}
}

// TestQueryPagedSourceMergesAsWholeReads: a source that pages itself, merged with HappyTalk
// read day by day, gives page after page the same events, in the same order, as the same
// source read whole and filtered in memory, under each filter, in both orders and at every
// page size; it is asked for one page of limit+1 events after the cursor, its filters in the
// page, and never for a whole window.
func TestQueryPagedSourceMergesAsWholeReads(t *testing.T) {
	happyTalk, gateway, _ := crowd()
	happyTalk, gateway = append(happyTalk, htEvents...), append(gateway, gwEvents...)
	gateway = append(gateway,
		model.AuditEvent{ID: "gateway:d1", Source: model.SourceGateway, OccurredAt: at("2024-03-02T01:00:00Z"), Kind: model.KindVendorDelivery, CustomerID: "c-2", Type: model.TypeAutomatic},
		model.AuditEvent{ID: "gateway:d2", Source: model.SourceGateway, OccurredAt: at("2024-03-03T01:00:00Z"), Kind: model.KindDeliveryAction, CustomerID: "c-1", Type: model.TypeManual})
	filters := []struct {
		name   string
		modify func(q *Query)
	}{
		{"none", func(q *Query) {}},
		{"customer c-1", func(q *Query) { q.CustomerID = "c-1" }},
		{"kind vendor_delivery", func(q *Query) { q.Kind = model.KindVendorDelivery }},
		{"kind manager_action", func(q *Query) { q.Kind = model.KindManagerAction }},
		{"type manual", func(q *Query) { q.Type = model.TypeManual }},
		{"gateway only", func(q *Query) { q.Sources = []model.AuditSource{model.SourceGateway} }},
	}
	for _, f := range filters {
		for _, order := range []string{OrderAsc, OrderDesc} {
			for _, limit := range []int{1, 4, 500} {
				t.Run(fmt.Sprint(f.name, order, limit), func(t *testing.T) {
					q := Query{From: fixtureFrom, To: fixtureTo, Order: order}
					f.modify(&q)
					want := walk(t, testService(Config{}, newHappyTalk(happyTalk), newGatewayStore(gateway)), q, limit)
					paged := newPagedGateway(gateway)
					svc := New(Config{Now: func() time.Time { return at("2024-04-01T00:00:00Z") }},
						Source{Reader: newHappyTalk(happyTalk), Location: seoul, DayWindows: true},
						Source{Reader: paged, Location: time.UTC})
					if got := walk(t, svc, q, limit); !slices.Equal(got, want) {
						t.Fatalf("paged walk gave\n%q\nwant\n%q", got, want)
					}
					pages, events := paged.asked()
					if events != 0 {
						t.Errorf("the paged source was read whole %d times", events)
					}
					for i, p := range pages {
						if p.Limit != limit+1 || p.Kind != q.Kind || p.Type != q.Type || p.CustomerID != q.CustomerID || p.Desc != (order == OrderDesc) {
							t.Errorf("page %d asked %+v for limit %d of %+v", i, p, limit, q)
						}
						if (i == 0) != (p.After == nil) {
							t.Errorf("page %d asked after %v", i, p.After)
						}
					}
				})
			}
		}
	}
}

// TestQueryRefusesARangeBeforeWhatIsKept: a range that starts before what a source read
// keeps is a 400 on from, and nothing is fetched; the same range from sources that keep
// everything is answered, and a range from the first kept instant on is.
func TestQueryRefusesARangeBeforeWhatIsKept(t *testing.T) {
	now := at("2024-03-31T00:00:00Z")
	retention := 30 * 24 * time.Hour // kept since 2024-03-01T00:00:00Z
	h, g := newHappyTalk(htEvents), newPagedGateway(gwEvents)
	svc := New(Config{Now: func() time.Time { return now }},
		Source{Reader: h, Location: seoul, DayWindows: true},
		Source{Reader: g, Location: time.UTC, Retention: retention})

	_, err := svc.Query(context.Background(), Query{From: fixtureFrom, To: fixtureTo}) // 2024-02-29T15:00Z
	if got := fieldsOf(t, err); !slices.Equal(got, []string{"from"}) {
		t.Fatalf("fields = %q, want [from]", got)
	}
	if !strings.Contains(err.Error(), "2024-03-01T00:00:00Z") {
		t.Errorf("the problem does not say from when events are kept: %v", err)
	}
	if pages, _ := g.asked(); len(pages) != 0 || len(h.asked()) != 0 {
		t.Errorf("fetched for a refused range")
	}
	if _, err := svc.Query(context.Background(), Query{From: fixtureFrom, To: fixtureTo, Sources: []model.AuditSource{"happytalk"}}); err != nil {
		t.Errorf("HappyTalk alone over the same range: %v", err)
	}
	if _, err := svc.Query(context.Background(), Query{From: now.Add(-retention), To: now}); err != nil {
		t.Errorf("from the first kept instant: %v", err)
	}
}
