package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/store"
)

// The child process of TestIdempotencyKeyFreeAfterProcessDeath names its database and lease
// in these.
const (
	crashChildDB    = "GATEWAY_TEST_CRASH_CHILD_DB"
	crashChildLease = "GATEWAY_TEST_CRASH_CHILD_LEASE"
	// crashLease sets the lease the test runs with (1.5s when unset); the default lease,
	// 10s, measures the figure the gateway runs with.
	crashLease = "GATEWAY_TEST_CRASH_LEASE"
)

const crashKey = "k-crash"

// TestIdempotencyKeyFreeAfterProcessDeath kills a gateway process with SIGKILL while it
// answers a request with an Idempotency-Key, and measures how long the key stays blocked:
// while the process lives, renewing its claim, the key is in flight however long it runs;
// once it is dead the key is free again within one lease of the death.
func TestIdempotencyKeyFreeAfterProcessDeath(t *testing.T) {
	lease := 1500 * time.Millisecond
	if v := os.Getenv(crashLease); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s: %v", crashLease, err)
		}
		lease = d
	}
	hash := model.RequestHash(http.MethodPut, "/customers/c-1", []byte(`{}`))
	for _, e := range templates.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			url := e.Fresh(t)
			st, err := store.Open(t.Context(), url, store.WithInFlightLease(lease))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			begin := func() error {
				_, _, err := st.BeginIdempotent(t.Context(), "", crashKey, hash, time.Now())
				return err
			}

			child := exec.Command(os.Args[0], "-test.run=^$")
			child.Env = append(os.Environ(), crashChildDB+"="+url, crashChildLease+"="+lease.String())
			child.Stderr = os.Stderr
			out, err := child.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := child.Start(); err != nil {
				t.Fatal(err)
			}
			killed := false
			defer func() {
				if !killed {
					_ = child.Process.Kill()
					_ = child.Wait()
				}
			}()
			claimed := make(chan struct{})
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					if sc.Text() == "claimed" {
						close(claimed)
						break
					}
				}
				for sc.Scan() { // drain, so the child never blocks on its stdout
				}
			}()
			select {
			case <-claimed:
			case <-time.After(30 * time.Second):
				t.Fatal("the child did not claim the key within 30s")
			}
			start := time.Now()

			// The child lives past two of its leases: the key is in flight all along.
			for polls := 0; time.Since(start) < 2*lease; polls++ {
				if err := begin(); !errors.Is(err, model.ErrInFlight) {
					t.Fatalf("%v after the claim, poll %d, the child alive: %v, want in flight", time.Since(start), polls, err)
				}
				<-time.After(lease / 20)
			}

			if err := child.Process.Kill(); err != nil { // SIGKILL: nothing runs in the child after it
				t.Fatal(err)
			}
			_ = child.Wait()
			killed = true
			died := time.Now()
			var free time.Duration
			for {
				err := begin()
				if err == nil {
					free = time.Since(died)
					break
				}
				if !errors.Is(err, model.ErrInFlight) {
					t.Fatal(err)
				}
				if time.Since(died) > lease+10*time.Second {
					t.Fatalf("the key is still in flight %v after the child died (lease %v)", time.Since(died), lease)
				}
				<-time.After(10 * time.Millisecond)
			}
			// The last renewal was at most a third of a lease before the death, and its lease
			// ends one lease after it: the key is free between 2/3 and 1 lease after the death.
			if free < lease/2 || free > lease+lease/4 {
				t.Fatalf("the key was free %v after the child died, want within its lease %v (and not long before)", free, lease)
			}
			t.Logf("lease %v: the key was free again %v after the process was killed", lease, free.Round(time.Millisecond))
		})
	}
}

// crashChild is TestIdempotencyKeyFreeAfterProcessDeath's child process, run by TestMain
// when crashChildDB is set: it answers one request with an Idempotency-Key through the
// middleware, says "claimed" once the key is its own, and never answers.
func crashChild(url string) {
	lease, err := time.ParseDuration(os.Getenv(crashChildLease))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	st, err := store.Open(context.Background(), url, store.WithInFlightLease(lease))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	h := idempotent(st, noCaller)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("claimed")
		select {} // until SIGKILL
	}))
	req := httptest.NewRequest(http.MethodPut, "/customers/c-1", strings.NewReader(`{}`))
	req.Header.Set(IdempotencyKeyHeader, crashKey)
	h.ServeHTTP(httptest.NewRecorder(), req)
}
