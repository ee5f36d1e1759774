package model

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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

// Adapter speaks one vendor's API: it translates a canonical update into the vendor's
// request and reads the vendor's answer. Retries, timeouts and breaking live outside it.
type Adapter interface {
	Vendor() Vendor
	// Enabled reports whether the vendor's credentials are configured.
	Enabled() bool
	// Plan translates u. FieldErrors (each naming this vendor) mean the update would be
	// cut or refused by the vendor: 422, nothing sent anywhere.
	Plan(u *Update) (Plan, error)
	// Send makes the call. nil is success; a *VendorError says the vendor refused or
	// failed; any other error is a transport failure and is retryable.
	Send(ctx context.Context, req *Request) error
	// View shows req as a dry run does, with every credential masked.
	View(req *Request) RequestView
}

// VendorError is a vendor's own answer that was not a success.
type VendorError struct {
	Vendor Vendor `json:"-"`
	// Code is the vendor's code (HappyTalk code, LadiFlow body code or HTTP status,
	// EngageLab code).
	Code    int    `json:"vendor_code"`
	Message string `json:"message"`
	// Retryable is true for answers that may succeed if sent again (5xx, EngageLab -1).
	Retryable bool `json:"-"`
}

func (e *VendorError) Error() string {
	return fmt.Sprintf("%s answered %d: %s", e.Vendor.DisplayName(), e.Code, e.Message)
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
	QueuedUntil *time.Time   `json:"queued_until,omitempty"`
	Error       *VendorError `json:"error,omitempty"`
	Request     *RequestView `json:"request,omitempty"`
}

// UpdateResult is the answer to a customer update.
type UpdateResult struct {
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
		case StatusRejected, StatusFailed:
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
