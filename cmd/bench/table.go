package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// row is one system's measured window.
type row struct {
	system    string // its -systems name
	label     string // what it is, for the table
	updates   int    // answered with the wanted status
	took      time.Duration
	p50, p99  time.Duration
	serverCPU time.Duration // the system's own process, over the window
	stubCPU   time.Duration // the stub vendors, over the window
	// drained is, for a system that queues (async), the updates delivered a second from the
	// window's first request until the queue was empty.
	drained float64
}

func (r row) rate() float64 {
	if r.took <= 0 {
		return 0
	}
	return float64(r.updates) / r.took.Seconds()
}

// cpuPerUpdate is the server's CPU per update in µs.
func (r row) cpuPerUpdate() float64 { return perUpdate(r.serverCPU, r.updates) }

func perUpdate(cpu time.Duration, updates int) float64 {
	if updates == 0 {
		return 0
	}
	return float64(cpu.Microseconds()) / float64(updates)
}

// ratio is r's CPU per update over that of the row named base, and false when there is no
// such row or it used no CPU.
func ratio(rows []row, r row, base string) (float64, bool) {
	for _, b := range rows {
		if b.system == base && b.cpuPerUpdate() > 0 {
			return r.cpuPerUpdate() / b.cpuPerUpdate(), true
		}
	}
	return 0, false
}

// drainRatio is how fast the async system's queue drained against how fast the SQLite
// store delivered synchronously, and false when either was not run.
func drainRatio(rows []row) (float64, bool) {
	var drained, direct float64
	for _, r := range rows {
		switch r.system {
		case "async":
			drained = r.drained
		case "sqlite":
			direct = r.rate()
		}
	}
	if drained == 0 || direct == 0 {
		return 0, false
	}
	return drained / direct, true
}

// drainLine says drainRatio's figure, or "" when it has none.
func drainLine(rows []row) string {
	x, ok := drainRatio(rows)
	if !ok {
		return ""
	}
	return fmt.Sprintf("async drained %.2fx as fast as the SQLite store delivered synchronously (updates/s).", x)
}

// printTable writes rows as a Markdown table, with the ratios to the bare fan-out and to
// the gateway without a store.
func printTable(w io.Writer, rows []row) {
	fmt.Fprintln(w, "| system | updates/s | p50 | p99 | server CPU-µs per update | vs the bare fan-out | vs the gateway without store | stub vendors' CPU-µs per update |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", r.label,
			thousands(r.rate()), ms(r.p50), ms(r.p99), thousands(r.cpuPerUpdate()),
			times(ratio(rows, r, "bare")), times(ratio(rows, r, "none")), thousands(perUpdate(r.stubCPU, r.updates)))
	}
}

func times(x float64, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.2fx", x)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// thousands rounds x and groups its digits: 12345.6 is "12,346".
func thousands(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// printSpread writes, for rounds of the same systems, each system's ratio to the bare
// fan-out and to the gateway without a store in every round, and their median: on a
// machine that does other work a single round's ratio moves as much as a change being
// measured, and a ratio is only ever taken within one round.
func printSpread(w io.Writer, rounds [][]row) {
	fmt.Fprintf(w, "ratios in each of %d rounds (median last):\n\n", len(rounds))
	for _, base := range []string{"bare", "none"} {
		for i, r := range rounds[0] {
			if r.system == base || r.system == "bare" {
				continue // a system over itself, or the baseline over the gateway
			}
			var xs []float64
			for _, rows := range rounds {
				if i < len(rows) {
					if x, ok := ratio(rows, rows[i], base); ok {
						xs = append(xs, x)
					}
				}
			}
			if len(xs) == 0 {
				continue
			}
			spreadLine(w, r.system+" / "+base, xs)
		}
	}
	var xs []float64
	for _, rows := range rounds {
		if x, ok := drainRatio(rows); ok {
			xs = append(xs, x)
		}
	}
	if len(xs) > 0 {
		spreadLine(w, "async drained / sqlite delivered (updates/s)", xs)
	}
}

// spreadLine writes one ratio's value in each round, and their median.
func spreadLine(w io.Writer, name string, xs []float64) {
	parts := make([]string, len(xs))
	for j, x := range xs {
		parts[j] = fmt.Sprintf("%.2fx", x)
	}
	fmt.Fprintf(w, "- %s: %s (median %.2fx)\n", name, strings.Join(parts, ", "), median(xs))
}

// median of xs, which it sorts.
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
