package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/customergateway/gateway/internal/lunar"
)

// Prepare applies the canonical rules that the OpenAPI document cannot express and parses
// the values every adapter needs. Malformed values (text that is not valid UTF-8 or holds a
// control character, a solar date that does not exist, a lunar date the table refuses)
// come back as BadRequest: the caller's data is wrong. A phone that does not parse comes
// back as Undeliverable (DESIGN.md 2.2 lists it with 422); when the update is malformed
// too, the phone is named in the BadRequest with the rest, so that one answer names every
// offending field. Errors are sorted by field.
//
// When the only errors are undeliverable ones, Prepare answers the prepared update (with
// no Phone) beside them, so that a caller may still plan it and name every field that
// cannot be delivered in one 422; the update must not be sent.
func Prepare(customerID string, f CustomerUpdate, defaultRegion string) (*Update, error) {
	u := &Update{CustomerID: customerID, Fields: f}
	var bad, undeliverable FieldErrors
	bad = append(bad, TextErrors(f)...)
	if p := TextProblem(customerID); p != "" {
		bad = append(bad, FieldError{Field: "customer_id", Message: p})
	}

	if f.Phone != nil && !named(bad, "phone") {
		p, err := customerPhone(customerID, *f.Phone, defaultRegion)
		if err != nil {
			undeliverable = append(undeliverable, FieldError{Field: "phone", Message: err.Error()})
		} else {
			u.Phone = &p
		}
	}
	if f.Gender != nil {
		switch *f.Gender {
		case GenderMale, GenderFemale, GenderOther:
		default:
			bad = addUnnamed(bad, FieldError{Field: "gender", Message: "must be male, female or other"})
		}
	}
	b, errs := prepareBirthday(f)
	bad = addUnnamed(bad, errs...)
	u.Birthday = b

	seen := map[Vendor]bool{}
	for i, v := range f.Vendors {
		if seen[v] {
			bad = addUnnamed(bad, FieldError{Field: IndexField("vendors", i), Message: fmt.Sprintf("%s is named twice", v)})
			continue
		}
		seen[v] = true
		u.Targets = append(u.Targets, v)
	}
	bad = addUnnamed(bad, refErrors(f.VendorRefs)...)
	for name := range f.Attributes {
		if name == "" || utf8.RuneCountInString(name) > 64 {
			bad = addUnnamed(bad, FieldError{Field: JoinField("attributes", name), Message: "attribute names are 1-64 characters"})
		}
	}
	if len(bad) > 0 {
		bad = addUnnamed(bad, undeliverable...)
		sortFields(bad)
		return nil, &BadRequest{Errors: bad}
	}
	if len(undeliverable) > 0 {
		sortFields(undeliverable)
		return u, undeliverable
	}
	return u, nil
}

// refErrors refuses a vendor ref that is neither a JSON string nor an integer written in
// digits within 64 bits: refs are kept as the literal sent, and a vendor reads an integer
// key with strconv, so 1e3 or 7.0 would be stored and then read as no key at all.
func refErrors(refs VendorRefs) FieldErrors {
	var errs FieldErrors
	for v, keys := range refs {
		for key, raw := range keys {
			lit := string(bytes.TrimSpace(raw))
			if strings.HasPrefix(lit, `"`) && json.Valid(raw) {
				continue
			}
			if _, err := strconv.ParseInt(lit, 10, 64); err != nil || !jsonInteger.MatchString(lit) {
				errs = append(errs, FieldError{Field: JoinField(JoinField("vendor_refs", string(v)), key),
					Message: "a vendor ref is a string, or an integer written in digits (no fraction or exponent) within 64 bits"})
			}
		}
	}
	return errs
}

// jsonInteger is an integer as JSON writes it: no sign but "-", no leading zero.
var jsonInteger = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

// named reports whether errs already name field.
func named(errs FieldErrors, field string) bool {
	for _, e := range errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

// addUnnamed adds the errors for fields errs does not name yet: one entry per field, the
// first rule that named it winning (a text problem before a length).
func addUnnamed(errs FieldErrors, more ...FieldError) FieldErrors {
	for _, e := range more {
		if !named(errs, e.Field) {
			errs = append(errs, e)
		}
	}
	return errs
}

func prepareBirthday(f CustomerUpdate) (*Birthday, FieldErrors) {
	cal := CalendarSolar
	if f.BirthdayCalendar != nil {
		cal = *f.BirthdayCalendar
	}
	if cal != CalendarSolar && cal != CalendarLunar {
		// The contract's enum says so too; a caller past it (the queue) must not have an
		// unknown calendar read as lunar here and as solar by an adapter.
		return nil, FieldErrors{{Field: "birthday_calendar", Message: "must be solar or lunar"}}
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
