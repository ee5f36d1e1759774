package vendorhttp

import (
	"context"
	"net/http"
	"testing"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors/vendortest"
)

// Every call Do makes carries the request id of its context as X-Request-Id, and a call
// made for no request carries none.
func TestDoSendsTheRequestID(t *testing.T) {
	srv := vendortest.New(t, http.StatusOK, `{}`)
	req := &model.Request{Method: http.MethodPost, URL: srv.URL + "/x", Header: JSONHeader(), Body: []byte(`{}`)}
	if _, _, err := Do(WithRequestID(context.Background(), "req-1"), srv.Client(), req); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Do(WithRequestID(context.Background(), ""), srv.Client(), req); err != nil {
		t.Fatal(err)
	}
	got := srv.Requests()
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	if id := got[0].Header.Get("X-Request-Id"); id != "req-1" {
		t.Errorf("X-Request-Id = %q, want req-1", id)
	}
	if ids := got[1].Header.Values("X-Request-Id"); len(ids) != 0 {
		t.Errorf("a call for no request carries X-Request-Id %q", ids)
	}
	if req.Header.Get("X-Request-Id") != "" {
		t.Error("Do changed the planned request's header")
	}
}
