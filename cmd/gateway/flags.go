package main

import (
	"flag"
	"fmt"
	"io"
)

type options struct {
	sandbox bool
	version bool
}

// usage is what `gateway -h` prints before the flags.
const usage = `usage:
  gateway [--sandbox]          serve (configured by environment variables: README.md, "Configuration")
  gateway check [--sandbox]    report every problem in the configuration, serving nothing
  gateway healthcheck [-url U] ask a running gateway's /readyz
  gateway keys new --name N --scopes S[,S...]   make an API key
  gateway webhooks secret      make a webhook secret
  gateway updates ...          a client of a running gateway (gateway updates --help)
  gateway deliveries ...       the same, for its queued deliveries
  gateway version              print the version (also --version)
flags:`

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	fs.BoolVar(&o.sandbox, "sandbox", false, "start simulated vendors in-process and point every adapter at them")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unknown command %q (gateway -h lists them)", fs.Arg(0))
	}
	return o, nil
}
