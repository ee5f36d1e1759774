package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/model"
)

// Replies keeps the first reply to each Idempotency-Key (internal/store implements it). A
// key is the caller's own: caller names whose key it is ("" before callers are known).
type Replies interface {
	// BeginIdempotent claims caller's key for a request hashed as hash, at now: it answers
	// the kept reply of an earlier request, conflict for a key used with another request, or
	// model.ErrInFlight while the first request with the key is still being answered. A
	// claim holds for InFlightLease unless renewed.
	BeginIdempotent(ctx context.Context, caller, key string, hash [32]byte, now time.Time) (reply *model.IdempotentReply, conflict bool, err error)
	// RenewIdempotent makes the claim made at claimedAt hold for InFlightLease from now; an
	// error means it was not renewed (the store failed, or the claim is no longer this
	// request's).
	RenewIdempotent(ctx context.Context, caller, key string, claimedAt, now time.Time) error
	// FinishIdempotent keeps the reply of the request that claimed key at claimedAt.
	FinishIdempotent(ctx context.Context, caller, key string, claimedAt time.Time, status int, body []byte) error
	// ReleaseIdempotent frees the claim made at claimedAt, so a retry tries again.
	ReleaseIdempotent(ctx context.Context, caller, key string, claimedAt time.Time) error
	// InFlightLease is how long a claim holds unless renewed.
	InFlightLease() time.Duration
}

// IdempotencyKeyHeader names a caller's key for one update.
const IdempotencyKeyHeader = "Idempotency-Key"

// noCaller is the caller of every request while the gateway knows none: all requests share
// one set of Idempotency-Keys.
func noCaller(*http.Request) string { return "" }

// errClaimLapsed is the cause of a request's cancelled context when its Idempotency-Key
// claim could not be renewed in time: another request may take the key over and send, so
// whatever still heeds the context stops.
var errClaimLapsed = errors.New("the Idempotency-Key claim was not renewed in time: another request may take the key over")

// idempotent answers a repeated Idempotency-Key (same caller, method, path, query and body
// within 24 hours) with the first reply and sends nothing again; the same key with another
// body is a 422. callerOf names the request's caller, whose keys are its own. Without a
// store, or without the header, it passes the request through.
func idempotent(s Replies, callerOf func(*http.Request) string) func(http.Handler) http.Handler {
	if callerOf == nil {
		callerOf = noCaller
	}
	return func(next http.Handler) http.Handler {
		if s == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := r.Header.Get(IdempotencyKeyHeader)
			if key == "" {
				next.ServeHTTP(w, r)
				return
			}
			if len(key) > 255 {
				badRequest(w, r, "Idempotency-Key is over 255 characters", model.FieldErrors{{Field: IdempotencyKeyHeader, Message: "at most 255 characters"}})
				return
			}
			if strings.ContainsFunc(key, unicode.IsControl) {
				badRequest(w, r, "Idempotency-Key holds a control character", model.FieldErrors{{Field: IdempotencyKeyHeader, Message: "no control characters"}})
				return
			}
			body, err := readBody(r)
			if err != nil {
				badRequest(w, r, "unreadable body", model.FieldErrors{{Field: "body", Message: err.Error()}})
				return
			}
			c := claim{s: s, caller: callerOf(r), key: key, at: time.Now()}
			reply, conflict, err := s.BeginIdempotent(r.Context(), c.caller, key, model.RequestHash(r.Method, r.URL.RequestURI(), body), c.at)
			switch {
			case errors.Is(err, model.ErrInFlight):
				w.Header().Set("Retry-After", "1")
				writeProblem(w, r, Problem{Type: "idempotency-in-flight", Title: "A request with this Idempotency-Key is in flight", Status: http.StatusConflict, Detail: "retry once the first request has been answered"})
			case err != nil:
				zerolog.Ctx(r.Context()).Error().Err(err).Msg("idempotency key")
				internalError(w, r)
			case conflict:
				undeliverable(w, r, model.FieldErrors{{Field: IdempotencyKeyHeader, Message: "this key was used with another request body within 24 hours"}})
			case reply != nil:
				// The store keeps status and body; every kept answer below 400 is an update
				// result and every other one a problem.
				ct := "application/json"
				if reply.Status >= 400 {
					ct = "application/problem+json"
				}
				w.Header().Set("Content-Type", ct)
				if id := keptUpdateID(reply.Body); id != "" {
					w.Header().Set("Location", updateLocation(id))
				}
				w.Header().Set("Idempotent-Replayed", "true")
				w.WriteHeader(reply.Status)
				_, _ = w.Write(reply.Body)
			default:
				serveAndKeep(w, r, next, c)
			}
		})
	}
}

// claim is the Idempotency-Key claim a request holds: caller's key, claimed at at.
type claim struct {
	s           Replies
	caller, key string
	at          time.Time // with its monotonic reading: the lease is timed on it
}

// serveAndKeep serves the request while it keeps claim c renewed, and stores its reply under
// the key. A 5xx, a panic or a handler that wrote nothing is released, so a retry with the
// same key tries again.
func serveAndKeep(w http.ResponseWriter, r *http.Request, next http.Handler, c claim) {
	ctx, lapse := context.WithCancelCause(r.Context())
	defer lapse(nil)
	stop := c.keepRenewed(ctx, lapse)
	rec := &recorder{ResponseWriter: w}
	defer func() {
		// The claim is renewed until the answer is kept or released, never after.
		stop()
		// Keep the reply even when the caller hung up: the retry must find it.
		ctx := context.WithoutCancel(r.Context())
		if p := recover(); p != nil {
			_ = c.s.ReleaseIdempotent(ctx, c.caller, c.key, c.at)
			panic(p) // the recoverer answers 500
		}
		var err error
		if rec.status == 0 || rec.status >= 500 {
			err = c.s.ReleaseIdempotent(ctx, c.caller, c.key, c.at)
		} else {
			err = c.s.FinishIdempotent(ctx, c.caller, c.key, c.at, rec.status, rec.body.Bytes())
		}
		if err != nil {
			zerolog.Ctx(ctx).Error().Err(err).Msg("keep idempotent reply")
		}
	}()
	next.ServeHTTP(rec, r.WithContext(ctx))
}

// keepRenewed renews claim c every third of its lease, from a goroutine, until stop is
// called; stop returns once the goroutine is gone. A renewal that fails is logged and tried
// again at the next third. When a quarter of the last renewal's lease is all that is left
// (the two renewals since failed or hung), the claim may soon be taken over by another
// request, which would then send too: lapse cancels the request's context with
// errClaimLapsed, so that whatever still heeds it stops, and the lapse is logged as an
// error. The quarter left is the margin for the clocks of the replicas to differ. Renewals
// go on after a lapse: one that succeeds makes the claim safe again, and the request's
// finish still succeeds only if no other request took the key over meanwhile.
func (c claim) keepRenewed(ctx context.Context, lapse context.CancelCauseFunc) (stop func()) {
	lease := c.s.InFlightLease()
	every, margin := lease/3, lease/4
	if every <= 0 {
		return func() {}
	}
	// Renewals outlive a caller that hangs up: the handler goes on sending.
	ctx = context.WithoutCancel(ctx)
	log := zerolog.Ctx(ctx)
	held := c.at.Add(lease) // the last renewal's lease, as this process's clock has it
	done, gone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(gone)
		tick := time.NewTicker(every)
		defer tick.Stop()
		deadline := time.NewTimer(time.Until(held) - margin)
		defer deadline.Stop()
		lapsed := false
		for {
			select {
			case <-done:
				return
			case <-deadline.C:
				lapsed = true
				log.Error().Err(errClaimLapsed).Time("held_until", held).
					Msg("Idempotency-Key claim not renewed: another request may take the key over; cancelling this one")
				lapse(errClaimLapsed)
				continue
			case <-tick.C:
			}
			now := time.Now()
			// A renewal that hangs must not keep the deadline from firing.
			until := now.Add(every)
			if !lapsed {
				until = minTime(until, held.Add(-margin))
			}
			rctx, cancel := context.WithDeadline(ctx, until)
			err := c.s.RenewIdempotent(rctx, c.caller, c.key, c.at, now)
			cancel()
			if err != nil {
				log.Warn().Err(err).Time("held_until", held).Msg("renew Idempotency-Key claim")
				continue
			}
			held = now.Add(lease)
			if lapsed {
				log.Warn().Time("held_until", held).Msg("Idempotency-Key claim renewed after its lapse")
				continue
			}
			deadline.Reset(time.Until(held) - margin)
		}
	}()
	return func() {
		close(done)
		<-gone
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// recorder passes the answer through and keeps a copy of it.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (rec *recorder) WriteHeader(status int) {
	rec.status = status
	rec.ResponseWriter.WriteHeader(status)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	rec.body.Write(b)
	return rec.ResponseWriter.Write(b)
}

var _ io.Writer = (*recorder)(nil)

// keptUpdateID is the update_id of a kept answer (an update result or a problem), "" when
// it has none: a replay names the same update as the answer it repeats.
func keptUpdateID(body []byte) string {
	var v struct {
		UpdateID string `json:"update_id"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	return v.UpdateID
}
