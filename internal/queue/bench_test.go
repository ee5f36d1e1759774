package queue

import (
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/store"
)

// BenchmarkEnqueue queues one update for one vendor of a new customer each time: the
// store's merge and River's job insert in one transaction, no worker running.
func BenchmarkEnqueue(b *testing.B) {
	for _, e := range templates.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			st, err := store.Open(b.Context(), e.Fresh(b))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			q, err := New(st, Config{MaxAge: time.Hour, Backoff: time.Second, MaxBackoff: time.Minute, Workers: 1, PollInterval: time.Second, SendTimeout: time.Second}, zerolog.Nop())
			if err != nil {
				b.Fatal(err)
			}
			fields, err := model.QueuedFields(model.CustomerUpdate{Email: ptr("kim@example.com"), FullName: ptr("Kim")}, 1)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				if _, err := q.Enqueue(b.Context(), fmt.Sprintf("c-%d", i), ladiFlow, fields, model.Origin{}, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
