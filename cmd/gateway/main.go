// Command gateway serves the canonical customer contract and delivers each update to every
// registered vendor (vendors.go). `gateway --sandbox` runs it against simulated vendors;
// `gateway check` reports every problem in a configuration without serving;
// `gateway healthcheck` asks a running gateway's /readyz (the container's health check);
// `gateway keys new --name N --scopes ...` makes an API key; `gateway webhooks secret` a
// webhook secret; `gateway updates ...` and `gateway deliveries ...` are a client of a
// running gateway (internal/cli); `gateway version` (or
// `--version`) prints the version it was built from.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // Asia/Seoul must resolve in a scratch or distroless image
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	var exit exitError
	switch {
	case errors.As(err, &exit):
		os.Exit(exit.code) // the command printed why
	case err != nil:
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

// run is the whole program: everything it needs from the OS comes in as a parameter, so a
// test starts the real gateway in-process with its own arguments and environment and
// stops it by cancelling ctx.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "healthcheck":
			return healthcheck(ctx, args[1:], getenv, stdout)
		case "keys":
			return keysCommand(args[1:], stdout, stderr)
		case "check":
			return checkCommand(ctx, args[1:], getenv, stdout, stderr)
		case "version":
			return printVersion(stdout)
		case "webhooks":
			return webhooksCommand(args[1:], stdout)
		case "updates", "deliveries":
			return clientCommand(ctx, args, getenv, stdout, stderr)
		}
	}
	opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h: the usage is printed
	}
	if err != nil {
		return err
	}
	if opts.version {
		return printVersion(stdout)
	}
	return serve(ctx, opts, getenv, stdout)
}
