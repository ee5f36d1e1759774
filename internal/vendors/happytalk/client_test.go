package happytalk

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/customergateway/gateway/internal/model"
)

func TestSendClassifiesAnswers(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		// want is nil for success.
		want *model.VendorError
	}{
		{name: "success", status: 200, body: `{"result":"success"}`},
		{name: "success with extra fields", status: 200, body: `{"result":"success","code":0,"message":""}`},
		{
			name: "fail is a rejection with HappyTalk's code", status: 200,
			body: `{"result":"fail","code":1004,"message":"존재하지 않는 상담방입니다"}`,
			want: &model.VendorError{Vendor: displayName, Code: 1004, Message: "존재하지 않는 상담방입니다"},
		},
		{
			name: "fail with a quoted code", status: 200,
			body: `{"result":"fail","code":"2001","message":"invalid token"}`,
			want: &model.VendorError{Vendor: displayName, Code: 2001, Message: "invalid token"},
		},
		{
			name: "fail echoing the token never carries it", status: 200,
			body: `{"result":"fail","code":2001,"message":"invalid token 고객사 토큰"}`,
			want: &model.VendorError{Vendor: displayName, Code: 2001, Message: "invalid token ***"},
		},
		{
			name: "500 is retryable", status: 500, body: `oops`,
			want: &model.VendorError{Vendor: displayName, Code: 500, Message: "HTTP 500 Internal Server Error", Retryable: true},
		},
		{
			name: "503 with a fail body keeps HappyTalk's words", status: 503,
			body: `{"result":"fail","code":9,"message":"maintenance"}`,
			want: &model.VendorError{Vendor: displayName, Code: 503, Message: "HTTP 503 Service Unavailable (HappyTalk code 9: maintenance)", Retryable: true},
		},
		{
			name: "429 is retryable", status: 429, body: ``,
			want: &model.VendorError{Vendor: displayName, Code: 429, Message: "HTTP 429 Too Many Requests", Retryable: true},
		},
		{
			name: "404 is a rejection", status: 404, body: `<html>not found</html>`,
			want: &model.VendorError{Vendor: displayName, Code: 404, Message: "HTTP 404 Not Found"},
		},
		{
			name: "401 is a rejection", status: 401, body: `{"result":"fail","code":1,"message":"bad token"}`,
			want: &model.VendorError{Vendor: displayName, Code: 401, Message: "HTTP 401 Unauthorized (HappyTalk code 1: bad token)"},
		},
		{
			name: "2xx that is not JSON is retryable", status: 200, body: `<html>gateway</html>`,
			want: &model.VendorError{Vendor: displayName, Code: 200, Message: "answer is not JSON", Retryable: true},
		},
		{
			name: "2xx with an unknown result is retryable", status: 200, body: `{"result":"pending"}`,
			want: &model.VendorError{Vendor: displayName, Code: 200, Message: `answer has no known result ("pending")`, Retryable: true},
		},
		{
			name: "2xx with no result is retryable", status: 200, body: `{}`,
			want: &model.VendorError{Vendor: displayName, Code: 200, Message: `answer has no known result ("")`, Retryable: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t, tt.status, tt.body)
			a := newTestAdapter(testConfig(fake.URL))
			plan, err := a.Plan(prepare(t, model.CustomerUpdate{Email: ptr("a@example.com"), VendorRefs: refs()}))
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.Send(context.Background(), plan.Request)

			got := fake.Requests()
			if len(got) != 1 {
				t.Fatalf("HappyTalk received %d requests, want 1", len(got))
			}
			r := got[0]
			if r.Method != http.MethodPost || r.Path != setUserInfoPath || r.Header.Get("Content-Type") != "application/json" || !bytes.Equal(r.Body, plan.Request.Body) {
				t.Errorf("HappyTalk received %s %s (%s) %s", r.Method, r.Path, r.Header.Get("Content-Type"), r.Body)
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Send = %v, want nil", err)
				}
				return
			}
			var ve *model.VendorError
			if !errors.As(err, &ve) {
				t.Fatalf("Send = %v, want a *model.VendorError", err)
			}
			if *ve != *tt.want {
				t.Errorf("Send = %#v\nwant %#v", *ve, *tt.want)
			}
			if model.IsRetryable(err) != tt.want.Retryable {
				t.Errorf("IsRetryable = %v", model.IsRetryable(err))
			}
			if strings.Contains(err.Error(), docToken) {
				t.Errorf("error carries the token: %v", err)
			}
		})
	}
}

func TestSendTransportErrorIsRetryable(t *testing.T) {
	fake := newFake(t, 200, `{"result":"success"}`)
	a := newTestAdapter(testConfig(fake.URL))
	plan, err := a.Plan(prepare(t, model.CustomerUpdate{Email: ptr("a@example.com"), VendorRefs: refs()}))
	if err != nil {
		t.Fatal(err)
	}
	fake.Close()
	_, err = a.Send(context.Background(), plan.Request)
	var ve *model.VendorError
	if err == nil || errors.As(err, &ve) || !model.IsRetryable(err) {
		t.Fatalf("Send = %v, want a retryable transport error", err)
	}
	if strings.Contains(err.Error(), docToken) {
		t.Errorf("error carries the token: %v", err)
	}
}

func TestViewMasksToken(t *testing.T) {
	a := newTestAdapter(testConfig("https://customer.happytalk.io"))
	plan, err := a.Plan(prepare(t, model.CustomerUpdate{Email: ptr("a@example.com"), VendorRefs: refs()}))
	if err != nil {
		t.Fatal(err)
	}
	v := a.View(plan.Request)
	body, ok := v.Body.(map[string]any)
	if !ok {
		t.Fatalf("body = %#v", v.Body)
	}
	if body["token"] != "***" || body["email"] != "a@example.com" || body["uuid"] != "1000225100_sazob20220921062938" {
		t.Errorf("view body = %v", body)
	}
	if v.Method != http.MethodPost || v.URL != "https://customer.happytalk.io/user/api/set_user_info/format/json" || v.Headers["Content-Type"] != "application/json" {
		t.Errorf("view = %+v", v)
	}
	if !bytes.Contains(plan.Request.Body, []byte(docToken)) {
		t.Error("View changed the request it shows")
	}
}
