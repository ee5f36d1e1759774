// Command baseline is the floor `make bench` (cmd/bench) measures the gateway against: the
// least a net/http fan-out does for PUT /customers/{id}. It reads the body, POSTs it to
// the three vendors' update paths at once, reads their answers, and answers 200 when every
// one was a 2xx (502 otherwise): no validation, translation, store or retry. On loopback
// only; it prints "listening ADDR" and serves until SIGTERM.
//
//	go run ./cmd/bench/baseline -addr 127.0.0.1:0 -vendors http://127.0.0.1:9090
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/customergateway/gateway/cmd/bench/internal/loopback"
	"github.com/customergateway/gateway/internal/vendorsim/engagelab"
	"github.com/customergateway/gateway/internal/vendorsim/happytalk"
	"github.com/customergateway/gateway/internal/vendorsim/ladiflow"
)

// maxBody is the gateway's default GATEWAY_MAX_BODY_BYTES.
const maxBody = 1 << 20

// paths are the vendors' update paths, as the gateway's adapters call them.
var paths = []string{happytalk.PathSetUserInfo, ladiflow.PathCustomerUpdate, engagelab.PathContact}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address, on loopback")
	vendors := fs.String("vendors", "", "base URL of the vendors (cmd/bench/stub)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *vendors == "" {
		return fmt.Errorf("-vendors is required")
	}
	// As many idle connections per host as the gateway's vendor client keeps, so neither
	// side opens connections in steady state.
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	mux := http.NewServeMux()
	mux.Handle("PUT /customers/{id}", fanOut(client, *vendors))
	return loopback.Serve(ctx, *addr, mux, stdout)
}

// fanOut answers each update once every vendor has answered.
func fanOut(client *http.Client, base string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var wg sync.WaitGroup
		failed := make([]bool, len(paths))
		for i, p := range paths {
			wg.Go(func() { failed[i] = post(r.Context(), client, base+p, body) != nil })
		}
		wg.Wait()
		for _, f := range failed {
			if f {
				http.Error(w, "a vendor failed", http.StatusBadGateway)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"delivered"}`)
	})
}

// post sends body to url and reads the whole answer, so the connection is reused.
func post(ctx context.Context, client *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	return nil
}
