package happytalk

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

// answer is the envelope of both HappyTalk calls: {"result":"success"} or
// {"result":"fail","code":N,"message":"..."}; service_history adds data.
type answer struct {
	Result  string          `json:"result"`
	Code    looseInt        `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// looseInt reads a code HappyTalk documents as a number but may quote; a code that is no
// number at all reads as 0 rather than losing the message that comes with it.
type looseInt int

func (n *looseInt) UnmarshalJSON(b []byte) error {
	v, err := strconv.Atoi(string(bytes.Trim(b, `"`)))
	if err == nil {
		*n = looseInt(v)
	}
	return nil
}

// Send posts a planned set_user_info call and reads HappyTalk's answer. A fail answer is a
// rejection; 5xx, 429 and a 2xx answer that cannot be read are retryable, since the call
// sets values and sending it twice does no harm.
func (a *Adapter) Send(ctx context.Context, req *model.Request) ([]byte, error) {
	status, body, err := vendorhttp.Do(ctx, a.client, req)
	if err != nil {
		return nil, fmt.Errorf("HappyTalk set_user_info: %w", err)
	}
	if _, err = a.readAnswer(status, body); err != nil {
		return nil, err
	}
	return body, nil
}

// readAnswer classifies HappyTalk's answer; nil error means result "success".
func (a *Adapter) readAnswer(status int, body []byte) (*answer, error) {
	var ans answer
	decodeErr := json.Unmarshal(body, &ans)
	if status < 200 || status > 299 {
		return nil, a.httpError(status, &ans, decodeErr == nil)
	}
	if decodeErr != nil {
		return nil, &model.VendorError{Vendor: displayName, Code: status, Message: "answer is not JSON", Retryable: true}
	}
	switch ans.Result {
	case "success":
		return &ans, nil
	case "fail":
		return nil, &model.VendorError{Vendor: displayName, Code: int(ans.Code), Message: a.redact(ans.Message)}
	}
	return nil, &model.VendorError{
		Vendor:    displayName,
		Code:      status,
		Message:   fmt.Sprintf("answer has no known result (%q)", a.redact(ans.Result)),
		Retryable: true,
	}
}

// httpError is a non-2xx answer, with HappyTalk's own code and message when it sent one.
func (a *Adapter) httpError(status int, ans *answer, readable bool) *model.VendorError {
	msg := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
	if readable && ans.Result == "fail" {
		msg += fmt.Sprintf(" (HappyTalk code %d: %s)", ans.Code, a.redact(ans.Message))
	}
	return &model.VendorError{
		Vendor:    displayName,
		Code:      status,
		Message:   msg,
		Retryable: status >= 500 || status == http.StatusTooManyRequests,
	}
}
