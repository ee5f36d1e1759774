package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/customergateway/gateway/internal/cli"
	"github.com/customergateway/gateway/internal/webhook"
)

// exitError is a command's failure that carries its own exit code (the client's 1 and 2).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// clientCommand runs `gateway updates ...` and `gateway deliveries ...` against a running
// gateway; the client prints its own errors, so only the exit code is passed on.
func clientCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if code := cli.Run(ctx, args, getenv, stdout, stderr); code != 0 {
		return exitError{code}
	}
	return nil
}

// webhooksCommand runs `gateway webhooks secret`: a new GATEWAY_WEBHOOK_SECRET.
func webhooksCommand(args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "secret" {
		return errors.New("usage: gateway webhooks secret")
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, secret)
	return err
}
