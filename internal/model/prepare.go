package model

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/customergateway/gateway/internal/lunar"
)

// Prepare applies the canonical rules that the OpenAPI document cannot express and parses
// the values every adapter needs. Malformed values (a solar date that does not exist, a
// lunar date the table refuses) come back as BadRequest: the caller's data is wrong. A
// phone that does not parse comes back as Undeliverable (DESIGN.md 2.2 lists it with 422).
func Prepare(customerID string, f CustomerUpdate, defaultRegion string) (*Update, error) {
	u := &Update{CustomerID: customerID, Fields: f}
	var bad, undeliverable FieldErrors

	if f.Phone != nil {
		p, err := ParsePhone(*f.Phone, defaultRegion)
		if err != nil {
			undeliverable = append(undeliverable, FieldError{Field: "phone", Message: err.Error()})
		} else {
			u.Phone = &p
		}
	}
	b, errs := prepareBirthday(f)
	bad = append(bad, errs...)
	u.Birthday = b

	seen := map[Vendor]bool{}
	for i, v := range f.Vendors {
		if seen[v] {
			bad = append(bad, FieldError{Field: fmt.Sprintf("vendors[%d]", i), Message: fmt.Sprintf("%s is named twice", v)})
			continue
		}
		seen[v] = true
		u.Targets = append(u.Targets, v)
	}
	for name := range f.Attributes {
		if name == "" || utf8.RuneCountInString(name) > 64 {
			bad = append(bad, FieldError{Field: "attributes", Message: "attribute names are 1-64 characters"})
		}
	}
	if len(bad) > 0 {
		return nil, &BadRequest{Errors: bad}
	}
	if len(undeliverable) > 0 {
		return nil, undeliverable
	}
	return u, nil
}

func prepareBirthday(f CustomerUpdate) (*Birthday, FieldErrors) {
	cal := CalendarSolar
	if f.BirthdayCalendar != nil {
		cal = *f.BirthdayCalendar
	}
	leap := f.BirthdayLeapMonth != nil && *f.BirthdayLeapMonth
	if f.Birthday == nil {
		var errs FieldErrors
		if f.BirthdayCalendar != nil {
			errs = append(errs, FieldError{Field: "birthday_calendar", Message: "needs birthday: the calendar is sent with the date it describes"})
		}
		if f.BirthdayLeapMonth != nil {
			errs = append(errs, FieldError{Field: "birthday_leap_month", Message: "needs birthday"})
		}
		return nil, errs
	}
	if leap && cal != CalendarLunar {
		return nil, FieldErrors{{Field: "birthday_leap_month", Message: "only a lunar birthday can fall in a leap month"}}
	}
	if cal == CalendarSolar {
		d, err := ParseDate(*f.Birthday)
		if err != nil {
			return nil, FieldErrors{{Field: "birthday", Message: "not a solar date that exists (YYYY-MM-DD)"}}
		}
		return &Birthday{Date: d, Calendar: cal}, nil
	}
	d, err := parseLunarShape(*f.Birthday)
	if err != nil {
		return nil, FieldErrors{{Field: "birthday", Message: err.Error()}}
	}
	if _, err := lunar.ToSolar(d.Year, d.Month, d.Day, leap); errors.Is(err, lunar.ErrNoSuchDate) {
		return nil, FieldErrors{{Field: "birthday", Message: err.Error()}}
	}
	// Outside the table the date may exist: a vendor with a lunar calendar takes it, and one
	// adapter leaves dob out with a warning because it cannot know the solar date.
	return &Birthday{Date: d, Calendar: cal, LeapMonth: leap}, nil
}

// parseLunarShape reads YYYY-MM-DD where a lunar day may be 30 in any month (lunar 2-30
// exists; solar 2-30 does not), so time.Parse cannot be used.
func parseLunarShape(s string) (Date, error) {
	var d Date
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return d, fmt.Errorf("not a date in the form YYYY-MM-DD: %q", s)
	}
	if _, err := fmt.Sscanf(s, "%04d-%02d-%02d", &d.Year, &d.Month, &d.Day); err != nil {
		return d, fmt.Errorf("not a date in the form YYYY-MM-DD: %q", s)
	}
	if d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 30 {
		return d, fmt.Errorf("not a lunar date: months are 1-12 and days 1-30: %q", s)
	}
	return d, nil
}

// BadRequest is a body that is well-formed JSON but whose values are malformed: 400.
type BadRequest struct {
	Errors FieldErrors
}

func (e *BadRequest) Error() string { return e.Errors.Error() }
