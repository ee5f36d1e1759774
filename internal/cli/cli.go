// Package cli is the gateway's command line client: `gateway updates get ID` and `gateway
// deliveries list|retry|cancel` ask a running gateway over HTTP (DESIGN.md section 6) and
// print a table, or with --json the gateway's own answer.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// Exit codes of Run.
const (
	exitOK     = 0
	exitFailed = 1 // the gateway answered an error, or could not be reached or understood
	exitUsage  = 2
)

const (
	defaultURL     = "http://127.0.0.1:8080"
	defaultTimeout = 30 * time.Second
)

const usageText = `usage: gateway updates get ID [flags]
       gateway deliveries list [--status S] [--vendor V] [--customer ID] [--limit N] [--cursor C] [flags]
       gateway deliveries retry ID [flags]
       gateway deliveries cancel ID [flags]

Ask a running gateway how an update ended, and list, send again or give up its deliveries.

  updates get ID       the update's outcome and, per vendor, its status, attempts, when it
                       was delivered or how long it stays queued, and why it failed
                       (the key needs customers:read)
  deliveries list      deliveries that wait or ended without success, newest first
                       (the key needs deliveries:manage, as for retry and cancel)
  deliveries retry ID  send an ended delivery again
  deliveries cancel ID give up a waiting delivery: its status becomes cancelled

flags, before or after ID:
  --url URL            the gateway (default $GATEWAY_URL, else ` + defaultURL + `)
  --key KEY            API key, sent as "Authorization: Bearer KEY" (default $GATEWAY_API_KEY;
                       prefer the variable, a flag shows in the process list); none is sent
                       when empty, as for a --sandbox gateway
  --json               print the gateway's JSON answer, indented, instead of a table
  --timeout D          give up after D (default 30s)

deliveries list filters:
  --status S           queued, failed, rejected or cancelled
  --vendor V           one vendor's deliveries
  --customer ID        one customer's deliveries
  --limit N            at most N per page
  --cursor C           the page after the one whose next_cursor was C

exit status: 0 ok; 1 the gateway answered an error (its problem is printed on stderr, and
with --json its body on stdout), or could not be reached; 2 a usage error.
`

// Run runs one client command, args being what follows the program's name
// (["deliveries", "retry", "ID", "--json"]), and returns the process's exit code: 0 when the
// gateway answered with success, 1 when it answered an error or could not be reached, 2 for a
// usage error. getenv supplies GATEWAY_URL and GATEWAY_API_KEY; the only thing read from the
// OS directly is the standard transport's HTTPS_PROXY/HTTP_PROXY/NO_PROXY.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	group, rest := args[0], args[1:]
	subs, ok := commands[group]
	if !ok {
		fmt.Fprintf(stderr, "gateway: unknown command %q\n\n%s", sanitize(group), usageText)
		return exitUsage
	}
	if len(rest) == 0 {
		fmt.Fprintf(stderr, "gateway %s: a subcommand is needed: %s\n\n%s", group, names(subs), usageText)
		return exitUsage
	}
	if isHelp(rest[0]) {
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	cmd := findCommand(subs, rest[0])
	if cmd == nil {
		fmt.Fprintf(stderr, "gateway %s: unknown subcommand %q (known: %s)\n\n%s", group, sanitize(rest[0]), names(subs), usageText)
		return exitUsage
	}
	name := group + " " + cmd.name
	inv, err := cmd.parse(name, rest[1:], getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "gateway %s: %s\nusage: gateway %s\nrun 'gateway %s --help' for more\n", name, sanitize(err.Error()), cmd.synopsis, group)
		return exitUsage
	}
	if err := cmd.run(ctx, inv, stdout); err != nil {
		reportError(stderr, name, err)
		return exitFailed
	}
	return exitOK
}

// command is one subcommand: its flags beyond the common ones, how many ids it takes, and
// what it does with a parsed invocation.
type command struct {
	name     string
	synopsis string
	takesID  bool
	flags    func(fs *flag.FlagSet, f *filters)
	run      func(ctx context.Context, inv *invocation, stdout io.Writer) error
}

// commands lists every subcommand of every group.
var commands = map[string][]command{
	"updates": {
		{name: "get", synopsis: "updates get ID [flags]", takesID: true, run: runUpdatesGet},
	},
	"deliveries": {
		{name: "list", synopsis: "deliveries list [--status S] [--vendor V] [--customer ID] [--limit N] [--cursor C] [flags]", flags: listFlags, run: runDeliveriesList},
		{name: "retry", synopsis: "deliveries retry ID [flags]", takesID: true, run: runDeliveriesRetry},
		{name: "cancel", synopsis: "deliveries cancel ID [flags]", takesID: true, run: runDeliveriesCancel},
	},
}

func findCommand(subs []command, name string) *command {
	for i := range subs {
		if subs[i].name == name {
			return &subs[i]
		}
	}
	return nil
}

func names(subs []command) string {
	var ns []string
	for _, c := range subs {
		ns = append(ns, c.name)
	}
	return strings.Join(ns, ", ")
}

func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// invocation is a parsed command line: where to send the request, how, and what to print.
type invocation struct {
	client *client
	json   bool
	id     string
	// urlFlag is --url as given, empty when it came from the environment; the next-page
	// hint repeats it.
	urlFlag string
	filters filters
}

// filters are deliveries list's query flags.
type filters struct {
	status, vendor, customer, cursor string
	limit                            int
}

// parse reads the command's flags, which may come before or after its id, and fills the
// defaults from the environment.
func (c *command) parse(name string, args []string, getenv func(string) string) (*invocation, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// Errors and help are printed by Run, with the text above rather than flag's own.
	fs.SetOutput(io.Discard)
	base := fs.String("url", "", "")
	// The key's default is not the flag's default, so no usage text can ever show it.
	key := fs.String("key", "", "")
	asJSON := fs.Bool("json", false, "")
	timeout := fs.Duration("timeout", defaultTimeout, "")
	inv := &invocation{}
	if c.flags != nil {
		c.flags(fs, &inv.filters)
	}
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, err
	}
	switch {
	case c.takesID && len(positional) == 0:
		return nil, errors.New("an id is needed")
	case c.takesID && len(positional) > 1:
		return nil, fmt.Errorf("one id only, got %d", len(positional))
	case !c.takesID && len(positional) > 0:
		return nil, fmt.Errorf("unexpected argument %q", positional[0])
	}
	if c.takesID {
		inv.id = positional[0]
		// "", "." and ".." would name another resource once the path is cleaned.
		if strings.Trim(inv.id, ".") == "" {
			return nil, fmt.Errorf("invalid id %q", inv.id)
		}
	}
	if inv.filters.limit < 0 {
		return nil, fmt.Errorf("--limit must be positive, got %d", inv.filters.limit)
	}
	if *timeout <= 0 {
		return nil, fmt.Errorf("--timeout must be positive, got %s", *timeout)
	}
	inv.urlFlag = *base
	if *base == "" {
		*base = getenv("GATEWAY_URL")
	}
	if *base == "" {
		*base = defaultURL
	}
	u, err := checkBase(*base)
	if err != nil {
		return nil, err
	}
	if *key == "" {
		*key = getenv("GATEWAY_API_KEY")
	}
	inv.json = *asJSON
	inv.client = newClient(u, strings.TrimSpace(*key), *timeout)
	return inv, nil
}

func listFlags(fs *flag.FlagSet, f *filters) {
	fs.StringVar(&f.status, "status", "", "")
	fs.StringVar(&f.vendor, "vendor", "", "")
	fs.StringVar(&f.customer, "customer", "", "")
	fs.StringVar(&f.cursor, "cursor", "", "")
	fs.IntVar(&f.limit, "limit", 0, "")
}

// parseInterleaved parses flags wherever they are among the positional arguments, which the
// flag package alone stops at. After "--" everything is positional, so an id that starts with
// a dash can still be given.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// checkBase accepts a gateway's base URL: http or https, a host, and at most a path prefix
// (a gateway behind a proxy at /gateway).
func checkBase(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("--url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url %q: want http://host[:port] or https://host[:port]", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--url %q: no query or fragment", u.Redacted())
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u, nil
}

// reportError prints a failed command's error on stderr: a problem with its title, status,
// detail and field errors; anything else as it is. All of it is cleaned of control characters,
// since much of it is the server's text.
func reportError(stderr io.Writer, name string, err error) {
	var p *problemError
	if !errors.As(err, &p) {
		fmt.Fprintf(stderr, "gateway %s: %s\n", name, sanitize(err.Error()))
		return
	}
	title := string(p.Title)
	if title == "" {
		title = p.statusText
	}
	line := fmt.Sprintf("gateway %s: %s (%d)", name, sanitize(title), p.status)
	if p.Detail != "" {
		line += ": " + sanitize(string(p.Detail))
	}
	fmt.Fprintln(stderr, line)
	for _, fe := range p.Errors {
		field := string(fe.Field)
		if fe.Vendor != "" {
			field += " (" + string(fe.Vendor) + ")"
		}
		fmt.Fprintf(stderr, "  %s: %s\n", sanitize(field), sanitize(string(fe.Message)))
	}
	if p.RequestID != "" {
		fmt.Fprintf(stderr, "  request id: %s\n", sanitize(string(p.RequestID)))
	}
}
