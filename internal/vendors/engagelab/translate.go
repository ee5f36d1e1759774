package engagelab

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/customergateway/gateway/internal/model"
)

// contactBody is EngageLab's POST /v1/user/contact. EUID is an int64 so that a 64-bit
// id is written as an exact JSON integer, never as a float or a string.
type contactBody struct {
	EUID     int64    `json:"euid"`
	Contacts contacts `json:"contacts"`
}

// contacts maps EngageLab's contact names to their values. A struct rather than a map:
// the keys are fixed, and a struct marshals without sorting or allocating a map.
type contacts struct {
	Email       string `json:"email,omitempty"`
	MobilePhone string `json:"mobile_phone,omitempty"`
}

// fieldVendorRefsEUID is the canonical path of the EngageLab euid.
const fieldVendorRefsEUID = "vendor_refs.engagelab.euid"

// translate builds the contact update of u for euid. It answers nil, nil when no field of
// u concerns EngageLab, and FieldErrors for values EngageLab refuses: it rejects an empty
// contact value (its code 55103) and an euid below 1 (55108), so those are 422 here rather
// than a rejection after other vendors were already sent to.
func translate(u *model.Update, euid int64) (*contactBody, error) {
	var errs model.FieldErrors
	if euid < 1 {
		errs = append(errs, fieldError(fieldVendorRefsEUID, "EngageLab euids are positive integers"))
	}
	var c contacts
	set := false
	if f := u.Fields.Email; f != nil {
		set = true
		if *f == "" {
			errs = append(errs, fieldError("email", "EngageLab refuses an empty contact value; the email cannot be cleared there"))
		}
		c.Email = *f
	}
	if u.Fields.Phone != nil || u.Phone != nil {
		set = true
		c.MobilePhone = msisdn(u)
		if c.MobilePhone == "" {
			errs = append(errs, fieldError("phone", "EngageLab refuses an empty contact value; the phone cannot be cleared there"))
		}
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b model.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return nil, errs
	}
	if !set {
		return nil, nil
	}
	return &contactBody{EUID: euid, Contacts: c}, nil
}

// msisdn is the phone in EngageLab's form: E.164 digits without the "+", country code
// kept, as the document's own sample "18023456879" (+1 802 345 6879). It is empty when
// the model did not parse the phone.
func msisdn(u *model.Update) string {
	if u.Phone == nil {
		return ""
	}
	return u.Phone.MSISDN()
}

func fieldError(field, msg string) model.FieldError {
	return model.FieldError{Field: field, Vendor: Name, Message: msg}
}

// request encodes body as a POST to url with the adapter's header.
func (a *Adapter) request(url string, body any) (*model.Request, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("engagelab: encode body: %w", err)
	}
	return &model.Request{Method: http.MethodPost, URL: url, Header: a.header.Clone(), Body: b}, nil
}
