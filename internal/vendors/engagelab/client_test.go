package engagelab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/customergateway/gateway/internal/model"
)

// planned is a request Send can be given, built by the adapter itself.
func planned(t *testing.T, a *Adapter) *model.Request {
	t.Helper()
	p, err := a.Plan(prepare(t, "c-1", model.CustomerUpdate{Email: ptr("a@example.com"), VendorRefs: refs(42)}))
	if err != nil || p.Request == nil {
		t.Fatalf("Plan = %+v, %v", p, err)
	}
	return p.Request
}

// TestSendDocumentCodes classifies every code of the document's error table: only -1,
// the server's own error, is worth sending again.
func TestSendDocumentCodes(t *testing.T) {
	tests := []struct {
		code      int
		retryable bool
	}{
		{40050, false}, // authentication failed
		{40007, false}, // EUID empty
		{50031, false}, // invalid project id
		{50034, false}, // project does not exist
		{50074, false}, // API data source does not exist
		{55004, false}, // invalid business parameters
		{55101, false}, // too many identity values
		{55102, false}, // invalid attribute names
		{55103, false}, // empty attribute values
		{55105, false}, // identity value too long
		{55106, false}, // identity name not supported
		{55107, false}, // identity value empty
		{55108, false}, // invalid EUID
		{-1, true},     // server internal error
		{12345, false}, // a code the document does not list
	}
	for _, tt := range tests {
		for _, withMessage := range []bool{true, false} {
			t.Run(fmt.Sprintf("%d/message=%t", tt.code, withMessage), func(t *testing.T) {
				body := fmt.Sprintf(`{"code":%d}`, tt.code)
				wantMsg := codeMessages[tt.code]
				if withMessage {
					body = fmt.Sprintf(`{"code":%d,"message":"vendor says %d"}`, tt.code, tt.code)
					wantMsg = fmt.Sprintf("vendor says %d", tt.code)
				}
				if wantMsg == "" {
					wantMsg = "HTTP 200 OK"
				}
				srv := newFakeEngageLab(t, http.StatusOK, body)
				a := newTestAdapter(srv)
				_, err := a.Send(context.Background(), planned(t, a))
				assertVendorError(t, err, tt.code, tt.retryable)
				if ve := (*model.VendorError)(nil); errors.As(err, &ve) && ve.Message != wantMsg {
					t.Errorf("Message = %q, want %q", ve.Message, wantMsg)
				}
			})
		}
	}
}

// TestSendAnswers classifies answers by HTTP status and body shape.
func TestSendAnswers(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		wantOK    bool
		wantCode  int
		retryable bool
	}{
		{name: "document success", status: 200, body: `{"code": 0, "message": "success"}`, wantOK: true},
		{name: "code as a string", status: 200, body: `{"code":"0","message":"success"}`, wantOK: true},
		{name: "non-zero code as a string", status: 200, body: `{"code":"55004","message":"bad"}`, wantCode: 55004},
		{name: "garbage 2xx body", status: 200, body: `<html>gateway</html>`, wantCode: 200, retryable: true},
		{name: "empty 2xx body", status: 200, body: ``, wantCode: 200, retryable: true},
		{name: "2xx JSON without code", status: 200, body: `{"message":"success"}`, wantCode: 200, retryable: true},
		{name: "500 without body", status: 500, body: ``, wantCode: 500, retryable: true},
		{name: "503 HTML page", status: 503, body: `<html>down</html>`, wantCode: 503, retryable: true},
		{name: "429 without code", status: 429, body: `{}`, wantCode: 429, retryable: true},
		{name: "400 without code", status: 400, body: `bad request`, wantCode: 400},
		{name: "404 without code", status: 404, body: ``, wantCode: 404},
		{name: "401 with credentials code", status: 401, body: `{"code":40050,"message":"auth failed"}`, wantCode: 40050},
		{name: "500 with a null code", status: 500, body: `{"code":null}`, wantCode: 500, retryable: true},
		{name: "500 with code 0 is no success", status: 500, body: `{"code":0,"message":"success"}`, wantCode: 500, retryable: true},
		{name: "500 with code -1", status: 500, body: `{"code":-1,"message":"internal"}`, wantCode: -1, retryable: true},
		{name: "500 with a bad-input code", status: 500, body: `{"code":55108,"message":"invalid euid"}`, wantCode: 55108},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeEngageLab(t, tt.status, tt.body)
			a := newTestAdapter(srv)
			_, err := a.Send(context.Background(), planned(t, a))
			if tt.wantOK {
				if err != nil {
					t.Fatalf("Send = %v, want success", err)
				}
				return
			}
			assertVendorError(t, err, tt.wantCode, tt.retryable)
		})
	}
}

func assertVendorError(t *testing.T, err error, code int, retryable bool) {
	t.Helper()
	var ve *model.VendorError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v (%T), want *model.VendorError", err, err)
	}
	if ve.Vendor != displayName || ve.Code != code || ve.Retryable != retryable {
		t.Errorf("VendorError = {Vendor:%s Code:%d Retryable:%t}, want {engagelab %d %t}", ve.Vendor, ve.Code, ve.Retryable, code, retryable)
	}
	if model.IsRetryable(err) != retryable {
		t.Errorf("model.IsRetryable = %t, want %t", model.IsRetryable(err), retryable)
	}
}

// TestSendTransportError checks that a vendor that cannot be reached is a wrapped,
// retryable error and not a vendor answer.
func TestSendTransportError(t *testing.T) {
	srv := newFakeEngageLab(t, http.StatusOK, `{"code":0}`)
	a := newTestAdapter(srv)
	req := planned(t, a)
	srv.Close()
	_, err := a.Send(context.Background(), req)
	if err == nil {
		t.Fatal("Send to a closed server succeeded")
	}
	var ve *model.VendorError
	if errors.As(err, &ve) {
		t.Fatalf("err = %v, want a transport error, not a vendor answer", err)
	}
	if !strings.HasPrefix(err.Error(), "engagelab: ") || errors.Unwrap(err) == nil {
		t.Errorf("err = %q, want it wrapped under engagelab", err)
	}
	if !model.IsRetryable(err) {
		t.Error("a transport error must be retryable")
	}
}

// TestErrorsNeverCarryCredentials provokes every kind of error Send and Register return
// and checks that none of them shows the key, the secret or the Authorization value.
func TestErrorsNeverCarryCredentials(t *testing.T) {
	answers := []struct {
		status int
		body   string
	}{
		{200, `{"code":40050,"message":"auth failed"}`},
		{200, `{"code":-1}`},
		{200, `not json`},
		{401, ``},
		{500, ``},
		{200, `{"code":0,"data":[]}`},
		{0, ``}, // 0: the server is closed, a transport error
	}
	for _, ans := range answers {
		srv := newFakeEngageLab(t, max(ans.status, 200), ans.body)
		a := newTestAdapter(srv)
		req := planned(t, a)
		if ans.status == 0 {
			srv.Close()
		}
		_, regErr := a.Register(context.Background(), a.Send, "user-1")
		for _, err := range []error{sendErr(a.Send(context.Background(), req)), regErr} {
			if err == nil {
				continue
			}
			for _, secret := range credentialForms(testKey, testSecret) {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("answer %d %q: error %q shows a credential", ans.status, ans.body, err)
				}
			}
		}
	}
}
