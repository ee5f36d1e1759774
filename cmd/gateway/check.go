package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/customergateway/gateway/internal/auth"
	"github.com/customergateway/gateway/internal/config"
	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors"
)

// checkCommand is `gateway check [--sandbox]`: it reads the configuration as serving would
// and reports every problem in it, serving nothing, opening no store and calling no vendor.
// It prints a short summary and answers nil when the gateway would start, else an error
// listing each problem.
func checkCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sandbox := fs.Bool("sandbox", false, "check the configuration --sandbox would run with")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("check: unexpected argument %q", fs.Arg(0))
	}
	summary, problems := checkConfiguration(ctx, getenv, *sandbox)
	if len(problems) > 0 {
		return problemList(problems)
	}
	fmt.Fprintln(stdout, "ok: the gateway would start with this configuration (nothing was opened or called)")
	for _, line := range summary {
		fmt.Fprintln(stdout, "  "+line)
	}
	return nil
}

// checkConfiguration reads everything serve reads from getenv and answers a summary of it,
// or every problem found. The store is not opened (the URL is only checked to be there),
// nothing listens, and no vendor is called; a JWKS fetch that starts is stopped at once.
func checkConfiguration(ctx context.Context, getenv func(string) string, sandbox bool) (summary []string, problems []error) {
	// A value that does not parse leaves the fields after it unread (zero): only those read
	// are checked further.
	cfg, err := config.Load(getenv)
	problems = appendProblems(problems, err)
	if cfg.LogLevel != "" {
		if _, err := newLogger(cfg, io.Discard); err != nil {
			problems = append(problems, err)
		}
	}
	if cfg.DefaultRegion != "" && !model.KnownRegion(cfg.DefaultRegion) {
		problems = append(problems, regionError(cfg.DefaultRegion))
	}
	// The queue's settings and its webhooks, as wire reads them (nothing is sent).
	if _, err := queueConfig(cfg, getenv); err != nil {
		problems = appendProblems(problems, err)
	}

	callers, err := auth.ReadEnv(getenv, sandbox)
	if err != nil {
		problems = append(problems, err)
	} else if authn, err := callers.Open(ctx); err != nil {
		problems = append(problems, err)
	} else if authn != nil {
		_ = authn.Close()
	}

	if sandbox {
		vars := map[string]string{}
		for _, p := range registered {
			_, env, err := p.sandbox(getenv, "http://127.0.0.1:0")
			problems = appendProblems(problems, err)
			for k, v := range env {
				vars[k] = v
			}
		}
		getenv = overlay(vars, getenv)
	}
	var built []vendors.Vendor
	broken := false
	for _, p := range registered {
		v, err := p.fromEnv(getenv)
		if err != nil {
			problems, broken = appendProblems(problems, err), true
			continue
		}
		built = append(built, v)
	}
	if !broken {
		problems = appendProblems(problems, needVendor(built))
	}
	if len(problems) > 0 {
		return nil, problems
	}

	summary = []string{
		"vendors: " + enabledSummary(built),
		"callers: " + callersSummary(callers),
		"store: " + storeSummary(cfg.DatabaseURL),
		"listens on: " + cfg.Addr,
	}
	if sandbox {
		summary = append(summary, "sandbox: simulated vendors")
	}
	return summary, nil
}

// needVendor refuses a gateway with no vendor configured, naming the variables that
// configure each registered vendor (its Env's credentials): every update would be a 422.
func needVendor(vs []vendors.Vendor) error {
	for _, v := range vs {
		if v.Enabled() {
			return nil
		}
	}
	ways := make([]string, 0, len(registered))
	for i, p := range registered {
		name := fmt.Sprintf("vendor %d", i+1)
		if i < len(vs) {
			name = vs[i].DisplayName()
		}
		ways = append(ways, fmt.Sprintf("%s (%s)", strings.Join(enablingVariables(p.env), " and "), name))
	}
	return fmt.Errorf("no vendor is configured, so every update would be refused: set %s; or run with --sandbox against simulated vendors", strings.Join(ways, ", or "))
}

// enablingVariables are the variables of a vendor's Env that enable it: those it marks as
// its credentials, else those without a default.
func enablingVariables(env any) []string {
	if names := config.Credentials(env); len(names) > 0 {
		return names
	}
	var names []string
	for _, name := range config.Names(env) {
		if def, _ := config.Default(env, name); def == "" {
			names = append(names, name)
		}
	}
	return names
}

// regionError is a GATEWAY_DEFAULT_REGION no phone number can be read in.
func regionError(region string) error {
	return fmt.Errorf("GATEWAY_DEFAULT_REGION: %q is not an ISO 3166-1 region with phone numbers", region)
}

// appendProblems adds err to problems, each error an errors.Join holds as its own.
func appendProblems(problems []error, err error) []error {
	if err == nil {
		return problems
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			problems = appendProblems(problems, e)
		}
		return problems
	}
	return append(problems, err)
}

// problemList is one error listing every problem, a line each.
func problemList(problems []error) error {
	lines := make([]string, 0, len(problems)+1)
	noun := "problems"
	if len(problems) == 1 {
		noun = "problem"
	}
	lines = append(lines, fmt.Sprintf("the configuration has %d %s:", len(problems), noun))
	for _, p := range problems {
		lines = append(lines, "  - "+p.Error())
	}
	return errors.New(strings.Join(lines, "\n"))
}

func enabledSummary(vs []vendors.Vendor) string {
	var on, off []string
	for _, v := range vs {
		if v.Enabled() {
			on = append(on, string(v.Name()))
		} else {
			off = append(off, string(v.Name()))
		}
	}
	s := strings.Join(on, ", ")
	if len(off) > 0 {
		s += " (not configured: " + strings.Join(off, ", ") + ")"
	}
	return s
}

func callersSummary(e auth.Env) string {
	if e.Mode == auth.ModeNone {
		return "none (GATEWAY_AUTH=none: every request is the caller \"anonymous\")"
	}
	var ways []string
	if e.KeysFile != "" {
		ways = append(ways, "API keys ("+e.KeysFile+")")
	}
	if e.JWKSURL != "" {
		ways = append(ways, "JWTs")
	}
	return strings.Join(ways, " and ")
}

// storeSummary names the store's engine, never its URL (it may hold a password).
func storeSummary(url string) string {
	if url == config.NoDatabase {
		return "none (nothing remembered, nothing queued)"
	}
	scheme, _, _ := strings.Cut(url, ":")
	return scheme + " (not opened: its connection and migrations are checked at start-up)"
}
