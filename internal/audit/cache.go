package audit

import (
	"container/list"
	"slices"
	"sync"

	"github.com/customergateway/gateway/internal/model"
)

// windowCache keeps the events of closed windows of one source, least recently used evicted
// first. A nil *windowCache is a disabled cache: it stores nothing and finds nothing.
type windowCache struct {
	mu       sync.Mutex
	capacity int
	order    *list.List // front: most recently used; values are *cacheEntry
	entries  map[windowKey]*list.Element
}

// windowKey identifies a window by its instants, whatever zone its bounds were written in.
type windowKey struct{ from, to int64 }

type cacheEntry struct {
	key    windowKey
	events []model.AuditEvent
}

// newWindowCache returns a cache of at most capacity windows, or nil (disabled) when
// capacity is not positive.
func newWindowCache(capacity int) *windowCache {
	if capacity <= 0 {
		return nil
	}
	return &windowCache{capacity: capacity, order: list.New(), entries: make(map[windowKey]*list.Element)}
}

func keyOf(w model.Window) windowKey {
	return windowKey{from: w.From.UnixNano(), to: w.To.UnixNano()}
}

// get returns a copy of the events cached for w, so a caller that reorders its slice cannot
// change what the next page sees.
func (c *windowCache) get(w model.Window) ([]model.AuditEvent, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[keyOf(w)]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return slices.Clone(el.Value.(*cacheEntry).events), true
}

// put stores a copy of events for w and evicts the least recently used window beyond capacity.
func (c *windowCache) put(w model.Window, events []model.AuditEvent) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := keyOf(w)
	if el, ok := c.entries[k]; ok {
		el.Value.(*cacheEntry).events = slices.Clone(events)
		c.order.MoveToFront(el)
		return
	}
	c.entries[k] = c.order.PushFront(&cacheEntry{key: k, events: slices.Clone(events)})
	for c.order.Len() > c.capacity {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*cacheEntry).key)
	}
}

// len reports how many windows are cached.
func (c *windowCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
