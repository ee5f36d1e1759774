// Command loadgen sends a bounded number of customer updates to a gateway on this machine,
// each to a customer of its own, and prints the rate and the status codes. It refuses any
// host but loopback: it is for measuring, never for loading someone else's service.
//
//	go run ./cmd/loadgen -url http://127.0.0.1:8080 -n 3000 -c 32 [-async] body.json
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "the gateway, on loopback")
	n := fs.Int("n", 3000, "updates to send (at most 1,000,000)")
	c := fs.Int("c", 32, "concurrent connections")
	async := fs.Bool("async", false, "send Prefer: respond-async")
	timeout := fs.Duration("timeout", 2*time.Minute, "stop after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("give one body file (a canonical update)")
	}
	if err := loopbackOnly(*base); err != nil {
		return err
	}
	if *n < 1 || *n > 1_000_000 || *c < 1 {
		return fmt.Errorf("-n must be 1-1000000 and -c at least 1")
	}
	body, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	res := send(*base, body, *n, *c, *async, *timeout)
	fmt.Fprintf(out, "%d updates in %v: %.0f/s;", res.done, res.took.Round(time.Millisecond), float64(res.done)/res.took.Seconds())
	for _, code := range slices.Sorted(func(yield func(int) bool) {
		for k := range res.codes {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(out, " %d:%d", code, res.codes[code])
	}
	fmt.Fprintf(out, " errors:%d\n", res.errors)
	return nil
}

// loopbackOnly refuses a URL whose host is not this machine's loopback.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%q is not loopback: loadgen only sends to 127.0.0.1, ::1 or localhost", host)
	}
	return nil
}

type result struct {
	done, errors int64
	codes        map[int]int64
	took         time.Duration
}

// send PUTs body to /customers/load-<i> for i in 1..n over c workers, until done or timeout.
func send(base string, body []byte, n, c int, async bool, timeout time.Duration) result {
	var next, done, errs atomic.Int64
	var mu sync.Mutex
	codes := map[int]int64{}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: c}}
	stop := time.Now().Add(timeout)
	start := time.Now()
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n) && time.Now().Before(stop); i = next.Add(1) {
				req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/customers/load-%d", base, i), bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if async {
					req.Header.Set("Prefer", "respond-async")
				}
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				mu.Lock()
				codes[resp.StatusCode]++
				mu.Unlock()
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return result{done: done.Load(), errors: errs.Load(), codes: codes, took: time.Since(start)}
}
