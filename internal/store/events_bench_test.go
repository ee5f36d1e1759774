package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/audit"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/store/storetest"
)

// wholeReader is the store as a source that reads whole windows, as the audit trail read it
// before pages were read in SQL: every event of the range, filtered and sorted in memory.
type wholeReader struct{ s *Store }

func (w wholeReader) Source() model.AuditSource { return w.s.Source() }
func (w wholeReader) Events(ctx context.Context, win model.Window) ([]model.AuditEvent, error) {
	return w.s.Events(ctx, win)
}

// BenchmarkAuditPage reads the first page of limit=1 of GET /audit-history over n gateway
// events spread over 30 days, through the audit service, with and without a customer_id
// filter: "whole" reads every event of the range (before 00007), "sql" one page in SQL.
//
//	go test ./internal/store -run '^$' -bench BenchmarkAuditPage -benchtime 20x
func BenchmarkAuditPage(b *testing.B) {
	end := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	from := end.Add(-30 * 24 * time.Hour)
	for _, e := range storetest.Engines() {
		for _, n := range []int{10_000, 100_000} {
			s := openBenchStore(b, e.Fresh(b))
			seedEvents(b, s, n, from, end)
			for _, reader := range []struct {
				name string
				r    model.AuditSourceReader
			}{{"whole", wholeReader{s}}, {"sql", s}} {
				svc := audit.New(audit.Config{CacheDays: 0, CursorKey: []byte("k"), Now: func() time.Time { return end }},
					audit.Source{Reader: reader.r, Location: time.UTC})
				for _, filter := range []string{"", "c-7"} {
					name := fmt.Sprintf("%s/%dk/%s/customer=%s", e.Name, n/1000, reader.name, filter)
					b.Run(name, func(b *testing.B) {
						q := audit.Query{From: from, To: end, Limit: 1, CustomerID: filter}
						for b.Loop() {
							p, err := svc.Query(b.Context(), q)
							if err != nil || len(p.Events) != 1 || p.NextCursor == nil {
								b.Fatalf("page %+v, %v", p, err)
							}
						}
					})
				}
			}
		}
	}
}

func openBenchStore(b *testing.B, url string) *Store {
	b.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// seedEvents stores n update events evenly over [from, to), for 1000 customers, 500 to a
// statement.
func seedEvents(b *testing.B, s *Store, n int, from, to time.Time) {
	b.Helper()
	step := to.Sub(from) / time.Duration(n)
	for start := 0; start < n; start += 500 {
		var values []string
		var args []any
		for i := start; i < min(n, start+500); i++ {
			values = append(values, s.placeholders(len(args), 6))
			args = append(args, fmt.Sprintf("gateway:%08d", i), nanos(from.Add(time.Duration(i)*step)), string(model.KindCustomerUpdate),
				fmt.Sprintf("c-%d", i%1000), "customer update: 3 fields", `{"fields":["email","phone","name"],"vendors":{"ladiflow":"ok"}}`)
		}
		if _, err := s.w.ExecContext(context.Background(), `INSERT INTO gateway_events (id, occurred_at, kind, customer_id, summary, details) VALUES `+
			strings.Join(values, ", "), args...); err != nil {
			b.Fatal(err)
		}
	}
}
