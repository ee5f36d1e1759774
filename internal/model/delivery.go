package model

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Status is what happened at one vendor.
type Status string

// The per-vendor statuses of DESIGN.md 2.2.
const (
	StatusOK       Status = "ok"
	StatusSkipped  Status = "skipped"
	StatusRejected Status = "rejected"
	StatusFailed   Status = "failed"
	StatusQueued   Status = "queued"
	// StatusCancelled is a queued delivery an operator gave up (DELETE /deliveries/{id}).
	StatusCancelled Status = "cancelled"
	// StatusDryRun is a vendor a dry run would have sent to.
	StatusDryRun Status = "dry_run"
)

// Outcome sums up an update across vendors; it decides the HTTP status.
type Outcome string

// The outcomes and the HTTP status each one answers with.
const (
	OutcomeOK      Outcome = "ok"      // 200
	OutcomeQueued  Outcome = "queued"  // 202
	OutcomePartial Outcome = "partial" // 207
	OutcomeFailed  Outcome = "failed"  // 502
	OutcomeDryRun  Outcome = "dry_run" // 200
	// OutcomeUndeliverable is an update refused with 422, as GET /updates/{id} shows it:
	// nothing was sent.
	OutcomeUndeliverable Outcome = "undeliverable"
)

// HTTPStatus is the status code an outcome answers with.
func (o Outcome) HTTPStatus() int {
	switch o {
	case OutcomeQueued:
		return http.StatusAccepted
	case OutcomePartial:
		return http.StatusMultiStatus
	case OutcomeFailed:
		return http.StatusBadGateway
	}
	return http.StatusOK
}

// SkipKind says why a vendor has nothing to do.
type SkipKind int

// The reasons a plan can skip a vendor.
const (
	// NotSkipped: the plan carries a request.
	NotSkipped SkipKind = iota
	// SkipNoKeys: the gateway knows none of the vendor's keys for this customer, or the
	// vendor is not configured. A vendor named in "vendors" with this skip is a 422.
	SkipNoKeys
	// SkipNothingToSend: no field of the update concerns this vendor.
	SkipNothingToSend
)

// Request is one vendor call, built before anything is sent so that a dry run can show it
// and a 422 can be decided with nothing on the wire.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// RequestView is a request as a dry run shows it: credentials replaced by "***".
type RequestView struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    any               `json:"body"`
}

// Plan is an adapter's translation of one update: a request to send, or why there is none,
// and the warnings for fields the vendor cannot hold.
type Plan struct {
	Vendor   Vendor
	Skip     SkipKind
	Reason   string
	Request  *Request
	Warnings []string
}

// VendorError is a vendor's own answer that was not a success.
type VendorError struct {
	// Vendor is the vendor's own spelling of its name, for messages.
	Vendor string `json:"-"`
	// Code is the vendor's own answer code (a body code, else the HTTP status).
	Code    int    `json:"vendor_code"`
	Message string `json:"message"`
	// Retryable is true for answers that may succeed if sent again (5xx, a vendor's own
	// server-error code).
	Retryable bool `json:"-"`
}

func (e *VendorError) Error() string {
	return fmt.Sprintf("%s answered %d: %s", e.Vendor, e.Code, e.Message)
}

// IsRetryable reports whether err is worth sending again: transport failures, timeouts and
// vendor answers marked retryable. A rejection never is.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var ve *VendorError
	if errors.As(err, &ve) {
		return ve.Retryable
	}
	return !errors.Is(err, context.Canceled)
}

// VendorResult is one vendor's line in the answer.
type VendorResult struct {
	Status     Status   `json:"status"`
	Attempts   int      `json:"attempts,omitempty"`
	DurationMS *int64   `json:"duration_ms,omitempty"`
	Warnings   []string `json:"warnings"`
	Reason     string   `json:"reason,omitempty"`
	// QueuedUntil is, for a queued delivery, when the gateway stops trying.
	QueuedUntil *time.Time `json:"queued_until,omitempty"`
	// DeliveredAt is when the vendor accepted the update.
	DeliveredAt *time.Time   `json:"delivered_at,omitempty"`
	Error       *VendorError `json:"error,omitempty"`
	Request     *RequestView `json:"request,omitempty"`
}

// UpdateResult is the answer to a customer update.
type UpdateResult struct {
	// UpdateID names the update for GET /updates/{update_id}; a dry run has none.
	UpdateID   string                  `json:"update_id,omitempty"`
	CustomerID string                  `json:"customer_id"`
	Outcome    Outcome                 `json:"outcome"`
	Results    map[Vendor]VendorResult `json:"results"`
}

// Summarize decides the outcome from the vendors' statuses, as DESIGN.md 2.2's table says.
func Summarize(results map[Vendor]VendorResult) Outcome {
	var ok, bad, queued int
	for _, r := range results {
		switch r.Status {
		case StatusOK:
			ok++
		case StatusRejected, StatusFailed, StatusCancelled:
			bad++
		case StatusQueued:
			queued++
		case StatusDryRun:
			return OutcomeDryRun
		}
	}
	switch {
	case queued > 0 && bad == 0:
		return OutcomeQueued
	case ok > 0 && bad > 0, queued > 0 && bad > 0:
		return OutcomePartial
	case bad > 0:
		return OutcomeFailed
	}
	return OutcomeOK
}

// Why is what went wrong, in the words the answer to a request uses: the reason and the
// vendor's error, each once.
func (r VendorResult) Why() string {
	var parts []string
	if r.Reason != "" {
		parts = append(parts, r.Reason)
	}
	if r.Error != nil {
		parts = append(parts, r.Error.Error())
	}
	return strings.Join(slices.Compact(parts), ": ")
}
