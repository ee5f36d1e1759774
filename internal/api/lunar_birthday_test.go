package api

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/lunar"
	"github.com/customergateway/gateway/internal/model"
)

// A lunar birthday the contract accepts is accepted by every vendor it is sent to:
// HappyTalk takes it as a lunar date (birth_type "1": lunar months have 30 days in any
// month, so lunar 02-30 is a date), LadiFlow as its solar date or not at all with a
// warning; never a 207 with one vendor refusing what the other took. One the table refuses
// is a 400 before anything is sent.
func TestLunarBirthdaysReachEveryVendor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		date     string
		leap     bool
		wantDOB  string // LadiFlow's dob; "" when it gets none
		htGetsIt bool   // HappyTalk gets birthday and birth_type "1"
	}{
		{"day 30 of a 30-day month", "1990-02-30", false, "1990-03-26", true},
		{"the data sheet's pair", "1956-01-21", false, "1956-03-03", true},
		{"the first day of the table", "1900-01-01", false, "1900-01-31", true},
		{"the last day of the table", "2050-11-29", false, "2051-01-11", true},
		{"a leap month", "2017-05-01", true, "2017-06-24", false},
		{"day 30 of a 30-day leap month", "1906-04-30", true, "1906-06-21", false},
		{"before the table", "1899-12-30", false, "", true},
		{"after the table's last month", "2050-12-30", false, "", true},
		{"years after the table", "2051-01-30", false, "", true},
		{"far outside the table", "0001-01-30", false, "", true},
	}
	g := newTestGateway(t, gatewayOptions{})
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g.sim.ClearReceived()
			body := hostileBody(fmt.Sprintf(`"birthday":%q,"birthday_calendar":"lunar","birthday_leap_month":%v`, tc.date, tc.leap))
			status, _, answer := g.do(http.MethodPut, fmt.Sprintf("/customers/c-lunar-%d", i), body)
			if status != http.StatusOK {
				t.Fatalf("status %d, want 200\n%s", status, answer)
			}
			res := decodeResult(t, answer)
			for v, r := range res.Results {
				if r.Status != model.StatusOK {
					t.Errorf("%s: %s %+v", v, r.Status, r.Error)
				}
			}
			ht := lastBody(t, g.sim, happyTalk)
			if tc.htGetsIt && (ht["birthday"] != tc.date || ht["birth_type"] != "1") {
				t.Errorf("HappyTalk got birthday %v birth_type %v, want %s lunar", ht["birthday"], ht["birth_type"], tc.date)
			}
			if !tc.htGetsIt && (ht["birthday"] != nil || ht["birth_type"] != nil) {
				t.Errorf("HappyTalk got a leap-month birthday %v %v", ht["birthday"], ht["birth_type"])
			}
			lf := lastBody(t, g.sim, ladiFlow)
			if dob, _ := lf["dob"].(string); dob != tc.wantDOB {
				t.Errorf("LadiFlow dob = %q, want %q", dob, tc.wantDOB)
			}
		})
	}
}

// Every lunar month of the table, on its last day (29 or 30), ordinary and leap, reaches
// both vendors that take a birthday: the adapter and the simulator agree on the whole table.
func TestEveryLunarMonthEndIsDelivered(t *testing.T) {
	t.Parallel()
	var sent atomic.Int64
	// Four spans of the table in parallel, each through a gateway of its own: one update
	// at a time waits on its round trips more than it computes.
	t.Run("spans", func(t *testing.T) {
		for first := 1900; first <= 2050; first += 38 {
			last := min(first+37, 2050)
			t.Run(fmt.Sprintf("%d-%d", first, last), func(t *testing.T) {
				t.Parallel()
				sent.Add(int64(lunarMonthEndsDelivered(t, first, last)))
			})
		}
	})
	if n := sent.Load(); n < 1860 {
		t.Errorf("only %d lunar months sent", n)
	}
}

// lunarMonthEndsDelivered sends the last day of every lunar month of the years first to
// last, ordinary and leap, and checks that each reaches LadiFlow as its solar date; it
// answers how many it sent.
func lunarMonthEndsDelivered(t *testing.T, first, last int) int {
	g := newTestGateway(t, gatewayOptions{})
	n := 0
	for year := first; year <= last; year++ {
		for month := 1; month <= 12; month++ {
			for _, leap := range []bool{false, true} {
				day := 30
				if _, err := lunar.ToSolar(year, month, 30, leap); err != nil {
					day = 29
				}
				solar, err := lunar.ToSolar(year, month, day, leap)
				if err != nil {
					continue // no such month (most months have no leap twin)
				}
				// The leap flag keeps HappyTalk out; LadiFlow gets the solar date.
				body := fmt.Sprintf(`{"email":"a@example.com","birthday":"%04d-%02d-%02d","birthday_calendar":"lunar","birthday_leap_month":%v,`+
					`"vendor_refs":{"happytalk":{"uuid":"u","room_id":"r"},"ladiflow":{"id":"lf"}},"vendors":["happytalk","ladiflow"]}`,
					year, month, day, leap)
				status, _, answer := g.do(http.MethodPut, "/customers/c-1", body)
				if status != http.StatusOK {
					t.Fatalf("lunar %04d-%02d-%02d leap=%v: status %d\n%s", year, month, day, leap, status, answer)
				}
				if dob, _ := lastBody(t, g.sim, ladiFlow)["dob"].(string); dob != solar.Format(time.DateOnly) {
					t.Fatalf("lunar %04d-%02d-%02d leap=%v: LadiFlow dob %q, want %s", year, month, day, leap, dob, solar.Format(time.DateOnly))
				}
				n++
			}
		}
		g.sim.ClearReceived()
	}
	return n
}

// A lunar date the table shows does not exist is refused before anything is sent.
func TestLunarDateThatDoesNotExistIsRefused(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	for _, tc := range []struct {
		date string
		leap bool
	}{
		{"1900-01-30", false}, // a 29-day month
		{"2017-06-01", true},  // 2017 has no leap sixth month
		{"2017-05-30", true},  // the leap fifth month of 2017 has 29 days
		{"1990-13-01", false},
		{"1990-01-31", false},
	} {
		body := hostileBody(fmt.Sprintf(`"birthday":%q,"birthday_calendar":"lunar","birthday_leap_month":%v`, tc.date, tc.leap))
		status, _, answer := g.do(http.MethodPut, "/customers/c-1", body)
		t.Run(tc.date, func(t *testing.T) { assertHostileRefused(t, g, status, answer, false, "birthday") })
	}
}
