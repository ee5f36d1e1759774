package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/model"
)

// Replies keeps the first reply to each Idempotency-Key (internal/store implements it).
type Replies interface {
	// BeginIdempotent claims key for a request hashed as hash, at now: it answers the kept
	// reply of an earlier request, conflict for a key used with another request, or
	// model.ErrInFlight while the first request with the key is still being answered.
	BeginIdempotent(ctx context.Context, key string, hash [32]byte, now time.Time) (reply *model.IdempotentReply, conflict bool, err error)
	// FinishIdempotent keeps the reply of the request that claimed key at claimedAt.
	FinishIdempotent(ctx context.Context, key string, claimedAt time.Time, status int, body []byte) error
	// ReleaseIdempotent frees the claim made at claimedAt, so a retry tries again.
	ReleaseIdempotent(ctx context.Context, key string, claimedAt time.Time) error
}

// IdempotencyKeyHeader names a caller's key for one update.
const IdempotencyKeyHeader = "Idempotency-Key"

// idempotent answers a repeated Idempotency-Key (same method, path, query and body within
// 24 hours) with the first reply and sends nothing again; the same key with another body is
// a 422. Without a store, or without the header, it passes the request through.
func idempotent(s Replies) func(http.Handler) http.Handler {
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
			body, err := readBody(r)
			if err != nil {
				badRequest(w, r, "unreadable body", model.FieldErrors{{Field: "body", Message: err.Error()}})
				return
			}
			claimedAt := time.Now()
			reply, conflict, err := s.BeginIdempotent(r.Context(), key, model.RequestHash(r.Method, r.URL.RequestURI(), body), claimedAt)
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
				w.Header().Set("Idempotent-Replayed", "true")
				w.WriteHeader(reply.Status)
				_, _ = w.Write(reply.Body)
			default:
				serveAndKeep(w, r, next, s, key, claimedAt)
			}
		})
	}
}

// serveAndKeep serves the request and stores its reply under key, claimed at claimedAt. A
// 5xx, a panic or a handler that wrote nothing is released, so a retry with the same key
// tries again.
func serveAndKeep(w http.ResponseWriter, r *http.Request, next http.Handler, s Replies, key string, claimedAt time.Time) {
	rec := &recorder{ResponseWriter: w}
	defer func() {
		// Keep the reply even when the caller hung up: the retry must find it.
		ctx := context.WithoutCancel(r.Context())
		if p := recover(); p != nil {
			_ = s.ReleaseIdempotent(ctx, key, claimedAt)
			panic(p) // the recoverer answers 500
		}
		var err error
		if rec.status == 0 || rec.status >= 500 {
			err = s.ReleaseIdempotent(ctx, key, claimedAt)
		} else {
			err = s.FinishIdempotent(ctx, key, claimedAt, rec.status, rec.body.Bytes())
		}
		if err != nil {
			zerolog.Ctx(ctx).Error().Err(err).Msg("keep idempotent reply")
		}
	}()
	next.ServeHTTP(rec, r)
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
