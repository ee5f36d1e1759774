package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// load sends updates to one system, each to a customer of its own, over keep-alive
// connections.
type load struct {
	client *http.Client
	base   string // http://127.0.0.1:port
	body   []byte
	async  bool // send Prefer: respond-async
	want   int  // the status every update must get
}

func newLoad(base string, body []byte, async bool, c int) *load {
	want := http.StatusOK
	if async {
		want = http.StatusAccepted
	}
	tr := &http.Transport{MaxIdleConnsPerHost: c, MaxIdleConns: c, IdleConnTimeout: time.Minute}
	return &load{client: &http.Client{Timeout: 30 * time.Second, Transport: tr}, base: base, body: body, async: async, want: want}
}

// window is what one run of updates measured.
type window struct {
	latencies []time.Duration // of the updates answered with the wanted status
	took      time.Duration
	failures  int    // transport errors and unwanted statuses
	failure   string // the first of them
}

// send PUTs updates to customers bench-<first> .. bench-<first+n-1> over c workers until
// they are all answered or ctx is done.
func (l *load) send(ctx context.Context, first, n, c int) window {
	lat := make([]time.Duration, n)
	ok := make([]bool, n)
	var next atomic.Int64
	var mu sync.Mutex
	var w window
	fail := func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		if w.failures == 0 {
			w.failure = msg
		}
		w.failures++
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range min(c, n) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				t0 := time.Now()
				status, err := l.put(ctx, fmt.Sprintf("bench-%d", first+i))
				switch {
				case err != nil:
					fail(err.Error())
				case status != l.want:
					fail(fmt.Sprintf("HTTP %d, want %d", status, l.want))
				default:
					lat[i], ok[i] = time.Since(t0), true
				}
			}
		})
	}
	wg.Wait()
	w.took = time.Since(start)
	for i := range lat {
		if ok[i] {
			w.latencies = append(w.latencies, lat[i])
		}
	}
	if missing := n - len(w.latencies) - w.failures; missing > 0 {
		fail(fmt.Sprintf("%d updates not sent: %v", missing, ctx.Err()))
		w.failures += missing - 1
	}
	return w
}

// put sends one update and reads the whole answer, so the connection is reused.
func (l *load) put(ctx context.Context, customer string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, l.base+"/customers/"+customer, bytes.NewReader(l.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if l.async {
		req.Header.Set("Prefer", "respond-async")
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of ds: the smallest value
// that at least p% of ds are at or below. It is 0 for no values; ds is not changed.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}
