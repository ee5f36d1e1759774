package engagelab

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/customergateway/gateway/internal/model"
)

// TestRegisterSuccess checks the register call on the wire and the euid read back,
// including one beyond float64's exact range.
func TestRegisterSuccess(t *testing.T) {
	tests := []struct {
		name string
		body string
		want int64
	}{
		{"document shape", `{"code":0,"message":"success","data":[{"identity_value":"c-42","euid":123}]}`, 123},
		{"64-bit euid", `{"code":0,"data":[{"identity_value":"c-42","euid":9007199254740993}]}`, 9007199254740993},
		{"entry for the id among others", `{"code":0,"data":[{"identity_value":"other","euid":5},{"identity_value":"c-42","euid":6}]}`, 6},
		{"entry without identity_value", `{"code":0,"data":[{"euid":77}]}`, 77},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeEngageLab(t, http.StatusOK, tt.body)
			a := newTestAdapter(srv)
			got, err := a.Register(context.Background(), a.Send, "c-42")
			if err != nil {
				t.Fatalf("Register: %v", err)
			}
			if got != tt.want {
				t.Errorf("euid = %d, want %d", got, tt.want)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("EngageLab got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodPost || r.Path != "/v1/user/register" {
				t.Errorf("request line = %s %s, want POST /v1/user/register", r.Method, r.Path)
			}
			if v := r.Header.Get("Authorization"); v != basicAuth(testKey, testSecret) {
				t.Errorf("Authorization = %q", v)
			}
			if v := r.Header.Get("Content-Type"); v != "application/json" {
				t.Errorf("Content-Type = %q", v)
			}
			want := decodeJSON(t, []byte(`{"identity_name":"user_id","identity_values":["c-42"]}`))
			if got := decodeJSON(t, r.Body); !reflect.DeepEqual(got, want) {
				t.Errorf("body = %s", r.Body)
			}
		})
	}
}

// TestRegisterFailures checks that each kind of failed register answer is an error of the
// right kind.
func TestRegisterFailures(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		wantCode  int
		retryable bool
	}{
		{"identity value empty", 200, `{"code":55107,"message":"identity value is empty"}`, 55107, false},
		{"credentials", 200, `{"code":50031}`, 50031, false},
		{"server error", 200, `{"code":-1,"message":"internal"}`, -1, true},
		{"HTTP 502", 502, `bad gateway`, 502, true},
		{"no data", 200, `{"code":0,"message":"success"}`, 0, false},
		{"empty data", 200, `{"code":0,"data":[]}`, 0, false},
		{"entry without euid", 200, `{"code":0,"data":[{"identity_value":"c-42"}]}`, 0, false},
		{"euid 0", 200, `{"code":0,"data":[{"identity_value":"c-42","euid":0}]}`, 0, false},
		{"euid not an integer", 200, `{"code":0,"data":[{"identity_value":"c-42","euid":1.5}]}`, 0, false},
		{"only another id", 200, `{"code":0,"data":[{"identity_value":"other","euid":9}]}`, 0, false},
		{"data not a list", 200, `{"code":0,"data":{"euid":9}}`, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeEngageLab(t, tt.status, tt.body)
			euid, err := registerWith(newTestAdapter(srv), "c-42")
			if euid != 0 {
				t.Errorf("euid = %d, want 0 with an error", euid)
			}
			assertVendorError(t, err, tt.wantCode, tt.retryable)
		})
	}
}

// TestRegisterRefusesBadUserIDs checks that ids EngageLab would refuse are refused before
// anything is sent.
func TestRegisterRefusesBadUserIDs(t *testing.T) {
	for _, id := range []string{"", strings.Repeat("가", 257)} {
		srv := newFakeEngageLab(t, http.StatusOK, `{"code":0,"data":[{"euid":1}]}`)
		_, err := registerWith(newTestAdapter(srv), id)
		if err == nil {
			t.Errorf("Register(%d characters) succeeded", len([]rune(id)))
		}
		var fe model.FieldErrors
		if !errors.As(err, &fe) || len(fe) != 1 || fe[0].Field != "customer_id" || fe[0].Vendor != Name {
			t.Errorf("err = %v, want FieldErrors naming customer_id at EngageLab", err)
		}
		if n := len(srv.Requests()); n != 0 {
			t.Errorf("Register(%d characters) sent %d requests", len([]rune(id)), n)
		}
	}
	srv := newFakeEngageLab(t, http.StatusOK, `{"code":0,"data":[{"euid":1}]}`)
	if _, err := registerWith(newTestAdapter(srv), strings.Repeat("가", 256)); err != nil {
		t.Errorf("Register(256 characters) = %v, want success", err)
	}
}

// registerWith calls a's Register through a's own Send, with no fan-out policies around it.
func registerWith(a *Adapter, userID string) (int64, error) {
	return a.Register(context.Background(), a.Send, userID)
}
