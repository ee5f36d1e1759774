package engagelab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

// codeServerError is the one EngageLab code worth sending again (DESIGN.md 3.3).
const codeServerError = -1

// codeMessages are the document's error table, in English, for answers that carry a code
// but no message.
var codeMessages = map[int]string{
	40050: "interface authentication failed: check the project id and secret",
	40007: "EUID is empty",
	50031: "invalid project id: check the API key and secret",
	50034: "project does not exist: check the API key and secret",
	50074: "API data source does not exist: check the API key and secret",
	55004: "invalid business parameters",
	55101: "too many user identity values (at most 100)",
	55102: "invalid user attribute names",
	55103: "user attribute values cannot be empty",
	55105: "user identity value longer than 256 characters",
	55106: "user identity name not supported (user_id, anonymous_id or registration_id)",
	55107: "user identity value is empty",
	55108: "invalid EUID",
	-1:    "server internal error",
}

// Send makes the call and reads EngageLab's answer: nil for code 0, a *model.VendorError
// otherwise. Transport failures come back wrapped and are retryable.
func (a *Adapter) Send(ctx context.Context, req *model.Request) ([]byte, error) {
	return a.call(ctx, req)
}

// View shows req as a dry run does, with the Authorization header masked. The body is
// decoded with exact numbers, so a 64-bit euid is shown as sent.
func (a *Adapter) View(req *model.Request) model.RequestView {
	return vendorhttp.View(req, []string{authHeader}, nil)
}

// call sends req and returns the body of a successful answer for the caller to read
// further (Register reads its data).
func (a *Adapter) call(ctx context.Context, req *model.Request) ([]byte, error) {
	status, body, err := vendorhttp.Do(ctx, a.client, req)
	if err != nil {
		// The credentials travel in a header, never in the URL, so this error cannot
		// carry them.
		return nil, fmt.Errorf("engagelab: %w", err)
	}
	if err := classify(status, body); err != nil {
		return nil, err
	}
	return body, nil
}

// answer is the envelope of every EngageLab reply.
type answer struct {
	Code    json.RawMessage `json:"code"`
	Message json.RawMessage `json:"message"`
}

// classify turns an HTTP status and body into nil or a *model.VendorError. A code in the
// body decides, whatever the HTTP status (but a 0 only on a 2xx): only -1 is retryable. Without a readable code,
// 5xx and 429 are retryable and carry the HTTP status as their code; a 2xx without one is
// retryable too, because nothing proves the contact was stored and setting it again is
// harmless.
func classify(status int, body []byte) error {
	code, hasCode, msg := readAnswer(body)
	is2xx := status >= 200 && status <= 299
	if hasCode && (code != 0 || is2xx) {
		if code == 0 {
			// The document's code 0 covers partial success too; it gives no way to tell
			// which contacts were refused, so 0 is success.
			return nil
		}
		return &model.VendorError{Vendor: displayName, Code: code, Message: message(msg, code, status), Retryable: code == codeServerError}
	}
	if is2xx {
		return &model.VendorError{Vendor: displayName, Code: status, Message: "answer carries no code", Retryable: true}
	}
	return &model.VendorError{
		Vendor:    displayName,
		Code:      status,
		Message:   message(msg, 0, status),
		Retryable: status >= 500 || status == http.StatusTooManyRequests,
	}
}

// readAnswer reads the body's code, accepted as a number or a numeric string, and its
// message. hasCode is false when the body is not a JSON object or has no such code.
func readAnswer(body []byte) (code int, hasCode bool, msg string) {
	var a answer
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &a) != nil {
		return 0, false, ""
	}
	_ = json.Unmarshal(a.Message, &msg) // a message that is not a string is left out
	code, hasCode = vendorhttp.Code(a.Code)
	return code, hasCode, msg
}

// message is the vendor's own message, else the document's meaning of the code, else the
// HTTP status text.
func message(msg string, code, status int) string {
	if msg != "" {
		return msg
	}
	if m, ok := codeMessages[code]; ok {
		return m
	}
	if t := http.StatusText(status); t != "" {
		return "HTTP " + strconv.Itoa(status) + " " + t
	}
	return "HTTP " + strconv.Itoa(status)
}
