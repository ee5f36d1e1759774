package ladiflow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

// Send makes the call and reads LadiFlow's answer. LadiFlow reports failure two ways: a
// non-2xx HTTP status, or a 2xx whose body code is not 2xx; both become a
// *model.VendorError. Transport failures come back wrapped and are retryable.
func (a *Adapter) Send(ctx context.Context, req *model.Request) ([]byte, error) {
	status, body, err := vendorhttp.Do(ctx, a.client, req)
	if err != nil {
		// The key travels in a header, never in the URL, so this error cannot carry it.
		return nil, fmt.Errorf("ladiflow: %w", err)
	}
	if err := classify(status, body); err != nil {
		return nil, err
	}
	return body, nil
}

// View shows req as a dry run does, with the API key masked.
func (a *Adapter) View(req *model.Request) model.RequestView {
	return vendorhttp.View(req, []string{apiKeyHeader}, nil)
}

// answer is the part of LadiFlow's reply the gateway reads.
type answer struct {
	Code    json.RawMessage `json:"code"`
	Message json.RawMessage `json:"message"`
}

// classify turns an HTTP status and body into nil or a *model.VendorError.
func classify(status int, body []byte) error {
	code, hasCode, msg, isJSON := readAnswer(body)
	if !hasCode {
		code = status
	}
	if msg == "" {
		msg = statusMessage(code, status)
	}
	if !is2xx(status) {
		return &model.VendorError{
			Vendor:    displayName,
			Code:      code,
			Message:   msg,
			Retryable: status >= 500 || status == http.StatusTooManyRequests,
		}
	}
	if !isJSON {
		// A 2xx we cannot read (a proxy's page, a cut answer) proves nothing was stored;
		// sending again is safe because the update is keyed by _id.
		return &model.VendorError{Vendor: displayName, Code: status, Message: "answer is not a JSON object", Retryable: true}
	}
	if is2xx(code) {
		return nil
	}
	return &model.VendorError{Vendor: displayName, Code: code, Message: msg, Retryable: code >= 500 && code <= 599}
}

// readAnswer reads the body's code and message, accepting a code sent as a number or a
// numeric string. hasCode is false when the body has none (absent, null or unreadable):
// a code of 0 is a code, and not a success.
func readAnswer(body []byte) (code int, hasCode bool, msg string, isJSON bool) {
	var a answer
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &a) != nil {
		return 0, false, "", false
	}
	code, hasCode = vendorhttp.Code(a.Code)
	_ = json.Unmarshal(a.Message, &msg) // a message that is not a string is left out
	return code, hasCode, msg, true
}

func statusMessage(code, status int) string {
	if t := http.StatusText(code); t != "" {
		return t
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "no message"
}

func is2xx(code int) bool { return code >= 200 && code <= 299 }
