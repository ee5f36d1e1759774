package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// healthClient is the health check's client: short, so a hung gateway counts as unhealthy.
var healthClient = &http.Client{Timeout: 3 * time.Second}

// healthcheck asks a gateway's /readyz and fails unless it answers 200. It lets a
// distroless container check itself with no shell and no curl.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	url := fs.String("url", "", "the readiness URL (default http://127.0.0.1<GATEWAY_ADDR port>/readyz)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		*url = "http://" + loopback(getenv("GATEWAY_ADDR")) + "/readyz"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return err
	}
	resp, err := healthClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d", *url, resp.StatusCode)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

// loopback turns a listen address (":8080", "0.0.0.0:8080") into one to dial.
func loopback(addr string) string {
	if addr == "" {
		addr = ":8080"
	}
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "127.0.0.1:" + addr
	}
	return "127.0.0.1" + addr[i:]
}
