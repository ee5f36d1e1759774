package audit

import (
	"fmt"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// plan is a validated query: its defaults filled in, its sources resolved and its cursor
// verified, so fetching can start knowing the query will be answered as asked.
type plan struct {
	q           Query
	sources     []*source
	fingerprint []byte
	after       *eventKey // the last event of the previous page, if any
}

// plan validates q and collects every problem at once; nothing is fetched for a bad query.
func (s *Service) plan(q Query) (plan, error) {
	if q.Order == "" {
		q.Order = OrderDesc
	}
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	errs := s.checkRange(q)
	errs = append(errs, checkFilters(q)...)
	sources, srcErrs := s.selectSources(q.Sources)
	errs = append(errs, srcErrs...)
	if len(errs) == 0 {
		errs = s.checkKept(q, sources)
	}
	if len(errs) > 0 {
		return plan{}, errs
	}
	p := plan{q: q, sources: sources, fingerprint: fingerprint(q, sourceNames(sources))}
	if q.Cursor != "" {
		k, err := s.cursors.decode(q.Cursor, p.fingerprint)
		if err != nil {
			return plan{}, model.FieldErrors{{Field: "cursor", Message: err.Error()}}
		}
		p.after = &k
	}
	return p, nil
}

func (s *Service) checkRange(q Query) model.FieldErrors {
	var errs model.FieldErrors
	if q.From.IsZero() {
		errs = append(errs, model.FieldError{Field: "from", Message: "is required (RFC 3339)"})
	}
	if q.To.IsZero() {
		errs = append(errs, model.FieldError{Field: "to", Message: "is required (RFC 3339)"})
	}
	if len(errs) > 0 {
		return errs
	}
	switch maxRange := time.Duration(s.cfg.MaxDays) * 24 * time.Hour; {
	case !q.From.Before(q.To):
		errs = append(errs, model.FieldError{Field: "to", Message: "must be later than from (from is inclusive, to exclusive)"})
	case q.To.Sub(q.From) > maxRange:
		errs = append(errs, model.FieldError{Field: "to", Message: fmt.Sprintf("the range may span at most %d days", s.cfg.MaxDays)})
	}
	return errs
}

// checkKept refuses a range that starts before what a source read keeps: the purged part
// would be missing from the answer, which would look complete.
func (s *Service) checkKept(q Query, sources []*source) model.FieldErrors {
	now := s.cfg.Now()
	for _, src := range sources {
		if src.Retention <= 0 {
			continue
		}
		if kept := now.Add(-src.Retention); q.From.Before(kept) {
			return model.FieldErrors{{Field: "from", Message: fmt.Sprintf(
				"is before what the %s source keeps: its events are kept for %s, so from must be at or after %s",
				src.name, src.Retention, kept.UTC().Format(time.RFC3339))}}
		}
	}
	return nil
}

func checkFilters(q Query) model.FieldErrors {
	var errs model.FieldErrors
	if q.Order != OrderAsc && q.Order != OrderDesc {
		errs = append(errs, model.FieldError{Field: "order", Message: "must be desc or asc"})
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		errs = append(errs, model.FieldError{Field: "limit", Message: fmt.Sprintf("must be between 1 and %d", MaxLimit)})
	}
	switch q.Type {
	case "", model.TypeManual, model.TypeAutomatic:
	default:
		errs = append(errs, model.FieldError{Field: "type", Message: "must be manual or automatic"})
	}
	switch q.Kind {
	case "", model.KindArchive, model.KindKeyIssued, model.KindManagerAction, model.KindCustomerUpdate, model.KindVendorDelivery:
	default:
		errs = append(errs, model.FieldError{Field: "kind", Message: "must be archive, key_issued, manager_action, customer_update or vendor_delivery"})
	}
	return errs
}

// selectSources resolves the named sources, in configuration order, each once. A source the
// gateway cannot read is refused rather than answered with an empty, falsely complete history.
func (s *Service) selectSources(names []model.AuditSource) ([]*source, model.FieldErrors) {
	if len(names) == 0 {
		return s.sources, nil
	}
	var errs model.FieldErrors
	for _, n := range names {
		if s.source(n) == nil {
			errs = append(errs, model.FieldError{Field: "source", Message: fmt.Sprintf("%q is not a source this gateway can read", n)})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	var selected []*source
	for _, src := range s.sources {
		for _, n := range names {
			if src.name == n {
				selected = append(selected, src)
				break
			}
		}
	}
	return selected, nil
}

func sourceNames(sources []*source) []model.AuditSource {
	names := make([]model.AuditSource, len(sources))
	for i, src := range sources {
		names[i] = src.name
	}
	return names
}

// tasks lists the windows to fetch. Windows that cannot hold an event after the cursor are
// skipped, so later pages ask for fewer days.
func (p plan) tasks() []task {
	var tasks []task
	for _, src := range p.sources {
		if pr, ok := src.Reader.(model.AuditPageReader); ok && pr != nil && !src.DayWindows {
			w := inZone(model.Window{From: p.q.From, To: p.q.To}, src.Location)
			tasks = append(tasks, task{src: src, window: w, page: p.pageOf(w)})
			continue
		}
		windows := []model.Window{inZone(model.Window{From: p.q.From, To: p.q.To}, src.Location)}
		if src.DayWindows {
			windows = SplitDays(p.q.From, p.q.To, src.Location)
		}
		for _, w := range windows {
			if p.reachable(w) {
				tasks = append(tasks, task{src: src, window: w})
			}
		}
	}
	return tasks
}

// pageOf is what a source that pages itself is asked for in w: the events of the page the
// query asks, and one more, which tells whether a next page follows. The first Limit+1
// events of the merged sources are among the first Limit+1 of each source, so merging
// each source's page and cutting it gives the same page as merging every event.
func (p plan) pageOf(w model.Window) *model.AuditPage {
	page := &model.AuditPage{Window: w, Type: p.q.Type, Kind: p.q.Kind, CustomerID: p.q.CustomerID,
		Desc: p.q.Order == OrderDesc, Limit: p.q.Limit + 1}
	if p.after != nil {
		page.After = &model.AuditKey{At: p.after.At, ID: p.after.ID}
	}
	return page
}

// reachable reports whether w may hold an event that comes after the cursor.
func (p plan) reachable(w model.Window) bool {
	if p.after == nil {
		return true
	}
	if p.q.Order == OrderAsc {
		return w.To.After(p.after.At) // events at or after the cursor's instant
	}
	return !w.From.After(p.after.At) // events at or before the cursor's instant
}

// matches applies the filters, the range and the cursor to one event; the source filter
// needs no check here, as only the selected sources are read. An event matches a
// customer_id only when it carries that id, so a vendor's events that carry none are left
// out of a customer_id query.
func (p plan) matches(e model.AuditEvent) bool {
	q := p.q
	switch {
	case q.Type != "" && e.Type != q.Type,
		q.Kind != "" && e.Kind != q.Kind,
		q.CustomerID != "" && e.CustomerID != q.CustomerID,
		e.OccurredAt.Before(q.From) || !e.OccurredAt.Before(q.To):
		return false
	}
	return p.after == nil || p.compare(e, model.AuditEvent{OccurredAt: p.after.At, ID: p.after.ID}) > 0
}

// compare orders two events as the query asks.
func (p plan) compare(a, b model.AuditEvent) int {
	c := compareKeys(keyOfEvent(a), keyOfEvent(b))
	if p.q.Order == OrderDesc {
		return -c
	}
	return c
}
