package fanout

import (
	"context"
	"errors"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	"github.com/failsafe-go/failsafe-go/timeout"

	"github.com/customergateway/gateway/internal/model"
)

// Policy is how hard the gateway tries each vendor. Every vendor gets its own copy of the
// policies, so one vendor's failures never open another's breaker.
type Policy struct {
	// AttemptTimeout bounds one call to the vendor.
	AttemptTimeout time.Duration
	// Attempts is the most calls per update (1 = no retry).
	Attempts int
	// Backoff is the first retry delay; it doubles up to 20 times that, with jitter.
	Backoff time.Duration
	// BreakerFailures consecutive retryable failures open the vendor's breaker...
	BreakerFailures uint
	// ...for BreakerCooldown, after which one trial call is let through.
	BreakerCooldown time.Duration
}

// DefaultPolicy is the policy of DESIGN.md 3.2's defaults.
func DefaultPolicy() Policy {
	return Policy{AttemptTimeout: 3 * time.Second, Attempts: 3, Backoff: 100 * time.Millisecond, BreakerFailures: 5, BreakerCooldown: 30 * time.Second}
}

// executor composes retry (outermost), breaker and per-attempt timeout for one vendor.
// Only retryable failures are retried or counted by the breaker: a rejection is the
// caller's data, not the vendor's health.
func (p Policy) executor() (failsafe.Executor[any], circuitbreaker.CircuitBreaker[any]) {
	retryable := func(_ any, err error) bool {
		return model.IsRetryable(err) && !errors.Is(err, circuitbreaker.ErrOpen)
	}
	maxDelay := p.Backoff * 20
	retry := retrypolicy.NewBuilder[any]().
		HandleIf(retryable).
		AbortIf(func(_ any, err error) bool { return errors.Is(err, context.Canceled) }).
		WithMaxAttempts(p.Attempts).
		WithBackoff(p.Backoff, maxDelay).
		WithJitterFactor(0.25).
		ReturnLastFailure().
		Build()
	breaker := circuitbreaker.NewBuilder[any]().
		HandleIf(retryable).
		WithFailureThreshold(p.BreakerFailures).
		WithDelay(p.BreakerCooldown).
		Build()
	return failsafe.With[any](retry, breaker, timeout.New[any](p.AttemptTimeout)), breaker
}
