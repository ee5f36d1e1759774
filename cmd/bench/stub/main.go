// Command stub is the vendors of `make bench` (cmd/bench): on loopback, it answers each
// vendor's update path with that vendor's success body at once, whatever it is sent, so that
// what a benchmark measures is the system in front of it. Unlike cmd/vendorsim it checks,
// stores, records and logs nothing. It prints "listening ADDR" and serves until SIGTERM.
//
//	go run ./cmd/bench/stub -addr 127.0.0.1:0
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/customergateway/gateway/cmd/bench/internal/loopback"
	"github.com/customergateway/gateway/internal/vendorsim/engagelab"
	"github.com/customergateway/gateway/internal/vendorsim/happytalk"
	"github.com/customergateway/gateway/internal/vendorsim/ladiflow"
)

// answers are the vendors' own success bodies (their documents' examples, trimmed to what
// the adapters read), by the path the simulator serves them on.
var answers = map[string][]byte{
	happytalk.PathSetUserInfo:   []byte(`{"result":"success"}`),
	ladiflow.PathCustomerUpdate: []byte(`{"data":{"_id":"653a3ca502e8ab00122c39c3","store_id":"5f9fa8a09b5c4d6ce6e3a77d"},"message":"Thành công","code":201}`),
	engagelab.PathContact:       []byte(`{"code":0,"message":"success"}`),
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "stub:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("stub", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address, on loopback")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return loopback.Serve(ctx, *addr, http.HandlerFunc(answer), stdout)
}

// answer drains the body, so the connection is kept alive, and writes the path's answer.
func answer(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	body, ok := answers[r.URL.Path]
	if !ok || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
