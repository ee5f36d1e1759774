package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

var seoul = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		panic(err)
	}
	return loc
}()

func at(s string) time.Time {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return v
}

func ht(id, when string, typ model.AuditType, kind model.AuditKind) model.AuditEvent {
	return model.AuditEvent{ID: "happytalk:" + id, Source: model.AuditSource("happytalk"), OccurredAt: at(when), Type: typ, Kind: kind}
}

func gw(id, when, customer string) model.AuditEvent {
	return model.AuditEvent{ID: "gateway:" + id, Source: model.SourceGateway, OccurredAt: at(when), Kind: model.KindCustomerUpdate, CustomerID: customer}
}

// The fixture: three Seoul days, 2024-03-01 to 2024-03-04 (+09:00), with events on both edges.
var (
	fixtureFrom = at("2024-03-01T00:00:00+09:00")
	fixtureTo   = at("2024-03-04T00:00:00+09:00")
	htEvents    = []model.AuditEvent{
		ht("0", "2024-02-29T23:59:59+09:00", model.TypeAutomatic, model.KindArchive), // before from
		ht("1", "2024-03-01T00:00:00+09:00", model.TypeAutomatic, model.KindManagerAction),
		ht("2", "2024-03-01T17:14:28+09:00", model.TypeManual, model.KindArchive),
		ht("3", "2024-03-02T09:00:00+09:00", model.TypeAutomatic, model.KindKeyIssued),
		ht("4", "2024-03-03T23:59:59+09:00", model.TypeManual, model.KindManagerAction),
		ht("5", "2024-03-04T00:00:00+09:00", model.TypeAutomatic, model.KindArchive), // at to: excluded
	}
	gwEvents = []model.AuditEvent{
		gw("a", "2024-03-01T08:14:28Z", "c-1"), // the same instant as happytalk:2
		gw("b", "2024-03-02T23:30:00Z", "c-2"),
		gw("c", "2024-03-02T00:00:00-05:00", "c-1"),
		gw("z", "2024-03-03T15:00:00Z", "c-1"), // = to: excluded
	}
	// fixtureAsc is every event of the fixture range, by instant then id.
	fixtureAsc = []string{"happytalk:1", "gateway:a", "happytalk:2", "happytalk:3", "gateway:c", "gateway:b", "happytalk:4"}
)

func newHappyTalk(events []model.AuditEvent) *fakeReader {
	return &fakeReader{source: model.AuditSource("happytalk"), events: events, gauge: &gauge{}}
}

func newGatewayStore(events []model.AuditEvent) *fakeReader {
	return &fakeReader{source: model.SourceGateway, events: events, gauge: &gauge{}}
}

// testService serves HappyTalk in Seoul days and the gateway store as one UTC window; the
// clock defaults to a time after every fixture day.
func testService(cfg Config, readers ...*fakeReader) *Service {
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return at("2024-04-01T00:00:00Z") }
	}
	var sources []Source
	for _, r := range readers {
		if r.source == model.AuditSource("happytalk") {
			sources = append(sources, Source{Reader: r, Location: seoul, DayWindows: true})
		} else {
			sources = append(sources, Source{Reader: r, Location: time.UTC})
		}
	}
	return New(cfg, sources...)
}

func ids(events []model.AuditEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func fixtureQuery() Query { return Query{From: fixtureFrom, To: fixtureTo} }

func TestQueryWindowsAsked(t *testing.T) {
	tests := []struct {
		name      string
		from, to  string
		sources   []model.AuditSource
		happyTalk []string
		gateway   []string
	}{
		{
			name: "UTC range: Seoul days for HappyTalk, one window for the store",
			from: "2024-03-01T00:00:00Z", to: "2024-03-03T12:00:00Z",
			happyTalk: []string{
				"2024-03-01T09:00:00+09:00/2024-03-02T00:00:00+09:00",
				"2024-03-02T00:00:00+09:00/2024-03-03T00:00:00+09:00",
				"2024-03-03T00:00:00+09:00/2024-03-03T21:00:00+09:00",
			},
			gateway: []string{"2024-03-01T00:00:00Z/2024-03-03T12:00:00Z"},
		},
		{
			name: "one Seoul day given in -05:00, HappyTalk only",
			from: "2024-03-01T10:00:00-05:00", to: "2024-03-02T10:00:00-05:00",
			sources:   []model.AuditSource{model.AuditSource("happytalk")},
			happyTalk: []string{"2024-03-02T00:00:00+09:00/2024-03-03T00:00:00+09:00"},
		},
		{
			name: "gateway only",
			from: "2024-03-01T00:00:00+09:00", to: "2024-03-01T06:00:00+09:00",
			sources: []model.AuditSource{model.SourceGateway},
			gateway: []string{"2024-02-29T15:00:00Z/2024-02-29T21:00:00Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, g := newHappyTalk(nil), newGatewayStore(nil)
			_, err := testService(Config{}, h, g).Query(context.Background(), Query{From: at(tt.from), To: at(tt.to), Sources: tt.sources})
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if got := h.asked(); !slices.Equal(got, tt.happyTalk) {
				t.Errorf("HappyTalk asked %q, want %q", got, tt.happyTalk)
			}
			if got := g.asked(); !slices.Equal(got, tt.gateway) {
				t.Errorf("store asked %q, want %q", got, tt.gateway)
			}
		})
	}
}

func TestQueryFiltersAndOrder(t *testing.T) {
	tests := []struct {
		name   string
		modify func(q *Query)
		want   []string
	}{
		{"no filter, newest first", func(q *Query) {}, reversed(fixtureAsc)},
		{"order asc, ties by id, offsets interleaved", func(q *Query) { q.Order = OrderAsc }, fixtureAsc},
		{"source happytalk", func(q *Query) { q.Sources = []model.AuditSource{model.AuditSource("happytalk")} },
			[]string{"happytalk:4", "happytalk:3", "happytalk:2", "happytalk:1"}},
		{"source gateway named twice", func(q *Query) {
			q.Sources = []model.AuditSource{model.SourceGateway, model.SourceGateway}
		}, []string{"gateway:b", "gateway:c", "gateway:a"}},
		{"type manual", func(q *Query) { q.Type = model.TypeManual }, []string{"happytalk:4", "happytalk:2"}},
		{"kind manager_action", func(q *Query) { q.Kind = model.KindManagerAction }, []string{"happytalk:4", "happytalk:1"}},
		{"kind customer_update", func(q *Query) { q.Kind = model.KindCustomerUpdate }, []string{"gateway:b", "gateway:c", "gateway:a"}},
		{"customer_id leaves HappyTalk out", func(q *Query) { q.CustomerID = "c-1" }, []string{"gateway:c", "gateway:a"}},
		{"customer_id on HappyTalk only is empty", func(q *Query) {
			q.CustomerID = "c-1"
			q.Sources = []model.AuditSource{model.AuditSource("happytalk")}
		}, []string{}},
		{"type and kind together", func(q *Query) { q.Type = model.TypeAutomatic; q.Kind = model.KindArchive }, []string{}},
		{"range given in another offset", func(q *Query) {
			q.From, q.To = fixtureFrom.UTC(), fixtureTo.In(time.FixedZone("", -5*3600))
			q.Order = OrderAsc
		}, fixtureAsc},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := fixtureQuery()
			tt.modify(&q)
			page, err := testService(Config{}, newHappyTalk(htEvents), newGatewayStore(gwEvents)).Query(context.Background(), q)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if got := ids(page.Events); !slices.Equal(got, tt.want) {
				t.Errorf("events = %q, want %q", got, tt.want)
			}
			if page.NextCursor != nil {
				t.Errorf("next cursor set on the only page")
			}
		})
	}
}

// TestQueryDropsEventsOutsideTheirWindow: a reader that ignores the window must not make an
// event appear twice (once per window) or outside the range.
func TestQueryDropsEventsOutsideTheirWindow(t *testing.T) {
	h := newHappyTalk(htEvents)
	h.sloppy = true
	page, err := testService(Config{}, h).Query(context.Background(), Query{From: fixtureFrom, To: fixtureTo, Order: OrderAsc})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	want := []string{"happytalk:1", "happytalk:2", "happytalk:3", "happytalk:4"}
	if got := ids(page.Events); !slices.Equal(got, want) {
		t.Errorf("events = %q, want %q", got, want)
	}
}

func TestQueryStampsMissingSource(t *testing.T) {
	e := ht("9", "2024-03-01T12:00:00+09:00", model.TypeManual, model.KindArchive)
	e.Source = ""
	page, err := testService(Config{}, newHappyTalk([]model.AuditEvent{e})).Query(context.Background(), fixtureQuery())
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if len(page.Events) != 1 || page.Events[0].Source != model.AuditSource("happytalk") {
		t.Errorf("events = %+v, want one happytalk event", page.Events)
	}
}

func TestQueryEmptyPageJSON(t *testing.T) {
	page, err := testService(Config{}, newHappyTalk(nil)).Query(context.Background(), fixtureQuery())
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	got, err := json.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"events":[],"next_cursor":null}`; string(got) != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
}

func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var fe model.FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v (%T), want model.FieldErrors", err, err)
	}
	var fields []string
	for _, e := range fe {
		fields = append(fields, e.Field)
	}
	slices.Sort(fields)
	return fields
}

func TestQueryRejectsBadQueriesBeforeFetching(t *testing.T) {
	tests := []struct {
		name   string
		modify func(q *Query)
		want   []string
	}{
		{"from equals to", func(q *Query) { q.To = q.From }, []string{"to"}},
		{"from after to", func(q *Query) { q.From, q.To = q.To, q.From }, []string{"to"}},
		{"range over 31 days", func(q *Query) { q.To = q.From.Add(31*24*time.Hour + time.Second) }, []string{"to"}},
		{"missing from", func(q *Query) { q.From = time.Time{} }, []string{"from"}},
		{"missing both", func(q *Query) { q.From, q.To = time.Time{}, time.Time{} }, []string{"from", "to"}},
		{"limit negative", func(q *Query) { q.Limit = -1 }, []string{"limit"}},
		{"limit over 500", func(q *Query) { q.Limit = 501 }, []string{"limit"}},
		{"unknown order", func(q *Query) { q.Order = "newest" }, []string{"order"}},
		{"unknown type", func(q *Query) { q.Type = "robot" }, []string{"type"}},
		{"unknown kind", func(q *Query) { q.Kind = "deleted" }, []string{"kind"}},
		{"source not configured", func(q *Query) { q.Sources = []model.AuditSource{"ladiflow"} }, []string{"source"}},
		{"malformed cursor", func(q *Query) { q.Cursor = "abc" }, []string{"cursor"}},
		{"every problem named at once", func(q *Query) {
			q.To, q.Limit, q.Order = q.From, 501, "up"
		}, []string{"limit", "order", "to"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, g := newHappyTalk(htEvents), newGatewayStore(gwEvents)
			q := fixtureQuery()
			tt.modify(&q)
			page, err := testService(Config{}, h, g).Query(context.Background(), q)
			if got := fieldsOf(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("fields = %q, want %q", got, tt.want)
			}
			if page.Events != nil {
				t.Errorf("events returned with an error: %q", ids(page.Events))
			}
			if calls := append(h.asked(), g.asked()...); len(calls) != 0 {
				t.Errorf("fetched %q for a bad query", calls)
			}
		})
	}
}

func TestQueryAcceptsBounds(t *testing.T) {
	tests := []struct {
		name      string
		maxDays   int
		modify    func(q *Query)
		wantCount int
	}{
		{"exactly 31 days", 0, func(q *Query) { q.To = q.From.Add(31 * 24 * time.Hour) }, 8}, // happytalk:5 now inside
		{"limit 1", 0, func(q *Query) { q.Limit = 1 }, 1},
		{"limit 500", 0, func(q *Query) { q.Limit = 500 }, 7},
		{"limit 0 means 100", 0, func(q *Query) { q.Limit = 0 }, 7},
		{"MaxDays raised", 40, func(q *Query) { q.To = q.From.Add(40 * 24 * time.Hour) }, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := fixtureQuery()
			tt.modify(&q)
			svc := testService(Config{MaxDays: tt.maxDays}, newHappyTalk(htEvents), newGatewayStore(gwEvents[:3]))
			page, err := svc.Query(context.Background(), q)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if len(page.Events) != tt.wantCount {
				t.Errorf("%d events, want %d", len(page.Events), tt.wantCount)
			}
		})
	}
}

// TestQuerySkipsWindowsBeforeTheCursor: a later page asks only for the days that can still
// hold events after the cursor.
func TestQuerySkipsWindowsBeforeTheCursor(t *testing.T) {
	day1 := "2024-03-01T00:00:00+09:00/2024-03-02T00:00:00+09:00"
	day2 := "2024-03-02T00:00:00+09:00/2024-03-03T00:00:00+09:00"
	day3 := "2024-03-03T00:00:00+09:00/2024-03-04T00:00:00+09:00"
	tests := []struct {
		name   string
		order  string
		limit  int
		second []string // HappyTalk windows asked for the second page
	}{
		{"asc, cursor on day 1", OrderAsc, 3, []string{day1, day2, day3}},
		{"asc, cursor on day 2", OrderAsc, 4, []string{day2, day3}},
		{"desc, cursor on day 3", OrderDesc, 2, []string{day1, day2, day3}},
		{"desc, cursor on day 2", OrderDesc, 3, []string{day1, day2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHappyTalk(htEvents)
			svc := testService(Config{CacheDays: 0}, h, newGatewayStore(gwEvents))
			q := Query{From: fixtureFrom, To: fixtureTo, Order: tt.order, Limit: tt.limit}
			first, err := svc.Query(context.Background(), q)
			if err != nil || first.NextCursor == nil {
				t.Fatalf("first page: %v", err)
			}
			h.asked()
			q.Cursor = *first.NextCursor
			if _, err := svc.Query(context.Background(), q); err != nil {
				t.Fatalf("second page: %v", err)
			}
			if got := h.asked(); !slices.Equal(got, tt.second) {
				t.Errorf("second page asked %q, want %q", got, tt.second)
			}
		})
	}
}

func TestQueryRefusesForeignCursors(t *testing.T) {
	h, g := newHappyTalk(htEvents), newGatewayStore(gwEvents)
	svc := testService(Config{CursorKey: []byte("key one")}, h, g)
	other := testService(Config{CursorKey: []byte("key two")}, newHappyTalk(htEvents), newGatewayStore(gwEvents))
	first := fixtureQuery()
	first.Limit = 2
	page, err := svc.Query(context.Background(), first)
	if err != nil || page.NextCursor == nil {
		t.Fatalf("first page: %v, cursor %v", err, page.NextCursor)
	}
	cursor := *page.NextCursor
	foreign, err := other.Query(context.Background(), first)
	if err != nil || foreign.NextCursor == nil {
		t.Fatalf("first page on the other service: %v", err)
	}
	tampered := []byte(cursor)
	tampered[0] ^= 1 // still base64url, another payload byte
	tests := []struct {
		name   string
		cursor string
		modify func(q *Query)
		ok     bool
	}{
		{"tampered", string(tampered), func(q *Query) {}, false},
		{"signed with another key", *foreign.NextCursor, func(q *Query) {}, false},
		{"other order", cursor, func(q *Query) { q.Order = OrderAsc }, false},
		{"other from", cursor, func(q *Query) { q.From = q.From.Add(time.Second) }, false},
		{"other to", cursor, func(q *Query) { q.To = q.To.Add(-time.Second) }, false},
		{"other source", cursor, func(q *Query) { q.Sources = []model.AuditSource{model.AuditSource("happytalk")} }, false},
		{"other type", cursor, func(q *Query) { q.Type = model.TypeManual }, false},
		{"other kind", cursor, func(q *Query) { q.Kind = model.KindArchive }, false},
		{"other customer", cursor, func(q *Query) { q.CustomerID = "c-1" }, false},
		{"same query, other limit", cursor, func(q *Query) { q.Limit = 3 }, true},
		{"same range in another offset", cursor, func(q *Query) { q.From, q.To = q.From.UTC(), q.To.UTC() }, true},
		{"every source named", cursor, func(q *Query) {
			q.Sources = []model.AuditSource{model.SourceGateway, model.AuditSource("happytalk")}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.asked()
			g.asked()
			q := first
			tt.modify(&q)
			q.Cursor = tt.cursor
			_, err := svc.Query(context.Background(), q)
			if tt.ok {
				if err != nil {
					t.Errorf("Query: %v", err)
				}
				return
			}
			if got := fieldsOf(t, err); !slices.Equal(got, []string{"cursor"}) {
				t.Errorf("fields = %q, want [cursor]", got)
			}
			if calls := append(h.asked(), g.asked()...); len(calls) != 0 {
				t.Errorf("fetched %q for a refused cursor", calls)
			}
		})
	}
}

// crowd is many events, a lot of them in the same second in both sources, with ids whose
// string order differs from their numeric order.
func crowd() (happyTalk, gateway []model.AuditEvent, asc []string) {
	for i := range 40 {
		happyTalk = append(happyTalk, ht(fmt.Sprint(i), "2024-03-02T10:00:00+09:00", model.TypeAutomatic, model.KindManagerAction))
	}
	for i := range 25 {
		gateway = append(gateway, gw(fmt.Sprintf("g%d", i), "2024-03-02T01:00:00Z", "c-1")) // the same instant
	}
	for i := range 30 {
		when := fixtureFrom.Add(time.Duration(i)*131*time.Minute + time.Duration(i)*time.Millisecond)
		happyTalk = append(happyTalk, model.AuditEvent{ID: fmt.Sprintf("happytalk:x%d", i), Source: model.AuditSource("happytalk"),
			OccurredAt: when.In(seoul), Kind: model.KindArchive})
		gateway = append(gateway, model.AuditEvent{ID: fmt.Sprintf("gateway:y%d", i), Source: model.SourceGateway,
			OccurredAt: when.Add(time.Duration(i%3) * time.Millisecond).UTC(), Kind: model.KindCustomerUpdate})
	}
	all := slices.Concat(happyTalk, gateway)
	// Independent of the code under test: order by Unix nanoseconds, then id.
	slices.SortFunc(all, func(a, b model.AuditEvent) int {
		if d := a.OccurredAt.UnixNano() - b.OccurredAt.UnixNano(); d != 0 {
			return int(d / max(d, -d))
		}
		return strings.Compare(a.ID, b.ID)
	})
	return happyTalk, gateway, ids(all)
}

func TestQueryPagesThroughEveryEventOnce(t *testing.T) {
	happyTalk, gateway, asc := crowd()
	tests := []struct {
		order  string
		limits []int // cycled page after page
	}{
		{OrderAsc, []int{1}},
		{OrderDesc, []int{1}},
		{OrderAsc, []int{7}},
		{OrderDesc, []int{7}},
		{OrderDesc, []int{25}}, // divides the total: no empty last page
		{OrderAsc, []int{3, 11}},
		{OrderDesc, []int{500}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.order, tt.limits), func(t *testing.T) {
			want := asc
			if tt.order == OrderDesc {
				want = reversed(asc)
			}
			svc := testService(Config{}, newHappyTalk(happyTalk), newGatewayStore(gateway))
			var got []string
			cursor := ""
			for page := 0; ; page++ {
				if page > len(want) {
					t.Fatalf("more pages than events: the walk does not end")
				}
				limit := tt.limits[page%len(tt.limits)]
				res, err := svc.Query(context.Background(), Query{From: fixtureFrom, To: fixtureTo, Order: tt.order, Limit: limit, Cursor: cursor})
				if err != nil {
					t.Fatalf("page %d: %v", page, err)
				}
				got = append(got, ids(res.Events)...)
				if res.NextCursor == nil {
					break
				}
				if len(res.Events) != limit {
					t.Fatalf("page %d has %d events and a next cursor, want %d", page, len(res.Events), limit)
				}
				cursor = *res.NextCursor
			}
			if !slices.Equal(got, want) {
				t.Errorf("walk gave %d events, want %d in order; first difference at %d", len(got), len(want), firstDiff(got, want))
			}
		})
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestQueryFailsWholeOnAnyWindow(t *testing.T) {
	boom := errors.New("vendor said no")
	day2 := at("2024-03-02T00:00:00+09:00")
	tests := []struct {
		name       string
		setup      func(h, g *fakeReader)
		source     model.AuditSource
		from, to   string
		wantInText []string
		wantErr    error
	}{
		{
			name: "HappyTalk fails on its second day",
			setup: func(h, g *fakeReader) {
				h.fail = func(w model.Window) error {
					if w.From.Equal(day2) {
						return boom
					}
					return nil
				}
			},
			source: model.AuditSource("happytalk"), from: "2024-03-02T00:00:00+09:00", to: "2024-03-03T00:00:00+09:00",
			wantInText: []string{"happytalk", "2024-03-02T00:00:00+09:00", "2024-03-03T00:00:00+09:00", "vendor said no"},
			wantErr:    boom,
		},
		{
			name:   "the store fails",
			setup:  func(h, g *fakeReader) { g.fail = func(model.Window) error { return boom } },
			source: model.SourceGateway, from: "2024-02-29T15:00:00Z", to: "2024-03-03T15:00:00Z",
			wantInText: []string{"gateway", "2024-02-29T15:00:00Z", "2024-03-03T15:00:00Z"},
			wantErr:    boom,
		},
		{
			name:   "a reader panics",
			setup:  func(h, g *fakeReader) { h.panics = func(w model.Window) bool { return w.From.Equal(day2) } },
			source: model.AuditSource("happytalk"), from: "2024-03-02T00:00:00+09:00", to: "2024-03-03T00:00:00+09:00",
			wantInText: []string{"happytalk", "panicked"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, g := newHappyTalk(htEvents), newGatewayStore(gwEvents)
			tt.setup(h, g)
			page, err := testService(Config{}, h, g).Query(context.Background(), fixtureQuery())
			var se *SourceError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v (%T), want *SourceError", err, err)
			}
			if se.Source != tt.source || se.Window.From.Format(time.RFC3339) != tt.from || se.Window.To.Format(time.RFC3339) != tt.to {
				t.Errorf("SourceError names %s [%s, %s), want %s [%s, %s)", se.Source,
					se.Window.From.Format(time.RFC3339), se.Window.To.Format(time.RFC3339), tt.source, tt.from, tt.to)
			}
			for _, s := range tt.wantInText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v does not wrap %v", err, tt.wantErr)
			}
			if page.Events != nil || page.NextCursor != nil {
				t.Errorf("partial page returned with the error: %q", ids(page.Events))
			}
		})
	}
}

func TestQueryCancelsTheRestOnFirstFailure(t *testing.T) {
	h := newHappyTalk(nil)
	first := fixtureFrom
	h.fail = func(w model.Window) error {
		if w.From.Equal(first) {
			return errors.New("down")
		}
		return nil
	}
	h.delay = 10 * time.Second
	start := time.Now()
	_, err := testService(Config{Concurrency: 2}, h).Query(context.Background(),
		Query{From: fixtureFrom, To: fixtureFrom.AddDate(0, 0, 10)})
	var se *SourceError
	if !errors.As(err, &se) || !se.Window.From.Equal(first) {
		t.Fatalf("error = %v, want the first window's SourceError", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("query took %v: the other windows were not cancelled", elapsed)
	}
	if n := len(h.asked()); n > 2 {
		t.Errorf("%d windows started after the failure, want at most the 2 already running", n)
	}
}

func TestQueryCallerCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := testService(Config{}, newHappyTalk(htEvents)).Query(ctx, fixtureQuery())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestQueryConcurrencyBound(t *testing.T) {
	for _, limit := range []int{1, 3, 8} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			shared := &gauge{}
			h, g := newHappyTalk(nil), newGatewayStore(nil)
			h.gauge, g.gauge = shared, shared
			h.delay, g.delay = 30*time.Millisecond, 30*time.Millisecond
			_, err := testService(Config{Concurrency: limit}, h, g).Query(context.Background(),
				Query{From: fixtureFrom, To: fixtureFrom.AddDate(0, 0, 10)})
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if peak := shared.peak(); peak != limit {
				t.Errorf("%d calls in flight at most, want exactly the bound %d", peak, limit)
			}
			if n := len(h.asked()) + len(g.asked()); n != 11 {
				t.Errorf("%d windows fetched, want 11", n)
			}
		})
	}
}

func TestQueryNextPageOfClosedRangeIsCached(t *testing.T) {
	tests := []struct {
		cacheDays int
		refetched int
	}{
		{DefaultCacheDays, 0},
		{0, 4}, // disabled: every window again
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("cache ", tt.cacheDays), func(t *testing.T) {
			h, g := newHappyTalk(htEvents), newGatewayStore(gwEvents)
			svc := testService(Config{CacheDays: tt.cacheDays}, h, g)
			q := fixtureQuery()
			q.Limit = 2
			var got []string
			for page := 0; ; page++ {
				res, err := svc.Query(context.Background(), q)
				if err != nil {
					t.Fatalf("page %d: %v", page, err)
				}
				got = append(got, ids(res.Events)...)
				calls := len(h.asked()) + len(g.asked())
				switch {
				case page == 0 && calls != 4:
					t.Errorf("first page fetched %d windows, want 4", calls)
				case page == 1 && calls != tt.refetched:
					// The cursor is on the last day, so every window is still reachable.
					t.Errorf("second page fetched %d windows, want %d", calls, tt.refetched)
				}
				if res.NextCursor == nil {
					break
				}
				q.Cursor = *res.NextCursor
			}
			if want := reversed(fixtureAsc); !slices.Equal(got, want) {
				t.Errorf("walk = %q, want %q", got, want)
			}
		})
	}
}

// clock is a controllable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func TestQueryCachesOnlyClosedWindows(t *testing.T) {
	day3 := "2024-03-03T00:00:00+09:00/2024-03-04T00:00:00+09:00"
	store := "2024-02-29T15:00:00Z/2024-03-03T15:00:00Z"
	allDays := []string{
		"2024-03-01T00:00:00+09:00/2024-03-02T00:00:00+09:00",
		"2024-03-02T00:00:00+09:00/2024-03-03T00:00:00+09:00",
		day3,
	}
	tests := []struct {
		name             string
		now              string
		refetchHappyTalk []string
		refetchStore     []string
	}{
		{"every day over", "2024-04-01T00:00:00Z", nil, nil},
		{"last day open", "2024-03-03T12:00:00+09:00", []string{day3}, []string{store}},
		// A day just over may still gain late events: it is cached only after settleTime.
		{"last day ends exactly now", "2024-03-04T00:00:00+09:00", []string{day3}, []string{store}},
		{"last day over but not settled", "2024-03-04T00:09:59+09:00", []string{day3}, []string{store}},
		{"last day settled", "2024-03-04T00:10:00+09:00", nil, nil},
		{"every day open", "2024-03-01T00:00:00+09:00", allDays, []string{store}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: at(tt.now)}
			h, g := newHappyTalk(htEvents), newGatewayStore(gwEvents)
			svc := testService(Config{Now: clk.now, CacheDays: DefaultCacheDays}, h, g)
			for range 2 {
				h.asked()
				g.asked()
				if _, err := svc.Query(context.Background(), fixtureQuery()); err != nil {
					t.Fatalf("Query: %v", err)
				}
			}
			if got := h.asked(); !slices.Equal(got, tt.refetchHappyTalk) {
				t.Errorf("HappyTalk refetched %q, want %q", got, tt.refetchHappyTalk)
			}
			if got := g.asked(); !slices.Equal(got, tt.refetchStore) {
				t.Errorf("store refetched %q, want %q", got, tt.refetchStore)
			}
		})
	}
}

// TestQueryDayClosingDuringFetchIsNotCached: what counts is the clock when the fetch starts;
// a day still open then may have gained events the fetch did not see.
func TestQueryDayClosingDuringFetchIsNotCached(t *testing.T) {
	clk := &clock{t: at("2024-03-03T23:59:59+09:00")}
	h := newHappyTalk(htEvents)
	h.onCall = func(model.Window) { clk.set(at("2024-03-05T00:00:00+09:00")) }
	svc := testService(Config{Now: clk.now, CacheDays: DefaultCacheDays}, h)
	q := Query{From: at("2024-03-03T00:00:00+09:00"), To: fixtureTo}
	wantCalls := []int{1, 1, 0} // open at the first fetch, closed at the second, cached after
	for i, want := range wantCalls {
		if _, err := svc.Query(context.Background(), q); err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		if got := len(h.asked()); got != want {
			t.Errorf("query %d fetched %d windows, want %d", i, got, want)
		}
	}
}

func TestQueryCacheBound(t *testing.T) {
	tests := []struct {
		cacheDays int
		refetched int
	}{
		{3, 0},
		{2, 3}, // least recently used evicted in turn: every day again
		{1, 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.cacheDays), func(t *testing.T) {
			h := newHappyTalk(htEvents)
			svc := testService(Config{CacheDays: tt.cacheDays, Concurrency: 1}, h)
			for i := range 2 {
				if _, err := svc.Query(context.Background(), fixtureQuery()); err != nil {
					t.Fatalf("query %d: %v", i, err)
				}
				got := len(h.asked())
				if i == 1 && got != tt.refetched {
					t.Errorf("second query fetched %d windows, want %d", got, tt.refetched)
				}
			}
			if n := svc.sources[0].cache.len(); n > tt.cacheDays {
				t.Errorf("cache holds %d windows, bound %d", n, tt.cacheDays)
			}
		})
	}
}

func TestNewRefusesADuplicateSource(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("two readers of one source were accepted")
		}
	}()
	New(Config{}, Source{Reader: newHappyTalk(nil)}, Source{Reader: newHappyTalk(nil)})
}

// With no source configured the answer is an error, never an empty page that looks complete.
func TestQueryWithNoSourceIsAnError(t *testing.T) {
	svc := New(Config{CursorKey: []byte("k")})
	_, err := svc.Query(context.Background(), fixtureQuery())
	if !errors.Is(err, ErrNoSources) {
		t.Fatalf("err = %v, want ErrNoSources", err)
	}
}

// A source's Timeout bounds each of its reads: a hanging vendor fails the query (naming the
// source) as soon as its read's deadline passes, not when the vendor gives up.
func TestSourceTimeoutBoundsEachRead(t *testing.T) {
	hanging := newHappyTalk(nil)
	hanging.delay = time.Minute
	svc := New(Config{CursorKey: []byte("k"), Now: func() time.Time { return at("2024-04-01T00:00:00Z") }},
		Source{Reader: hanging, Location: seoul, DayWindows: true, Timeout: 50 * time.Millisecond})
	start := time.Now()
	_, err := svc.Query(context.Background(), fixtureQuery())
	var srcErr *SourceError
	if !errors.As(err, &srcErr) || srcErr.Source != "happytalk" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the happytalk source failing on its deadline", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("the query took %v: the read's timeout did not end it", took)
	}
}
