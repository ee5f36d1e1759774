package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// Recall reads the customer's refs and the vendors with a delivery waiting, together.
func TestRecallReadsRefsAndWaitingVendors(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		if refs, waiting, err := s.Recall(ctx, "c-1"); err != nil || len(refs) != 0 || len(waiting) != 0 {
			t.Fatalf("an unknown customer: %v %v %v", refs, waiting, err)
		}
		if _, _, err := s.MergeRefs(ctx, "c-1", refsLF("lf-1")); err != nil {
			t.Fatal(err)
		}
		for _, v := range []model.Vendor{happyTalk, engageLab} {
			if _, err := s.QueueDelivery(ctx, "c-1", v, fieldsOf(t, `{"email":"a@example.com"}`, 1), model.Origin{}, time.Now(), time.Hour, noJob); err != nil {
				t.Fatal(err)
			}
		}
		refs, waiting, err := s.Recall(ctx, "c-1")
		slices.Sort(waiting)
		if err != nil || refs.Of(ladiFlow).String("id") != "lf-1" || len(refs) != 1 || !slices.Equal(waiting, []model.Vendor{engageLab, happyTalk}) {
			t.Fatalf("Recall: %s, %v, %v", show(refs), waiting, err)
		}
	})
}

// What a queued delivery reads before it is sent comes in one query: every ref of the
// customer, and what its vendor, and no other, received; nothing for a customer the store
// never saw.
func TestBeforeSendReadsRefsAndWhatTheVendorHas(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		refs := refsLF("lf-1")
		refs[engageLab] = model.Refs{"euid": json.RawMessage("9007199254740993")}
		if _, _, err := s.MergeRefs(ctx, "c-1", refs); err != nil {
			t.Fatal(err)
		}
		e := model.AuditEvent{OccurredAt: time.Now(), Kind: model.KindCustomerUpdate, CustomerID: "c-1"}
		delivered := map[model.Vendor]model.PendingFields{
			ladiFlow:  fieldsOf(t, `{"email":"a@example.com","phone":"+821012345678"}`, 1),
			happyTalk: fieldsOf(t, `{"email":"a@example.com"}`, 1),
		}
		if err := s.RecordUpdate(ctx, e, model.UpdateRecord{UpdateResult: model.UpdateResult{UpdateID: "u-1", CustomerID: "c-1"}}, delivered); err != nil {
			t.Fatal(err)
		}
		d, got, err := s.BeforeSend(ctx, "c-1", ladiFlow)
		if err != nil {
			t.Fatal(err)
		}
		if got.Of(ladiFlow).String("id") != "lf-1" || string(got[engageLab]["euid"]) != "9007199254740993" || len(got) != 2 {
			t.Errorf("refs %s, want LadiFlow's and EngageLab's", show(got))
		}
		if want, err := s.readDeliveredAt(ctx, s.r, "c-1", []model.Vendor{ladiFlow}); err != nil || len(d) != 2 || !maps.Equal(d, want[ladiFlow]) {
			t.Errorf("delivered to LadiFlow %v, want %v (%v)", d, want, err)
		}
		d, got, err = s.BeforeSend(ctx, "c-unknown", ladiFlow)
		if err != nil || len(got) != 0 || d == nil || len(d) != 0 {
			t.Errorf("a customer never seen: refs %s, delivered %v, %v", show(got), d, err)
		}
	})
}

// An update's refs, queued deliveries with their jobs, event, record and delivered
// fields are written in one transaction; when any of it fails, none of it is kept.
func TestAnUpdateIsWrittenWhole(t *testing.T) {
	t.Parallel()
	for _, e := range templates.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s, commits := openCounting(t, e.Fresh(t))
			ctx := t.Context()
			var jobs []model.Vendor
			j := &Jobs{MaxAge: time.Hour, Now: time.Now, Insert: func(_ context.Context, _ *sql.Tx, js []Job) error {
				for _, job := range js {
					jobs = append(jobs, job.Vendor)
				}
				return nil
			}}
			writes := func(c string, kind model.AuditKind) model.UpdateWrites {
				return model.UpdateWrites{
					CustomerID: c, Refs: refsLF("lf-" + c),
					Queue:  []model.QueueItem{{Vendor: happyTalk, At: time.Now()}},
					Fields: fieldsOf(t, `{"email":"a@example.com"}`, 1), Origin: model.Origin{UpdateID: "u-" + c},
					Record: func(w model.UpdateWritten) (model.AuditEvent, model.UpdateRecord, map[model.Vendor]model.PendingFields) {
						if _, ok := w.Queued[happyTalk]; !ok || len(w.ChangedRefs) != 1 {
							t.Errorf("Record was given %+v", w)
						}
						ev := model.AuditEvent{OccurredAt: time.Now(), Kind: kind, CustomerID: c}
						return ev, model.UpdateRecord{UpdateResult: model.UpdateResult{UpdateID: "u-" + c, CustomerID: c}},
							map[model.Vendor]model.PendingFields{ladiFlow: fieldsOf(t, `{"email":"a@example.com"}`, 1)}
					},
				}
			}
			written, err := s.WriteQueuedUpdate(ctx, writes("c-1", model.KindCustomerUpdate), j)
			if err != nil || !slices.Equal(written.ChangedRefs, []string{"vendor_refs.ladiflow.id"}) || written.Queued[happyTalk].IsZero() {
				t.Fatalf("WriteQueuedUpdate: %+v, %v", written, err)
			}
			if n := commits.Load(); n != 1 {
				t.Errorf("the update took %d transactions, want 1", n)
			}
			refs, waiting, err := s.Recall(ctx, "c-1")
			if err != nil || refs.Of(ladiFlow).String("id") != "lf-c-1" || !slices.Equal(waiting, []model.Vendor{happyTalk}) || !slices.Equal(jobs, []model.Vendor{happyTalk}) {
				t.Fatalf("after the write: refs %s, waiting %v, jobs %v, %v", show(refs), waiting, jobs, err)
			}
			if d, err := s.delivered(ctx, "c-1", ladiFlow); err != nil || len(d) != 1 {
				t.Fatalf("delivered to LadiFlow: %v, %v", d, err)
			}
			if _, err := s.Update(ctx, "u-c-1"); err != nil {
				t.Fatalf("the update's record: %v", err)
			}

			// An event the store refuses (no kind): nothing of the update is kept.
			if _, err := s.WriteQueuedUpdate(ctx, writes("c-2", ""), j); err == nil {
				t.Fatal("an update whose event is refused was written")
			}
			refs, waiting, err = s.Recall(ctx, "c-2")
			if err != nil || len(refs) != 0 || len(waiting) != 0 {
				t.Fatalf("a refused update left refs %s and waiting %v (%v)", show(refs), waiting, err)
			}
			if d, err := s.delivered(ctx, "c-2", ladiFlow); err != nil || len(d) != 0 {
				t.Fatalf("a refused update left delivered fields %v (%v)", d, err)
			}
		})
	}
}

// Without a queue, writes that queue a delivery are refused, not half kept.
func TestWriteUpdateWithoutAQueueQueuesNothing(t *testing.T) {
	t.Parallel()
	s := openStore(t, templates.SQLite(t))
	w := model.UpdateWrites{CustomerID: "c-1", Refs: refsLF("lf-1"), Queue: []model.QueueItem{{Vendor: happyTalk, At: time.Now()}}}
	if _, err := s.WriteUpdate(t.Context(), w); err == nil {
		t.Fatal("writes with a delivery to queue were taken without a queue")
	}
	if refs, _, err := s.Refs(t.Context(), "c-1"); err != nil || len(refs) != 0 {
		t.Fatalf("refs kept: %s %v", show(refs), err)
	}
}
