package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// The server's own bounds (serve.go), attacked through run on 127.0.0.1 with short
// settings; each test is bounded in connections, bytes and time.

// rawConn dials the gateway; the connection ends with the test, at the latest in 15 s.
func rawConn(t *testing.T, g inProcess) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(g.base, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// trickle writes one byte of line every 100 ms until the gateway hangs up or 10 s pass,
// and answers how long it lasted, how many bytes went and what the gateway answered
// (0 for nothing).
func trickle(t *testing.T, c net.Conn, head, line string) (lasted time.Duration, sent int, status int) {
	t.Helper()
	start := time.Now()
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	answered := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			answered <- 0
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		answered <- resp.StatusCode
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; time.Since(start) < 10*time.Second; i++ {
		select {
		case status = <-answered:
			return time.Since(start), sent, status
		case <-tick.C:
			if _, err := c.Write([]byte{line[i%len(line)]}); err == nil {
				sent++
			}
		}
	}
	t.Fatalf("still connected after 10s and %d bytes", sent)
	return
}

// A client that trickles its headers or its body is cut off by GATEWAY_READ_TIMEOUT (the
// headers by min(5s, it)): it cannot hold a connection and an in-flight slot for longer.
func TestSlowClientsAreCutOff(t *testing.T) {
	t.Parallel()
	g := startInProcess(t, map[string]string{"GATEWAY_READ_TIMEOUT": "1s", "GATEWAY_DATABASE_URL": "none"}, "--sandbox")
	for _, tc := range []struct{ name, head, line string }{
		{"headers", "GET /healthz HTTP/1.1\r\nHost: gateway\r\n", "X-Slow: aaaaaaaa\r\n"},
		{"body", "PUT /customers/c-1 HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"email\":\"", "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lasted, sent, status := trickle(t, rawConn(t, g), tc.head, tc.line)
			t.Logf("cut after %v and %d bytes; answer %d", lasted.Round(10*time.Millisecond), sent, status)
			if lasted < 800*time.Millisecond || lasted > 3*time.Second {
				t.Fatalf("cut after %v, want about GATEWAY_READ_TIMEOUT (1s)", lasted)
			}
			if status != 0 && status < 400 {
				t.Fatalf("a cut-off request answered %d", status)
			}
		})
	}
}

// Past GATEWAY_MAX_CONNECTIONS a connection is not served until another closes.
func TestConnectionsAreBounded(t *testing.T) {
	t.Parallel()
	g := startInProcess(t, map[string]string{"GATEWAY_MAX_CONNECTIONS": "3", "GATEWAY_DATABASE_URL": "none"}, "--sandbox")
	// The readiness poll's connection, idle in the default transport, would take a slot.
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	ask := func(c net.Conn, within time.Duration) error {
		_ = c.SetReadDeadline(time.Now().Add(within))
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	var held []net.Conn
	for i := range 3 {
		c := rawConn(t, g)
		if err := ask(c, 5*time.Second); err != nil {
			t.Fatalf("connection %d of 3: %v", i+1, err)
		}
		held = append(held, c) // kept alive, idle
	}
	extra := rawConn(t, g)
	err := ask(extra, time.Second)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a fourth connection was served (%v)", err)
	}
	_ = held[0].Close()
	_ = extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(extra), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the waiting connection, once a slot was free: %v", err)
	}
}

// The limits reach the handler from the environment: a slow body holds the one in-flight
// slot (503 for the next request, the probes still answer), and a caller past its burst
// is answered 429.
func TestLimitsComeFromTheEnvironment(t *testing.T) {
	t.Parallel()
	g := startInProcess(t, map[string]string{"GATEWAY_MAX_IN_FLIGHT": "1", "GATEWAY_RATE_LIMIT": "0.5", "GATEWAY_RATE_BURST": "3",
		"GATEWAY_DATABASE_URL": "none"}, "--sandbox")
	slow := rawConn(t, g)
	fmt.Fprintf(slow, "PUT /customers/c-1 HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	waitUntil(t, 5*time.Second, "no 503 while a slow body holds the one slot", func() bool {
		status, hdr, _ := g.do(t, http.MethodGet, "/openapi.yaml", "")
		return status == http.StatusServiceUnavailable && hdr.Get("Retry-After") != ""
	})
	if status, _, body := g.do(t, http.MethodGet, "/readyz", ""); status != http.StatusOK {
		t.Fatalf("/readyz while saturated: %d %s", status, body)
	}
	_ = slow.Close()
	// The load shedder answers before the rate limiter, and its 503 spends no token: count
	// from the first request past it, once the slow request's handler has given its slot
	// back (on a busy machine, some time after the hang-up).
	var status int
	var hdr http.Header
	waitUntil(t, 5*time.Second, "the in-flight slot given back after the slow caller hung up", func() bool {
		status, hdr, _ = g.do(t, http.MethodGet, "/openapi.yaml", "")
		return status != http.StatusServiceUnavailable
	})
	saw429 := status == http.StatusTooManyRequests && hdr.Get("Retry-After") != ""
	for i := 0; i < 10 && !saw429; i++ { // a burst of 3 at 0.5/s: refused within 10 requests
		status, hdr, _ = g.do(t, http.MethodGet, "/openapi.yaml", "")
		saw429 = status == http.StatusTooManyRequests && hdr.Get("Retry-After") != ""
	}
	if !saw429 {
		t.Fatal("no 429 past GATEWAY_RATE_BURST")
	}
}
