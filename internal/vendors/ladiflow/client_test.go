package ladiflow

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

func planFor(t *testing.T, a *Adapter) *model.Request {
	t.Helper()
	p, err := a.Plan(prepare(t, "c-42", model.CustomerUpdate{
		Email:      ptr("a@example.com"),
		VendorRefs: model.VendorRefs{"ladiflow": {"id": model.StringRef("653a3ca502e8ab00122c39c3")}},
	}))
	if err != nil || p.Request == nil {
		t.Fatalf("Plan: %v %+v", err, p)
	}
	return p.Request
}

func TestSendClassifiesAnswers(t *testing.T) {
	docSuccess := string(readTestdata(t, "customer_update.response.json"))
	tests := []struct {
		name   string
		status int
		body   string
		want   *model.VendorError // nil: success
	}{
		{name: "the document's success answer (code 201)", status: http.StatusOK, body: docSuccess},
		{name: "201 with code 201", status: http.StatusCreated, body: `{"data":{},"message":"Thành công","code":201}`},
		{name: "200 with code 200", status: http.StatusOK, body: `{"data":{},"message":"OK","code":200}`},
		{name: "code as a numeric string", status: http.StatusOK, body: `{"message":"OK","code":"200"}`},
		{name: "2xx JSON with no code: the HTTP status decides", status: http.StatusOK, body: `{"data":{}}`},
		{name: "2xx JSON with a null code: the HTTP status decides", status: http.StatusOK, body: `{"code":null}`},
		{
			name: "2xx with body code 0 is not a success", status: http.StatusOK, body: `{"message":"?","code":0}`,
			want: &model.VendorError{Code: 0, Message: "?"},
		},
		{
			name: "2xx with a 4xx body code is a rejection", status: http.StatusOK,
			body: `{"message":"Bắt buộc email hoặc số điện thoại","code":400}`,
			want: &model.VendorError{Code: 400, Message: "Bắt buộc email hoặc số điện thoại"},
		},
		{
			name: "2xx with a 5xx body code is retryable", status: http.StatusOK,
			body: `{"message":"Lỗi hệ thống","code":500}`,
			want: &model.VendorError{Code: 500, Message: "Lỗi hệ thống", Retryable: true},
		},
		{
			name: "2xx with a body code and no message", status: http.StatusOK, body: `{"code":404}`,
			want: &model.VendorError{Code: 404, Message: "Not Found"},
		},
		{
			name: "2xx that is not JSON is retryable", status: http.StatusOK, body: `<html>gateway</html>`,
			want: &model.VendorError{Code: 200, Message: "answer is not a JSON object", Retryable: true},
		},
		{
			name: "2xx with an empty body is retryable", status: http.StatusOK, body: ``,
			want: &model.VendorError{Code: 200, Message: "answer is not a JSON object", Retryable: true},
		},
		{
			name: "2xx with JSON null is retryable", status: http.StatusOK, body: `null`,
			want: &model.VendorError{Code: 200, Message: "answer is not a JSON object", Retryable: true},
		},
		{
			name: "400 with the vendor's code and message", status: http.StatusBadRequest,
			body: `{"message":"_id không hợp lệ","code":4001}`,
			want: &model.VendorError{Code: 4001, Message: "_id không hợp lệ"},
		},
		{
			name: "401 without a body: the HTTP status", status: http.StatusUnauthorized, body: ``,
			want: &model.VendorError{Code: 401, Message: "Unauthorized"},
		},
		{
			name: "403 with HTML", status: http.StatusForbidden, body: `<html>denied</html>`,
			want: &model.VendorError{Code: 403, Message: "Forbidden"},
		},
		{
			name: "429 is retryable", status: http.StatusTooManyRequests, body: `{"message":"Too many requests","code":429}`,
			want: &model.VendorError{Code: 429, Message: "Too many requests", Retryable: true},
		},
		{
			name: "503 with a body code", status: http.StatusServiceUnavailable, body: `{"message":"Bảo trì","code":503}`,
			want: &model.VendorError{Code: 503, Message: "Bảo trì", Retryable: true},
		},
		{
			name: "502 with no body", status: http.StatusBadGateway, body: ``,
			want: &model.VendorError{Code: 502, Message: "Bad Gateway", Retryable: true},
		},
		{
			name: "500 with a 2xx body code is still a failure", status: http.StatusInternalServerError, body: `{"code":200}`,
			want: &model.VendorError{Code: 200, Message: "OK", Retryable: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeLadiFlow(t, tt.status, tt.body)
			a := New(Config{BaseURL: srv.URL, APIKey: testKey}, srv.Client())
			req := planFor(t, a)
			_, err := a.Send(context.Background(), req)
			if n := len(srv.Requests()); n != 1 {
				t.Fatalf("LadiFlow got %d requests, want 1", n)
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Send = %v, want success", err)
				}
				return
			}
			var ve *model.VendorError
			if !errors.As(err, &ve) {
				t.Fatalf("Send = %v (%T), want *model.VendorError", err, err)
			}
			tt.want.Vendor = displayName
			if *ve != *tt.want {
				t.Errorf("Send = %+v, want %+v", *ve, *tt.want)
			}
			if model.IsRetryable(err) != tt.want.Retryable {
				t.Errorf("IsRetryable = %v", model.IsRetryable(err))
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("the API key is in the error: %v", err)
			}
		})
	}
}

func TestSendTransportErrors(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	slow := newFakeLadiFlow(t, http.StatusOK, `{"code":201}`)

	tests := []struct {
		name      string
		base      string
		ctx       func() context.Context
		retryable bool
		is        error
	}{
		{name: "connection refused", base: closedURL, ctx: context.Background, retryable: true},
		{
			name: "cancelled by the caller", base: slow.URL, retryable: false, is: context.Canceled,
			ctx: func() context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(Config{BaseURL: tt.base, APIKey: testKey}, vendorhttp.NewClient())
			_, err := a.Send(tt.ctx(), planFor(t, a))
			if err == nil {
				t.Fatal("Send succeeded")
			}
			var ve *model.VendorError
			if errors.As(err, &ve) {
				t.Fatalf("Send = %v: a transport failure is not the vendor's answer", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Send = %v, want it to wrap %v", err, tt.is)
			}
			if model.IsRetryable(err) != tt.retryable {
				t.Errorf("IsRetryable(%v) = %v, want %v", err, model.IsRetryable(err), tt.retryable)
			}
			if !strings.HasPrefix(err.Error(), "ladiflow: ") || strings.Contains(err.Error(), testKey) {
				t.Errorf("error = %q: want it to name ladiflow and not carry the key", err)
			}
		})
	}
}

func TestView(t *testing.T) {
	a := New(Config{BaseURL: "https://api.service.ladiflow.com/", APIKey: testKey}, nil)
	v := a.View(planFor(t, a))
	if v.Method != http.MethodPost || v.URL != "https://api.service.ladiflow.com/1.0/customer/update" {
		t.Errorf("view = %s %s", v.Method, v.URL)
	}
	if v.Headers["Api-Key"] != "***" || v.Headers["Content-Type"] != "application/json" {
		t.Errorf("headers = %v, want Api-Key masked and Content-Type shown", v.Headers)
	}
	body, ok := v.Body.(map[string]any)
	if !ok || body["_id"] != "653a3ca502e8ab00122c39c3" || body["email"] != "a@example.com" {
		t.Errorf("body = %#v", v.Body)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), testKey) {
		t.Errorf("the API key is in the view: %s", out)
	}
}
