package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/customergateway/gateway/internal/auth"
)

// keysCommand is `gateway keys ...`: `gateway keys new --name N --scopes s1,s2` makes an API
// key, prints it once, and prints the keys file line (GATEWAY_API_KEYS_FILE) holding its
// digest. The gateway never sees the key itself again.
func keysCommand(args []string, stdout, stderr io.Writer) error {
	usage := func() {
		fmt.Fprintln(stderr, "usage: gateway keys new --name NAME --scopes SCOPE[,SCOPE...]")
		fmt.Fprintln(stderr, "scopes:", strings.Join(auth.AllScopes(), ", "))
	}
	if len(args) == 0 {
		usage()
		return errors.New("keys: a subcommand is needed: new")
	}
	switch args[0] {
	case "new":
		return keysNew(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		usage()
		return nil
	}
	usage()
	return fmt.Errorf("keys: unknown subcommand %q (known: new)", args[0])
}

func keysNew(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keys new", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "the caller's name: on every log line and audit event of its requests")
	list := fs.String("scopes", "", "comma-separated scopes: "+strings.Join(auth.AllScopes(), ", "))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("keys new: unexpected argument %q", fs.Arg(0))
	}
	if err := auth.CheckName(*name); err != nil {
		return fmt.Errorf("keys new: --name: %w", err)
	}
	var scopes []string
	for s := range strings.SplitSeq(*list, ",") {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	if err := auth.CheckScopes(scopes); err != nil {
		return fmt.Errorf("keys new: --scopes: %w", err)
	}
	key, digest, err := auth.NewKey()
	if err != nil {
		return err
	}
	line, err := auth.KeyLine(*name, digest, scopes)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "key: %s    (shown once: give it to the caller; the gateway keeps only its digest)\n", key)
	fmt.Fprintln(stdout, line)
	fmt.Fprintln(stderr, "add the second line under keys: in the file GATEWAY_API_KEYS_FILE names, then restart the gateway")
	return nil
}
