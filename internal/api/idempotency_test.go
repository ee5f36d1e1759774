package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/customergateway/gateway/internal/store"
)

// A handler that panics keeps nothing under the key: the retry runs the handler again.
func TestIdempotencyReleasesOnPanic(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), templates.SQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	calls := 0
	h := recoverer(idempotent(st, noCaller)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			panic("boom")
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"ok":true}`))
	})))
	for i, want := range []int{http.StatusInternalServerError, http.StatusOK} {
		req := httptest.NewRequest(http.MethodPut, "/customers/c-1", strings.NewReader(`{}`))
		req.Header.Set("Idempotency-Key", "k-p")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Fatalf("request %d: %d, want %d", i, rec.Code, want)
		}
	}
	if calls != 2 {
		t.Fatalf("handler ran %d times, want 2", calls)
	}
}
