// Package audit answers GET /audit-history: it cuts a time range into the windows each source
// can be asked for, fetches them concurrently (bounded), merges, filters and sorts the events,
// and pages through them with a signed keyset cursor. A source that fails for any window fails
// the whole query: an audit trail is never silently incomplete.
package audit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// Defaults and bounds of the configuration and of a query.
const (
	DefaultMaxDays     = 31
	DefaultConcurrency = 4
	DefaultCacheDays   = 512
	DefaultLimit       = 100
	MaxLimit           = 500
)

// Orders a query may ask for.
const (
	OrderDesc = "desc"
	OrderAsc  = "asc"
)

// Config tunes a Service. MaxDays and Concurrency fall back to their defaults when not
// positive; CacheDays 0 (or less) disables the cache, so start from DefaultConfig to keep it.
type Config struct {
	MaxDays     int              // GATEWAY_AUDIT_MAX_DAYS: the longest range a query may span
	Concurrency int              // windows fetched at once, over all sources
	CacheDays   int              // closed windows kept in memory per source; 0 disables
	CursorKey   []byte           // HMAC key for cursors; random (per process) when empty
	Now         func() time.Time // the clock that decides whether a window is closed
}

// DefaultConfig returns the defaults: 31 days, 4 windows at once, 512 cached windows per
// source, a random cursor key and the wall clock.
func DefaultConfig() Config {
	return Config{MaxDays: DefaultMaxDays, Concurrency: DefaultConcurrency, CacheDays: DefaultCacheDays}
}

// Source is one readable source with the zone its days are cut in (a vendor's account zone)
// and whether it must be asked one calendar day at a time (a vendor may demand it; a store
// does not: one window for the whole range). Timeout bounds each read (0: only the query's
// own deadline), so a hanging vendor cannot hold a query until it gives up. Retention is how
// long the source keeps its events (0: for ever): a range that starts before that is
// refused rather than answered short. A Reader that is a model.AuditPageReader, asked for
// one window, is asked for the page itself, filtered, ordered and cut where it is kept.
type Source struct {
	Reader     model.AuditSourceReader
	Location   *time.Location
	DayWindows bool
	Timeout    time.Duration
	Retention  time.Duration
}

// Query selects events in [From, To). Empty filters match everything.
type Query struct {
	From, To   time.Time
	Sources    []model.AuditSource // empty: every configured source
	Type       model.AuditType     // "": any
	Kind       model.AuditKind     // "": any
	CustomerID string              // "": any; otherwise only events carrying this customer id
	Order      string              // OrderDesc (default) or OrderAsc
	Limit      int                 // 1-MaxLimit; 0 means DefaultLimit
	Cursor     string              // NextCursor of the previous page, or ""
}

// Page is one page of events; NextCursor is nil on the last page.
type Page struct {
	Events     []model.AuditEvent `json:"events"`
	NextCursor *string            `json:"next_cursor"`
}

// SourceError says which source could not be read for which window; the gateway answers 502.
type SourceError struct {
	Source model.AuditSource
	Window model.Window // bounds in the source's own zone
	Err    error
}

func (e *SourceError) Error() string {
	return fmt.Sprintf("audit source %s could not be read for [%s, %s): %v", e.Source,
		e.Window.From.Format(time.RFC3339), e.Window.To.Format(time.RFC3339), e.Err)
}

// Unwrap returns the reader's error.
func (e *SourceError) Unwrap() error { return e.Err }

// Service answers audit-history queries over its sources; it is safe for concurrent use.
type Service struct {
	cfg     Config
	cursors cursorCodec
	sources []*source // in the order given to New
}

// source is a configured Source with its cache of closed windows.
type source struct {
	Source
	name  model.AuditSource
	cache *windowCache
}

// New returns a Service over sources. It panics when two sources have the same name, a wiring
// mistake that would otherwise make one of them unreachable.
func New(cfg Config, sources ...Source) *Service {
	cfg = withDefaults(cfg)
	s := &Service{cfg: cfg, cursors: cursorCodec{key: cfg.CursorKey}}
	for _, src := range sources {
		if src.Location == nil {
			src.Location = time.UTC
		}
		name := src.Reader.Source()
		if s.source(name) != nil {
			panic(fmt.Sprintf("audit: source %q configured twice", name))
		}
		s.sources = append(s.sources, &source{Source: src, name: name, cache: newWindowCache(cfg.CacheDays)})
	}
	return s
}

func withDefaults(cfg Config) Config {
	if cfg.MaxDays <= 0 {
		cfg.MaxDays = DefaultMaxDays
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if len(cfg.CursorKey) == 0 {
		cfg.CursorKey = make([]byte, 32)
		rand.Read(cfg.CursorKey) // never fails since Go 1.24
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

func (s *Service) source(name model.AuditSource) *source {
	for _, src := range s.sources {
		if src.name == name {
			return src
		}
	}
	return nil
}

// ErrNoSources is a gateway with no audit source configured: an empty answer would look like
// a complete, empty trail.
var ErrNoSources = errors.New("no audit source is configured")

// Query returns one page of the events q selects. A query that cannot be answered as asked is
// a model.FieldErrors naming each offending parameter (from, to, source, type, kind, order,
// limit, cursor) and nothing is fetched; a source that fails for any window is a *SourceError.
func (s *Service) Query(ctx context.Context, q Query) (Page, error) {
	if len(s.sources) == 0 {
		return Page{}, ErrNoSources
	}
	p, err := s.plan(q)
	if err != nil {
		return Page{}, err
	}
	fetched, err := s.fetch(ctx, p.tasks())
	if err != nil {
		return Page{}, err
	}
	return s.page(p, fetched), nil
}

// page filters, sorts and cuts the fetched events; one more event than the limit tells
// whether there is a next page.
func (s *Service) page(p plan, fetched [][]model.AuditEvent) Page {
	events := make([]model.AuditEvent, 0)
	for _, batch := range fetched {
		for _, e := range batch {
			if p.matches(e) {
				events = append(events, e)
			}
		}
	}
	slices.SortFunc(events, p.compare)
	if len(events) <= p.q.Limit {
		return Page{Events: events}
	}
	events = events[:p.q.Limit]
	next := s.cursors.encode(p.fingerprint, keyOfEvent(events[len(events)-1]))
	return Page{Events: events, NextCursor: &next}
}

// task is one window of one source to fetch; with page set, the source is asked for that
// page of the window, which it filters, orders and cuts itself.
type task struct {
	src    *source
	window model.Window
	page   *model.AuditPage
}

// fetch reads every task, at most Concurrency at once, and returns their events in task
// order. The first failure cancels the others and is the error returned.
func (s *Service) fetch(parent context.Context, tasks []task) ([][]model.AuditEvent, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	results := make([][]model.AuditEvent, len(tasks))
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	fail := func(err error) { once.Do(func() { firstErr = err; cancel() }) }
	slots := make(chan struct{}, s.cfg.Concurrency)
	for i, t := range tasks {
		if !acquire(ctx, slots) {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			events, err := s.fetchWindow(ctx, t)
			if err != nil {
				fail(err)
				return
			}
			results[i] = events
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := parent.Err(); err != nil {
		// Cancelled before every window was launched: some windows were never read.
		return nil, fmt.Errorf("audit history: %w", err)
	}
	return results, nil
}

// acquire takes a slot unless ctx ends first.
func acquire(ctx context.Context, slots chan struct{}) bool {
	if ctx.Err() != nil {
		return false
	}
	select {
	case slots <- struct{}{}:
		// Both cases may be ready at once and select picks at random: a slot freed by a
		// failed window must not start another one.
		if ctx.Err() != nil {
			<-slots
			return false
		}
		return true
	case <-ctx.Done():
		return false
	}
}

// settleTime is how long after a window ends its events are taken as final.
const settleTime = 10 * time.Minute

// fetchWindow reads one window through the cache. Only a window already over when its fetch
// starts is cached: a window still open may gain events, and caching it would hide them.
func (s *Service) fetchWindow(ctx context.Context, t task) ([]model.AuditEvent, error) {
	if t.page != nil {
		return s.fetchPage(ctx, t)
	}
	// A vendor may record an event a little after it happened: a day is only cached once it
	// has been over for settleTime, so a late 23:59:59 event is never hidden.
	closed := !t.window.To.Add(settleTime).After(s.cfg.Now())
	if closed {
		if events, ok := t.src.cache.get(t.window); ok {
			return events, nil
		}
	}
	if t.src.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.src.Timeout)
		defer cancel()
	}
	events, err := read(ctx, t.src.Reader, t.window)
	if err != nil {
		return nil, &SourceError{Source: t.src.name, Window: inZone(t.window, t.src.Location), Err: err}
	}
	events = within(events, t.window, t.src.name)
	if closed {
		t.src.cache.put(t.window, events)
	}
	return events, nil
}

// fetchPage asks a source that pages itself for its part of the page. It is not cached: the
// source answers a page from an index, and its windows of a range would each hold the range.
func (s *Service) fetchPage(ctx context.Context, t task) ([]model.AuditEvent, error) {
	if t.src.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.src.Timeout)
		defer cancel()
	}
	events, err := readPage(ctx, t.src.Reader.(model.AuditPageReader), *t.page)
	if err != nil {
		return nil, &SourceError{Source: t.src.name, Window: inZone(t.window, t.src.Location), Err: err}
	}
	return within(events, t.window, t.src.name), nil
}

// readPage is read for a source that pages itself.
func readPage(ctx context.Context, r model.AuditPageReader, p model.AuditPage) (events []model.AuditEvent, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("reader panicked: %v", v)
		}
	}()
	return r.EventsPage(ctx, p)
}

// read calls the reader and turns its panic into an error, so one faulty source fails the
// query instead of the process.
func read(ctx context.Context, r model.AuditSourceReader, w model.Window) (events []model.AuditEvent, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("reader panicked: %v", v)
		}
	}()
	return r.Events(ctx, w)
}

// within keeps the events inside w. Readers promise it already; enforcing it here is what
// guarantees an event read twice (by two adjacent windows) is still listed once. An event
// whose reader left its source empty is stamped with it rather than dropped.
func within(events []model.AuditEvent, w model.Window, name model.AuditSource) []model.AuditEvent {
	kept := make([]model.AuditEvent, 0, len(events))
	for _, e := range events {
		if !e.OccurredAt.Before(w.From) && e.OccurredAt.Before(w.To) {
			if e.Source == "" {
				e.Source = name
			}
			kept = append(kept, e)
		}
	}
	return kept
}

func inZone(w model.Window, loc *time.Location) model.Window {
	return model.Window{From: w.From.In(loc), To: w.To.In(loc)}
}

// compareKeys orders events by instant (not by their text, so offsets interleave correctly),
// then by id compared as strings.
func compareKeys(a, b eventKey) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}
