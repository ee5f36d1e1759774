package queue

import (
	"testing"

	"github.com/customergateway/gateway/internal/model"
)

// A customer id that may be an email address is logged with its local part cut to one
// character; any other id as it is.
func TestLoggedCustomerID(t *testing.T) {
	for in, want := range map[string]string{
		"c-42":                 "c-42",
		"minji@example.com":    "m***@example.com",
		"@example.com":         "***@example.com",
		"svc:7@tenant@host":    "s***@tenant@host",
		"customer.id_1:prod-2": "customer.id_1:prod-2",
	} {
		if got := loggedCustomerID(in); got != want {
			t.Errorf("loggedCustomerID(%q) = %q, want %q", in, got, want)
		}
	}
}

// A background attempt that failed counts as queued while the queue keeps trying, as
// failed once it gives up; any other status as it is.
func TestAttemptStatus(t *testing.T) {
	tests := []struct {
		status  model.Status
		expired bool
		want    model.Status
	}{
		{model.StatusFailed, false, model.StatusQueued},
		{model.StatusFailed, true, model.StatusFailed},
		{model.StatusOK, false, model.StatusOK},
		{model.StatusRejected, false, model.StatusRejected},
	}
	for _, tt := range tests {
		if got := attemptStatus(tt.status, tt.expired); got != tt.want {
			t.Errorf("attemptStatus(%s, expired %t) = %s, want %s", tt.status, tt.expired, got, tt.want)
		}
	}
}

// The newest request merged into a delivery names its calls; ids are kept oldest first.
func TestNewestRequestID(t *testing.T) {
	if got := newestRequestID([]string{"r-1", "r-2"}); got != "r-2" {
		t.Errorf("newestRequestID = %q, want r-2", got)
	}
	if got := newestRequestID(nil); got != "" {
		t.Errorf("newestRequestID(nil) = %q", got)
	}
}
