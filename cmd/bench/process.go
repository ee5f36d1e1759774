package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// startTimeout bounds how long a server may take to say where it listens.
const startTimeout = time.Minute

// process is one server the benchmark started, as a process of its own so that its CPU
// can be read from /proc; its output goes to a log file in the run's directory.
type process struct {
	name   string
	cmd    *exec.Cmd
	addr   string // host:port it listens on
	log    string
	exited chan struct{} // closed once it has exited
}

// addrFunc reads a server's address from one line of its output: "" and no error when the
// line is not the one that says it listens.
type addrFunc func(line string) (string, error)

// startProcess runs bin with args and env in dir and waits until its output says where it
// listens.
func startProcess(ctx context.Context, name, dir, bin string, args, env []string, addrOf addrFunc) (*process, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the child has its own copy
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, f, f
	// Should the benchmark itself be killed, its servers go too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()

	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		addr, err := scanLog(logPath, addrOf)
		if err != nil || addr != "" {
			if err != nil {
				p.stop()
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			p.addr = addr
			return p, nil
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("%s exited before listening: %s", name, p.tail())
		case <-deadline.C:
			p.stop()
			return nil, fmt.Errorf("%s did not listen within %v: %s", name, startTimeout, p.tail())
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// scanLog is the address the first line of the log that addrOf recognises names.
func scanLog(path string, addrOf addrFunc) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if addr, err := addrOf(sc.Text()); addr != "" || err != nil {
			return addr, err
		}
	}
	return "", nil
}

// pid is the process's id, for /proc/<pid>/stat.
func (p *process) pid() int { return p.cmd.Process.Pid }

// stop asks the process to shut down and kills it when it has not within 20 seconds.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// tail is the end of the process's log, for an error message.
func (p *process) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// listeningAddr reads the "listening ADDR" line of cmd/bench/stub and cmd/bench/baseline.
func listeningAddr(line string) (string, error) {
	addr, ok := strings.CutPrefix(line, "listening ")
	if !ok {
		return "", nil
	}
	return strings.TrimSpace(addr), nil
}

// gatewayAddr reads the gateway's "gateway listening" log line, which must name every
// vendor: one left out would make the gateway's fan-out narrower than the baseline's.
func gatewayAddr(line string) (string, error) {
	var l struct {
		Message string   `json:"message"`
		Addr    string   `json:"addr"`
		Vendors []string `json:"vendors"`
	}
	if json.Unmarshal([]byte(line), &l) != nil || l.Message != "gateway listening" {
		return "", nil
	}
	if len(l.Vendors) != 3 {
		return "", fmt.Errorf("gateway listening with vendors %q: want all three", l.Vendors)
	}
	if l.Addr == "" {
		return "", errors.New("gateway listening at no address")
	}
	return l.Addr, nil
}
