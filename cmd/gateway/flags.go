package main

import (
	"flag"
	"io"
)

type options struct {
	sandbox bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.sandbox, "sandbox", false, "start simulated vendors in-process and point every adapter at them")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	return o, nil
}
