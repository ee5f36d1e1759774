package store

import (
	"context"
	"fmt"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// VendorQueue is what waits in the durable queue for one vendor.
type VendorQueue struct {
	// Count is how many deliveries wait (one per customer).
	Count int
	// Oldest is when the longest-waiting of them was queued.
	Oldest time.Time
}

// PendingByVendor answers, for each vendor with deliveries waiting, how many wait and when
// the oldest of them was queued: one grouped read, made at each metrics scrape, of every
// replica's deliveries. A vendor with none waiting is absent.
func (s *Store) PendingByVendor(ctx context.Context) (map[model.Vendor]VendorQueue, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT vendor, COUNT(*), MIN(queued_at) FROM pending_deliveries GROUP BY vendor`)
	if err != nil {
		return nil, fmt.Errorf("store: pending deliveries by vendor: %w", err)
	}
	defer rows.Close()
	out := map[model.Vendor]VendorQueue{}
	for rows.Next() {
		var (
			vendor string
			n      int
			oldest int64
		)
		if err := rows.Scan(&vendor, &n, &oldest); err != nil {
			return nil, fmt.Errorf("store: pending deliveries by vendor: %w", err)
		}
		out[model.Vendor(vendor)] = VendorQueue{Count: n, Oldest: fromNanos(oldest)}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending deliveries by vendor: %w", err)
	}
	return out, nil
}
