package model

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
)

// ErrInFlight is the answer to an Idempotency-Key while the first request with the key (and
// the same body) is still being handled: the caller should answer 409 Conflict with
// Retry-After, as the IETF Idempotency-Key draft advises, rather than send a second time.
var ErrInFlight = errors.New("a request with this Idempotency-Key is still in flight")

// IdempotentReply is the first reply given to an Idempotency-Key.
type IdempotentReply struct {
	Status    int
	Body      []byte
	BodyHash  [32]byte
	CreatedAt time.Time
}

// RequestHash is what an Idempotency-Key is bound to: the method, the target (path and
// query) and the body, so that the same key and body sent to another customer is a conflict
// too.
func RequestHash(method, target string, body []byte) [32]byte {
	h := sha256.New()
	// The lengths keep the parts from running into each other.
	_, _ = fmt.Fprintf(h, "%d:%s%d:%s", len(method), method, len(target), target)
	_, _ = h.Write(body)
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}
