package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/store/storetest"
)

// BenchmarkWriteUpdate is the store's part of one update as the gateway writes it under
// load, 32 writers at once (as make bench's c=32) through group commit, each update a new
// customer: "delivered", as a synchronous update that reached all three vendors (refs,
// event, record, delivered fields), and "queued", as Prefer: respond-async leaves it (refs,
// the three deliveries queued, event, record; the queue's job insert left out). cpu-µs/op
// is the process's CPU (user and system, from getrusage) per update: on a shared machine
// it holds where ns/op, a wall time, swings.
//
//	go test ./internal/store -run '^$' -bench BenchmarkWriteUpdate -benchtime 3000x -cpu 2
func BenchmarkWriteUpdate(b *testing.B) {
	var u model.CustomerUpdate
	body := `{"email":"kim@example.com","phone":"+821012345678","name":"Kim Minji","attributes":{"tier":"gold","note":"vip"}}`
	if err := json.Unmarshal([]byte(body), &u); err != nil {
		b.Fatal(err)
	}
	fields, err := model.QueuedFields(u, 1)
	if err != nil {
		b.Fatal(err)
	}
	vendors := []model.Vendor{engageLab, happyTalk, ladiFlow}
	for _, e := range storetest.Engines() {
		for _, queued := range []bool{false, true} {
			name := e.Name + "/delivered"
			if queued {
				name = e.Name + "/queued"
			}
			b.Run(name, func(b *testing.B) {
				s := openBenchStore(b, e.Fresh(b))
				jobs := &Jobs{MaxAge: time.Hour, Now: time.Now, Insert: func(context.Context, *sql.Tx, []Job) error { return nil }}
				var n atomic.Int64
				b.SetParallelism(16)
				b.ReportAllocs()
				cpu0 := processCPU(b)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := n.Add(1)
						w := benchWrites(fields, fmt.Sprintf("bench-%d", i), i, vendors, queued)
						if _, err := s.WriteQueuedUpdate(b.Context(), w, jobs); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
				b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			})
		}
	}
}

// benchWrites is what update seq of customer c leaves, as the delivery service builds it:
// every vendor's refs, and either fields delivered to every vendor or every vendor's
// delivery queued. Every customer is new, so every update may carry the same fields.
func benchWrites(fields model.PendingFields, c string, seq int64, vendors []model.Vendor, queued bool) model.UpdateWrites {
	updateID := fmt.Sprintf("u-%016d", seq)
	w := model.UpdateWrites{
		CustomerID: c,
		Refs: model.VendorRefs{"ladiflow": keys("id", "lf-"+c), "engagelab": keys("euid", "el-"+c),
			"happytalk": keys("uuid", "ht-"+c, "room_id", "r-"+c, "users_id", "us-"+c)},
		Fields: fields, Origin: model.Origin{RequestID: "req-" + c, UpdateID: updateID},
	}
	delivered := map[model.Vendor]model.PendingFields{}
	for _, v := range vendors {
		if queued {
			w.Queue = append(w.Queue, model.QueueItem{Vendor: v, At: time.Now()})
		} else {
			delivered[v] = fields
		}
	}
	w.Record = func(model.UpdateWritten) (model.AuditEvent, model.UpdateRecord, map[model.Vendor]model.PendingFields) {
		ev := model.AuditEvent{OccurredAt: time.Now(), Kind: model.KindCustomerUpdate, CustomerID: c,
			Summary: "customer update: 5 fields", Details: map[string]any{"fields": []string{"email", "phone", "name"}}}
		rec := model.UpdateRecord{UpdateResult: model.UpdateResult{UpdateID: updateID, CustomerID: c}, ReceivedAt: time.Now()}
		return ev, rec, delivered
	}
	return w
}

// processCPU is the CPU this process used so far, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
