package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/fanout"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors"
)

// keyed is a vendor that needs a key "id" it can resolve from the customer id: its Send
// answers the register call ("/register") with {"id": ...} and stores contact calls.
type keyed struct {
	name model.Vendor
	// registerErrs are the answers of the register calls, one per call, then success.
	registerErrs []error
	registers    atomic.Int32
	mu           sync.Mutex
	sent         []string // the ids contact calls were sent with
}

func (v *keyed) Name() model.Vendor  { return v.name }
func (v *keyed) DisplayName() string { return "Keyed" }
func (v *keyed) Enabled() bool       { return true }

func (v *keyed) Plan(u *model.Update) (model.Plan, error) {
	p := model.Plan{Vendor: v.name}
	id := u.Fields.VendorRefs.Of(v.name).String("id")
	switch {
	case id == "":
		p.Skip, p.Reason = model.SkipNoKeys, "no id known"
	case u.Fields.Email == nil:
		p.Skip, p.Reason = model.SkipNothingToSend, "nothing for it"
	default:
		p.Request = &model.Request{Method: http.MethodPost, URL: "http://127.0.0.1/contact", Body: []byte(id)}
	}
	return p, nil
}

func (v *keyed) Send(_ context.Context, req *model.Request) ([]byte, error) {
	if strings.HasSuffix(req.URL, "/register") {
		n := int(v.registers.Add(1))
		if n <= len(v.registerErrs) {
			return nil, v.registerErrs[n-1]
		}
		return []byte(`{"id":"id-` + string(req.Body) + `"}`), nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.sent = append(v.sent, string(req.Body))
	return nil, nil
}

func (v *keyed) View(req *model.Request) model.RequestView {
	return model.RequestView{Method: req.Method, URL: req.URL, Body: string(req.Body)}
}

func (v *keyed) NeedsKeys(u *model.Update) bool {
	return u.Fields.Email != nil && u.Fields.VendorRefs.Of(v.name).String("id") == ""
}

func (v *keyed) ResolveKeys(ctx context.Context, call vendors.Call, customerID string) (model.Refs, error) {
	body, err := call(ctx, &model.Request{Method: http.MethodPost, URL: "http://127.0.0.1/register", Body: []byte(customerID)})
	if err != nil {
		return nil, err
	}
	var ans struct{ ID string }
	if err := json.Unmarshal(body, &ans); err != nil {
		return nil, err
	}
	return model.Refs{"id": model.StringRef(ans.ID)}, nil
}

func (v *keyed) PlaceholderKeys() model.Refs { return model.Refs{"id": model.StringRef("placeholder")} }

func (v *keyed) contacts() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.sent...)
}

// memStore keeps refs and events in memory.
type memStore struct {
	mu      sync.Mutex
	refs    map[string]model.VendorRefs
	events  []model.AuditEvent
	updates []model.UpdateRecord
}

func (s *memStore) Refs(_ context.Context, c string) (model.VendorRefs, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refs[c].Clone(), len(s.refs[c]) > 0, nil
}

func (s *memStore) MergeRefs(_ context.Context, c string, refs model.VendorRefs) (model.VendorRefs, []string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	merged, changed := s.refs[c].Merge(refs)
	s.refs[c] = merged
	return merged.Clone(), changed, nil
}

func (s *memStore) RecordUpdate(_ context.Context, e model.AuditEvent, u model.UpdateRecord, _ map[model.Vendor]model.PendingFields) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
	s.updates = append(s.updates, u)
	return nil
}

func (s *memStore) Recall(ctx context.Context, c string) (model.VendorRefs, []model.Vendor, error) {
	refs, _, err := s.Refs(ctx, c)
	return refs, nil, err
}

func (s *memStore) WriteUpdate(ctx context.Context, w model.UpdateWrites) (model.UpdateWritten, error) {
	if len(w.Queue) > 0 {
		return model.UpdateWritten{}, errors.New("memStore: no queue")
	}
	return s.write(ctx, w, nil)
}

// write is a store's WriteUpdate with queued, as the queue answered it.
func (s *memStore) write(ctx context.Context, w model.UpdateWrites, queued map[model.Vendor]time.Time) (model.UpdateWritten, error) {
	written := model.UpdateWritten{Queued: queued}
	if !w.Refs.Empty() {
		_, written.ChangedRefs, _ = s.MergeRefs(ctx, w.CustomerID, w.Refs)
	}
	e, u, delivered := w.Record(written)
	return written, s.RecordUpdate(ctx, e, u, delivered)
}

// memQueue takes every delivery and keeps it, writing the rest to its store.
type memQueue struct {
	mu     sync.Mutex
	st     *memStore
	queued []model.Vendor
}

func (q *memQueue) FirstRetry() time.Time { return time.Now() }
func (q *memQueue) WriteUpdate(ctx context.Context, w model.UpdateWrites) (model.UpdateWritten, error) {
	q.mu.Lock()
	until := map[model.Vendor]time.Time{}
	for _, it := range w.Queue {
		q.queued = append(q.queued, it.Vendor)
		until[it.Vendor] = time.Now().Add(time.Hour)
	}
	q.mu.Unlock()
	return q.st.write(ctx, w, until)
}

func newService(v *keyed, q *memQueue) (*Service, *memStore) {
	st := &memStore{refs: map[string]model.VendorRefs{}}
	var queue Queue // nil without q: a nil *memQueue in it would not be
	if q != nil {
		q.st, queue = st, q
	}
	p := fanout.Policy{AttemptTimeout: time.Second, Attempts: 3, Backoff: time.Millisecond, BreakerFailures: 100, BreakerCooldown: time.Minute}
	return New(Config{Fanout: fanout.New(p, nil, v), Store: st, Queue: queue, Region: "KR", Deadline: 5 * time.Second}), st
}

func update(t *testing.T, s *Service, body string) (Answer, error) {
	t.Helper()
	var f model.CustomerUpdate
	if err := json.Unmarshal([]byte(body), &f); err != nil {
		t.Fatal(err)
	}
	return s.Update(context.Background(), Request{CustomerID: "c-1", Body: f, RequestID: "r-1", Received: time.Now()})
}

var errBusy = &model.VendorError{Vendor: "Keyed", Code: 503, Message: "busy", Retryable: true}

// Missing keys are resolved through the vendor's own wrapped call: its first failure is
// retried like any delivery's, the key reaches the delivery and is remembered.
func TestKeysResolvedThroughTheWrappedCall(t *testing.T) {
	v := &keyed{name: "keyed", registerErrs: []error{errBusy}}
	s, st := newService(v, nil)
	ans, err := update(t, s, `{"email":"a@example.com"}`)
	if err != nil || ans.Result.Results["keyed"].Status != model.StatusOK {
		t.Fatalf("%+v %v", ans, err)
	}
	if v.registers.Load() != 2 || len(v.contacts()) != 1 || v.contacts()[0] != "id-c-1" {
		t.Fatalf("register called %d times, contacts %v: want a retried register and the resolved id sent", v.registers.Load(), v.contacts())
	}
	if got := st.refs["c-1"].Of("keyed").String("id"); got != "id-c-1" {
		t.Fatalf("stored id %q", got)
	}
	// Known now: the next update asks nothing.
	if _, err := update(t, s, `{"email":"b@example.com"}`); err != nil || v.registers.Load() != 2 {
		t.Fatalf("second update: %v, %d registers", err, v.registers.Load())
	}
}

// A vendor that cannot give the keys the update needs is the vendor's failure: 502
// (unavailable), naming its key, with nothing sent.
func TestUnresolvedKeysAreUnavailable(t *testing.T) {
	v := &keyed{name: "keyed", registerErrs: []error{&model.VendorError{Vendor: "Keyed", Code: 400, Message: "no"}}}
	s, _ := newService(v, nil)
	_, err := update(t, s, `{"email":"a@example.com","vendors":["keyed"]}`)
	var e *model.Error
	if model.CodeOf(err) != model.EUnavailable || !errors.As(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != "vendor_refs.keyed.id" {
		t.Fatalf("got %v", err)
	}
	if len(v.contacts()) != 0 {
		t.Fatal("something was sent")
	}
}

// With the queue, a vendor that fails retryably to give its keys has its delivery queued,
// planned with its placeholder keys, which are never sent.
func TestUnresolvedKeysAreQueued(t *testing.T) {
	v := &keyed{name: "keyed", registerErrs: []error{errBusy, errBusy, errBusy}}
	q := &memQueue{}
	s, st := newService(v, q)
	ans, err := update(t, s, `{"email":"a@example.com"}`)
	r := ans.Result.Results["keyed"]
	if err != nil || r.Status != model.StatusQueued || !strings.Contains(r.Reason, "could not give the customer's id") {
		t.Fatalf("%+v %v", ans, err)
	}
	if len(q.queued) != 1 || len(v.contacts()) != 0 || st.refs["c-1"].Of("keyed").String("id") != "" {
		t.Fatalf("queued %v, sent %v, stored %v: want queued, nothing sent, no placeholder stored", q.queued, v.contacts(), st.refs["c-1"])
	}
}

// A refusal that no key can cure (a value the vendor would cut) asks the vendor nothing.
func TestRefusalIsNotCuredByKeys(t *testing.T) {
	v := &keyed{name: "keyed"}
	limit := &refusing{name: "other"}
	p := fanout.Policy{AttemptTimeout: time.Second, Attempts: 1, Backoff: time.Millisecond, BreakerFailures: 100, BreakerCooldown: time.Minute}
	s := New(Config{Fanout: fanout.New(p, nil, v, limit), Store: &memStore{refs: map[string]model.VendorRefs{}}, Region: "KR", Deadline: time.Second})
	_, err := update(t, s, `{"email":"a@example.com"}`)
	if model.CodeOf(err) != model.EUndeliverable || v.registers.Load() != 0 {
		t.Fatalf("err %v after %d registers; want a 422 and none", err, v.registers.Load())
	}
}

// A dry run resolves nothing: it sends nothing.
func TestDryRunResolvesNothing(t *testing.T) {
	v := &keyed{name: "keyed"}
	s, _ := newService(v, nil)
	var f model.CustomerUpdate
	_ = json.Unmarshal([]byte(`{"email":"a@example.com","vendor_refs":{"keyed":{"id":"x"}}}`), &f)
	ans, err := s.Update(context.Background(), Request{CustomerID: "c-1", Body: f, DryRun: true})
	if err != nil || ans.Result.Outcome != model.OutcomeDryRun || v.registers.Load() != 0 || len(v.contacts()) != 0 {
		t.Fatalf("%+v %v", ans, err)
	}
}

// refusing refuses every update for a value it would cut.
type refusing struct{ name model.Vendor }

func (v *refusing) Name() model.Vendor  { return v.name }
func (v *refusing) DisplayName() string { return "Refusing" }
func (v *refusing) Enabled() bool       { return true }
func (v *refusing) Plan(*model.Update) (model.Plan, error) {
	return model.Plan{}, model.FieldErrors{{Field: "email", Vendor: v.name, Message: "too long"}}
}
func (v *refusing) Send(context.Context, *model.Request) ([]byte, error) { return nil, nil }
func (v *refusing) View(*model.Request) model.RequestView                { return model.RequestView{} }

// A caller that hangs up does not cut key resolution off: it runs on the update's own
// deadline, like the delivery after it.
func TestHangUpDoesNotCancelKeyResolution(t *testing.T) {
	v := &keyed{name: "keyed"}
	s, _ := newService(v, nil)
	var f model.CustomerUpdate
	_ = json.Unmarshal([]byte(`{"email":"a@example.com"}`), &f)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ans, err := s.Update(ctx, Request{CustomerID: "c-1", Body: f, Received: time.Now()})
	if err != nil || ans.Result.Results["keyed"].Status != model.StatusOK || v.registers.Load() != 1 {
		t.Fatalf("%+v %v after %d registers", ans, err, v.registers.Load())
	}
}

// Every update the gateway records names its caller, refused ones too.
func TestEventsNameTheCaller(t *testing.T) {
	v := &keyed{name: "keyed"}
	s, st := newService(v, nil)
	for _, body := range []string{`{"email":"a@example.com","vendor_refs":{"keyed":{"id":"x"}}}`, `{"phone":"12"}`} {
		var f model.CustomerUpdate
		_ = json.Unmarshal([]byte(body), &f)
		_, _ = s.Update(context.Background(), Request{CustomerID: "c-1", Body: f, Caller: "billing", RequestID: "r-1", Received: time.Now()})
	}
	if len(st.events) != 2 {
		t.Fatalf("%d events, want 2", len(st.events))
	}
	for _, e := range st.events {
		if e.Actor != "billing" || e.Details["caller"] != "billing" || e.Details["request_id"] != "r-1" {
			t.Errorf("event %s: actor %q details %v", e.Result, e.Actor, e.Details)
		}
	}
}

// A 422 names every offending field at once: a phone that does not parse and a value a
// vendor would refuse, in one answer, with nothing sent.
func TestUndeliverableNamesEveryField(t *testing.T) {
	v := &keyed{name: "keyed"}
	p := fanout.Policy{AttemptTimeout: time.Second, Attempts: 1, Backoff: time.Millisecond, BreakerFailures: 100, BreakerCooldown: time.Minute}
	s := New(Config{Fanout: fanout.New(p, nil, v, &refusing{name: "other"}), Region: "KR", Deadline: time.Second})
	_, err := update(t, s, `{"email":"a@example.com","phone":"12"}`)
	var fe model.FieldErrors
	if !errors.As(err, &fe) || len(fe) != 2 || fe[0].Field != "email" || fe[1].Field != "phone" {
		t.Fatalf("want a 422 naming email (the vendor's limit) and phone: %v", err)
	}
	if len(v.contacts()) != 0 || v.registers.Load() != 0 {
		t.Fatal("a refused update reached a vendor")
	}
}
