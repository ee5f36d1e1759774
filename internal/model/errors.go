package model

import "errors"

// ErrorCode is the kind of a failure, whatever its message: the HTTP surface turns each code
// into one status and problem type, so nothing steers by matching message text.
type ErrorCode string

// The error codes.
const (
	// EInvalid: the request breaks the contract or the canonical rules (400).
	EInvalid ErrorCode = "invalid"
	// EUnauthorized: no credential, or one that does not prove who the caller is (401).
	EUnauthorized ErrorCode = "unauthorized"
	// EForbidden: a known caller without the scope the request needs (403).
	EForbidden ErrorCode = "forbidden"
	// ENotFound: what was asked for does not exist (404).
	ENotFound ErrorCode = "not_found"
	// EConflict: the request collides with another one in flight (409).
	EConflict ErrorCode = "conflict"
	// EUndeliverable: valid, but cannot be delivered as asked; nothing was sent (422).
	EUndeliverable ErrorCode = "undeliverable"
	// EUnavailable: a vendor or a dependency failed; asking again may work (502).
	EUnavailable ErrorCode = "unavailable"
	// EInternal: the gateway itself failed (500).
	EInternal ErrorCode = "internal"
)

// Error is a failure with a code, for a caller: Title and Detail are safe to show, Fields
// name what was wrong. Err is the cause, for logs only.
type Error struct {
	Code   ErrorCode
	Title  string
	Detail string
	Fields FieldErrors
	Err    error
}

func (e *Error) Error() string {
	msg := string(e.Code)
	if e.Title != "" {
		msg += ": " + e.Title
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// CodeOf is err's code: a *BadRequest is EInvalid, FieldErrors are EUndeliverable, an
// *Error says its own, and anything else is EInternal.
func CodeOf(err error) ErrorCode {
	var e *Error
	var bad *BadRequest
	var fe FieldErrors
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	case errors.As(err, &bad):
		return EInvalid
	case errors.As(err, &fe):
		return EUndeliverable
	}
	return EInternal
}
