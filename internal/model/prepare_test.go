package model

import (
	"errors"
	"fmt"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestParsePhone(t *testing.T) {
	tests := []struct {
		raw, region                   string
		wantE164, wantNational, wantR string
	}{
		{"+821012345678", "KR", "+821012345678", "01012345678", "KR"},
		{"010-1234-5678", "KR", "+821012345678", "01012345678", "KR"},
		{"01012345678", "KR", "+821012345678", "01012345678", "KR"},
		{"+84 912 345 678", "KR", "+84912345678", "0912345678", "VN"},
		{"0912345678", "VN", "+84912345678", "0912345678", "VN"},
		{"+18023456879", "KR", "+18023456879", "8023456879", "US"},
	}
	for _, tc := range tests {
		p, err := ParsePhone(tc.raw, tc.region)
		if err != nil {
			t.Fatalf("ParsePhone(%q, %s): %v", tc.raw, tc.region, err)
		}
		if p.E164 != tc.wantE164 || p.National != tc.wantNational || p.Region != tc.wantR {
			t.Errorf("ParsePhone(%q, %s) = %+v", tc.raw, tc.region, p)
		}
	}
	if got := (Phone{E164: "+18023456879"}).MSISDN(); got != "18023456879" {
		t.Errorf("MSISDN = %s", got)
	}
	for _, bad := range []string{"12", "not a phone", "+82 10", "010-1234"} {
		if _, err := ParsePhone(bad, "KR"); err == nil {
			t.Errorf("ParsePhone(%q) accepted", bad)
		}
	}
}

func TestPrepareBirthdays(t *testing.T) {
	tests := []struct {
		name     string
		f        CustomerUpdate
		want     *Birthday
		badField string
	}{
		{"solar by default", CustomerUpdate{Birthday: ptr("1990-02-28")}, &Birthday{Date: Date{1990, 2, 28}, Calendar: CalendarSolar}, ""},
		{"solar date that does not exist", CustomerUpdate{Birthday: ptr("1990-02-30")}, nil, "birthday"},
		{"lunar 2-30 exists when the month has 30 days", CustomerUpdate{Birthday: ptr("1990-02-30"), BirthdayCalendar: ptr(CalendarLunar)}, nil, ""},
		{"lunar day past a 29-day month", CustomerUpdate{Birthday: ptr("1900-01-30"), BirthdayCalendar: ptr(CalendarLunar)}, nil, "birthday"},
		{"lunar leap month", CustomerUpdate{Birthday: ptr("2017-05-01"), BirthdayCalendar: ptr(CalendarLunar), BirthdayLeapMonth: ptr(true)}, &Birthday{Date: Date{2017, 5, 1}, Calendar: CalendarLunar, LeapMonth: true}, ""},
		{"leap flag on a month with no leap", CustomerUpdate{Birthday: ptr("2017-06-01"), BirthdayCalendar: ptr(CalendarLunar), BirthdayLeapMonth: ptr(true)}, nil, "birthday"},
		{"lunar outside the table is kept", CustomerUpdate{Birthday: ptr("2051-01-01"), BirthdayCalendar: ptr(CalendarLunar)}, &Birthday{Date: Date{2051, 1, 1}, Calendar: CalendarLunar}, ""},
		{"leap flag on a solar date", CustomerUpdate{Birthday: ptr("1990-01-01"), BirthdayLeapMonth: ptr(true)}, nil, "birthday_leap_month"},
		{"calendar without a birthday", CustomerUpdate{BirthdayCalendar: ptr(CalendarLunar)}, nil, "birthday_calendar"},
		{"lunar month 13", CustomerUpdate{Birthday: ptr("1990-13-01"), BirthdayCalendar: ptr(CalendarLunar)}, nil, "birthday"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := Prepare("c-1", tc.f, "KR")
			if tc.badField != "" {
				var bad *BadRequest
				if !errors.As(err, &bad) || bad.Errors[0].Field != tc.badField {
					t.Fatalf("want a 400 naming %s, got %v", tc.badField, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != nil && *u.Birthday != *tc.want {
				t.Fatalf("birthday = %+v, want %+v", *u.Birthday, *tc.want)
			}
		})
	}
}

// A customer's number is read once for its repeats, and for that customer only: another's
// same number is read for itself, and one that does not parse is read, and refused, each
// time.
func TestACustomersPhoneIsReadOnceForIt(t *testing.T) {
	const raw = "010-2222-3333"
	first, err := Prepare("c-phone-1", CustomerUpdate{Phone: ptr(raw)}, "KR")
	if err != nil {
		t.Fatal(err)
	}
	if !customerPhones.Contains(phoneKey{"c-phone-1", raw, "KR"}) {
		t.Fatal("the customer's number was not kept")
	}
	again, err := Prepare("c-phone-1", CustomerUpdate{Phone: ptr(raw)}, "KR")
	if err != nil || *again.Phone != *first.Phone || first.Phone.E164 != "+821022223333" {
		t.Fatalf("read again: %+v (%v), first %+v", again.Phone, err, first.Phone)
	}
	if customerPhones.Contains(phoneKey{"c-phone-2", raw, "KR"}) {
		t.Error("another customer's number is kept before it was read")
	}
	for range 2 {
		if _, err := Prepare("c-phone-1", CustomerUpdate{Phone: ptr("12345")}, "KR"); err == nil {
			t.Fatal("a number that does not parse was accepted")
		}
	}
	if customerPhones.Contains(phoneKey{"c-phone-1", "12345", "KR"}) {
		t.Error("a number that does not parse was kept")
	}
}

func TestPreparePhoneIsUndeliverable(t *testing.T) {
	_, err := Prepare("c-1", CustomerUpdate{Phone: ptr("12345")}, "KR")
	var fe FieldErrors
	if !errors.As(err, &fe) || fe[0].Field != "phone" {
		t.Fatalf("want a 422 naming phone, got %v", err)
	}
}

func TestPrepareVendorsNamedTwice(t *testing.T) {
	_, err := Prepare("c-1", CustomerUpdate{Vendors: []Vendor{"happytalk", "happytalk"}}, "KR")
	var bad *BadRequest
	if !errors.As(err, &bad) || bad.Errors[0].Field != "vendors[1]" {
		t.Fatalf("got %v", err)
	}
}

func TestSummarize(t *testing.T) {
	r := func(ss ...Status) map[Vendor]VendorResult {
		m := map[Vendor]VendorResult{}
		for i, s := range ss {
			m[Vendor(fmt.Sprint("v", i))] = VendorResult{Status: s}
		}
		return m
	}
	tests := []struct {
		results map[Vendor]VendorResult
		want    Outcome
		status  int
	}{
		{r(StatusOK, StatusOK, StatusSkipped), OutcomeOK, 200},
		{r(StatusOK, StatusQueued, StatusSkipped), OutcomeQueued, 202},
		{r(StatusOK, StatusRejected, StatusSkipped), OutcomePartial, 207},
		{r(StatusOK, StatusFailed, StatusOK), OutcomePartial, 207},
		{r(StatusRejected, StatusFailed, StatusSkipped), OutcomeFailed, 502},
		{r(StatusQueued, StatusRejected), OutcomePartial, 207},
	}
	for _, tc := range tests {
		got := Summarize(tc.results)
		if got != tc.want || got.HTTPStatus() != tc.status {
			t.Errorf("Summarize(%v) = %s (%d), want %s (%d)", tc.results, got, got.HTTPStatus(), tc.want, tc.status)
		}
	}
}

func TestKnownRegion(t *testing.T) {
	for region, want := range map[string]bool{"KR": true, "VN": true, "US": true, "XX": false, "kr": false, "": false} {
		if got := KnownRegion(region); got != want {
			t.Errorf("KnownRegion(%q) = %v", region, got)
		}
	}
}
